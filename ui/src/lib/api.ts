// The typed IPC boundary to the Rust side.
//
// This is the ONLY module that talks to Tauri (`@tauri-apps/api/core` and
// `@tauri-apps/api/event`). Components never import it directly; they go
// through `backend.ts`, which swaps in `api.mock.ts` in a plain browser.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';

export type ServerState =
  | 'disabled'
  | 'stopped'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'backing_off'
  | 'failed';

/** What happens to a call of a tool: run it, ask a person first, or refuse it. */
export type Rule = 'allow' | 'ask' | 'deny';

export interface ToolView {
  name: string;
  title: string | null;
  description: string | null;
  readOnly: boolean;
  destructive: boolean;
  /** The user's rule for this tool; null means the default applies. */
  rule: Rule | null;
  /** What actually happens to a call now. */
  effective: Rule;
  /** Why `effective` is what it is, e.g. "read-only", "destructive", "your rule", "always allowed". */
  effectiveReason: string;
  /** What "Default" means for this tool. */
  defaultRule: Rule;
  /** Someone answered "Always allow this tool" (suspended while `changed`). */
  alwaysAllow: boolean;
  /** The tool's definition changed since it was last allowed. */
  changed: boolean;
}

export interface ServerView {
  /** May be long (up to 64 chars), `[A-Za-z0-9_-]`. */
  name: string;
  state: ServerState;
  /** As configured, e.g. "npx" or "gatehouse". */
  command: string;
  args: string[];
  /** Absolute path once resolved, null if not found. */
  resolvedCommand: string | null;
  pid: number | null;
  /** How many times Gatehouse restarted it after a crash. */
  restarts: number;
  /** Empty until running. */
  tools: ToolView[];
  /** Human sentence: failure reason, or null. */
  detail: string | null;
  /** Unix ms when the server entered its current state. */
  since: number | null;
}

/** Where a log line came from: the server's stderr or stdout, or Gatehouse itself. */
export type LogStream = 'stderr' | 'stdout' | 'gatehouse';

export interface LogLineView {
  /** Unix ms when the line was read. */
  timeMs: number;
  stream: LogStream;
  /** One line, without the trailing newline. */
  text: string;
}

export interface AppInfo {
  version: string;
  configPath: string;
  dataDir: string;
  logsDir: string;
}

/** Where the gateway's bearer token comes from. Only a keyring token can be rotated. */
export type TokenSource = 'keyring' | 'flag' | 'env';

/** The loopback MCP endpoint (the gateway) as the Settings view shows it. */
export interface GatewayInfo {
  /** e.g. "http://127.0.0.1:8737/mcp"; null when the gateway is not running. */
  url: string | null;
  /** The address it listens on, e.g. "127.0.0.1:8737" (the configured one when not running). */
  addr: string;
  /** Why it is not running (a sentence), else null. */
  error: string | null;
  /** `keyring`, `flag` (`--token`) or `env` (`$GATEHOUSE_TOKEN`). */
  tokenSource: TokenSource;
  /** The token masked for display, e.g. "3f9a…c21b"; never the whole token. */
  tokenHint: string;
  /** Per-server endpoint, e.g. "http://127.0.0.1:8737/mcp/{server}"; null when not running. */
  serverUrlTemplate: string | null;
}

/** The MCP tool annotations, as hints the server gave (they are not guarantees). */
export interface Annotations {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  openWorld: boolean;
}

/** One difference between a tool's definition now and when it was last allowed. */
export interface DefinitionChange {
  /** Where in the definition, e.g. "description" or "inputSchema.properties.mode". */
  path: string;
  /** undefined (absent from the JSON) when the field is new. */
  before: unknown;
  /** undefined (absent from the JSON) when the field was removed. */
  after: unknown;
}

/** A tool call waiting for a person to allow or deny it. */
export interface PendingApproval {
  id: number;
  server: string;
  tool: string;
  title: string | null;
  description: string | null;
  annotations: Annotations;
  /** The call's arguments, with secrets already replaced by "****". */
  arguments: unknown;
  /** The MCP client that made the call, as `name/version`. */
  client: string;
  /** Why Gatehouse asks, e.g. "`delete_note` is marked destructive." (backticks mark code). */
  reasonText: string;
  /** Empty unless the definition changed since the tool was last allowed. */
  changes: DefinitionChange[];
  /** Unix ms when the call arrived. */
  askedAtMs: number;
  /** Unix ms when Gatehouse denies it for want of an answer. */
  deadlineMs: number;
}

export type Answer = 'allow_once' | 'allow_always' | 'deny';
export type Decision = 'allowed' | 'denied';
/** Who decided: a rule, a person (in the dialog or with the CLI), the timeout, or the client (it gave up). */
export type DecidedBy = 'rule' | 'dialog' | 'cli' | 'timeout' | 'client';
export type Outcome = 'ok' | 'error' | 'cancelled' | 'not_run';

/** One row of the call log. Rows are never changed once written (they are hash-chained). */
export interface LogRow {
  /** 1, 2, 3… in the order calls finished. */
  id: number;
  /** Unix ms when the call arrived. */
  timeMs: number;
  client: string;
  server: string;
  tool: string;
  /** The arguments as JSON text, secrets masked. */
  arguments: string;
  /** SHA-256 of `arguments`, hex. */
  argumentsHash: string;
  /** The rule that applied. */
  policy: Rule;
  decision: Decision;
  decidedBy: DecidedBy;
  /** How long the call waited for a decision. */
  waitMs: number;
  outcome: Outcome;
  /** e.g. the server's error message. */
  outcomeDetail: string | null;
  /** How long the server took (0 if it never ran). */
  durationMs: number;
  /** This row's chain hash, hex. */
  hash: string;
}

/** Which rows `query_log` and `export_log` return, newest first. Absent means "any". */
export interface LogFilter {
  server?: string;
  /** Exact tool name. */
  tool?: string;
  decision?: Decision;
  /** Only calls at or after this Unix ms. */
  sinceMs?: number;
  /** Text the arguments contain (ASCII case-insensitive). */
  search?: string;
  limit?: number;
  offset?: number;
}

export interface VerifyResult {
  ok: boolean;
  rows: number;
  /** A sentence; when not ok, it names the first bad row. */
  message: string;
}

export type ExportFormat = 'json' | 'csv';

export interface ExportResult {
  /** Where the file was saved. */
  path: string;
  rows: number;
}

export interface ApprovalSettings {
  /** How long a call waits for an answer before it is denied (10..3600). */
  timeoutSecs: number;
  /** Ask before every call of a tool not annotated read-only. */
  askNonReadOnly: boolean;
  /** Days the call log keeps rows; 0 keeps them forever. */
  retentionDays: number;
}

/** Which of a client's files: the user-wide one, or a project's. */
export type ClientScope = 'user' | 'project';

/**
 * registered: Gatehouse's entry is there and current; outdated: it is there
 * but points at an old address, binary or token; absent: no entry;
 * unreadable: the file does not parse (`detail` says where).
 */
export type RegistrationState = 'registered' | 'outdated' | 'absent' | 'unreadable';

/** What Gatehouse's entry is: the HTTP endpoint with the token header, or the `gatehouse bridge` command. */
export type EntryForm = 'http' | 'stdio';

/** One of a client's config files, as Gatehouse sees it. */
export interface ClientTarget {
  scope: ClientScope;
  /** Absolute path of the file Gatehouse writes for this scope. */
  path: string;
  state: RegistrationState;
  /** What the entry is: the HTTP endpoint with the token header, or the `gatehouse bridge` command. */
  form: EntryForm;
  /** Why outdated / unreadable, in a sentence (e.g. "line 4, column 3: unexpected comment"); null otherwise. */
  detail: string | null;
  /** Servers the client has besides Gatehouse's entries (importable), by name. */
  otherServers: string[];
  /** Gatehouse servers that have a per-server entry (`gatehouse-<server>`) in this file. */
  serverEntries: string[];
  /** A backup exists that Undo would restore. */
  canUndo: boolean;
}

/** An AI client Gatehouse can register itself with. */
export interface ClientInfo {
  /**
   * Stable id used in commands and on the CLI: 'claude-desktop', 'claude-code', 'cursor', 'vscode',
   * 'windsurf', 'zed', 'cline', 'roo-code', 'gemini', 'codex', 'lm-studio', 'goose', 'opencode',
   * 'kiro', 'continue'.
   */
  id: string;
  name: string;
  /** The client looks installed (its config dir or program exists). */
  installed: boolean;
  /** The user-wide file; null if the client has none. */
  user: ClientTarget | null;
  /** The project's file when a project was given and the client has a project scope; null otherwise. */
  project: ClientTarget | null;
  supportsProject: boolean;
  /** What to do after a write, e.g. "Quit Claude Desktop completely and open it again." */
  nextStep: string;
  /** A caveat worth showing (backticks mark code), or null. */
  note: string | null;
}

export type ClientAction = 'register' | 'unregister';

/** A change to one client file, to preview (`plan_client_change`) and then make. */
export interface ClientChangeRequest {
  client: string;
  scope: ClientScope;
  /** Project directory; required when scope is 'project'. */
  project: string | null;
  action: ClientAction;
  /** A per-server entry (`gatehouse-<server>`) instead of the aggregate `gatehouse` entry; null = aggregate. */
  server: string | null;
}

/** What a change would do to the file. */
export interface ClientPlan {
  path: string;
  /** Unified diff of the file (the token masked); empty when nothing would change. */
  diff: string;
  changed: boolean;
  /** The file does not exist yet and would be created. */
  creates: boolean;
  /** Opaque; pass back to apply so it refuses if the file changed since the plan was shown. */
  base: string;
  /** The client's own command makes the change (`claude mcp` for Claude Code's state file). */
  byClientCommand: boolean;
}

/** A change made (or undone). */
export interface ClientChangeResult {
  path: string;
  /** Where the previous version was saved, or null if the file was new. */
  backup: string | null;
  nextStep: string;
}

/** Which client file: `{ client, scope, project }`, as undo and import take it. */
export interface ClientFileRef {
  client: string;
  scope: ClientScope;
  /** Project directory; required when scope is 'project'. */
  project: string | null;
}

/** One of a client's own servers, as Gatehouse would import it. */
export interface ImportCandidate {
  name: string;
  /** command and args as one display string. */
  command: string;
  /** Env var names whose values look secret and will move to the OS keyring. */
  secrets: string[];
  /** Env var names kept as plain config. */
  plainEnv: string[];
  /** Why it cannot be imported (e.g. "remote servers (url) are not imported"), or null. */
  skip: string | null;
}

/** What an import would do (`plan_client_import`). */
export interface ImportPlan {
  candidates: ImportCandidate[];
  /**
   * The change to the client's file if the importable servers are replaced there by Gatehouse's entry
   * (credentials and token masked); null when nothing can be imported.
   */
  replacement: ClientPlan | null;
}

export interface ImportResult {
  imported: string[];
  /** Secrets moved into the keyring, "server/KEY". */
  movedSecrets: string[];
  /** True if the client's imported entries were replaced by the Gatehouse entry. */
  replaced: boolean;
  path: string;
  nextStep: string;
}

/** Name of the event the Rust side emits whenever any server changes. */
export const SERVERS_CHANGED = 'servers-changed';
/** Emitted when a call starts or stops waiting for approval; the payload is how many wait. */
export const APPROVALS_CHANGED = 'approvals-changed';
/** Emitted when a row was added to the call log (no payload). */
export const ACTIVITY_CHANGED = 'activity-changed';
/** Emitted when a client's config file may have changed (no payload). */
export const CLIENTS_CHANGED = 'clients-changed';

/**
 * Every rejection from this module is an `ApiError`. The Rust side rejects
 * with `{ kind, message }`; anything else is wrapped with kind "Unknown".
 */
export class ApiError extends Error {
  readonly kind: string;

  constructor(kind: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Normalise anything thrown or rejected by Tauri into an `ApiError`. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (typeof err === 'string') return new ApiError('Unknown', err || 'Unknown error');
  if (isRecord(err)) {
    const kind = typeof err.kind === 'string' && err.kind !== '' ? err.kind : 'Unknown';
    const message =
      typeof err.message === 'string' && err.message !== ''
        ? err.message
        : kind !== 'Unknown'
          ? kind
          : safeStringify(err);
    return new ApiError(kind, message);
  }
  if (err === undefined || err === null) return new ApiError('Unknown', 'Unknown error');
  return new ApiError('Unknown', String(err));
}

function safeStringify(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined || text === '{}' ? 'Unknown error' : text;
  } catch {
    return 'Unknown error';
  }
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (err) {
    throw toApiError(err);
  }
}

/** A command with no result (Tauri resolves those with `null`); resolves to undefined. */
async function act(cmd: string, args?: Record<string, unknown>): Promise<void> {
  await call<unknown>(cmd, args);
}

/** List every configured server with its current state (`list_servers`). */
export function listServers(): Promise<ServerView[]> {
  return call<ServerView[]>('list_servers');
}

/** Version and well-known paths of the running app (`app_info`). */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>('app_info');
}

/** Start a stopped, failed or disabled server (`start_server`). */
export function startServer(name: string): Promise<void> {
  return act('start_server', { name });
}

/** Stop a server; resolves once it has fully stopped, which can take seconds (`stop_server`). */
export function stopServer(name: string): Promise<void> {
  return act('stop_server', { name });
}

/** Stop and start a server again (`restart_server`). */
export function restartServer(name: string): Promise<void> {
  return act('restart_server', { name });
}

/** The server's last (up to 1000) log lines, oldest first (`server_logs`). */
export function serverLogs(name: string): Promise<LogLineView[]> {
  return call<LogLineView[]>('server_logs', { name });
}

/** The gateway's address, status and masked token (`gateway_info`). */
export function gatewayInfo(): Promise<GatewayInfo> {
  return call<GatewayInfo>('gateway_info');
}

/**
 * Put the gateway token on the clipboard (`copy_token`). The Rust side does
 * the copying, so the token itself never enters the web view.
 */
export function copyToken(): Promise<void> {
  return act('copy_token');
}

/**
 * Replace the keyring token with a new one (`rotate_token`) and return the new
 * state. Clients configured with the old token stop working until updated.
 */
export function rotateToken(): Promise<GatewayInfo> {
  return call<GatewayInfo>('rotate_token');
}

/** Subscribe to `servers-changed` (full snapshot each time); resolves to an unlisten function. */
export async function onServersChanged(cb: (servers: ServerView[]) => void): Promise<() => void> {
  try {
    return await listen<ServerView[]>(SERVERS_CHANGED, (event) => cb(event.payload));
  } catch (err) {
    throw toApiError(err);
  }
}

/** The calls waiting for an answer (`pending_approvals`). */
export function pendingApprovals(): Promise<PendingApproval[]> {
  return call<PendingApproval[]>('pending_approvals');
}

/**
 * Answer a waiting call (`answer_approval`). Rejects with kind "NotPending"
 * when it no longer waits (answered elsewhere, timed out or withdrawn).
 */
export function answerApproval(id: number, answer: Answer): Promise<void> {
  return act('answer_approval', { id, answer });
}

/** Rows of the call log, newest first (`query_log`). */
export function queryLog(filter: LogFilter): Promise<LogRow[]> {
  return call<LogRow[]>('query_log', { filter });
}

/** Check the call log's hash chain (`verify_log`). */
export function verifyLog(): Promise<VerifyResult> {
  return call<VerifyResult>('verify_log');
}

/** Save the rows matching `filter` to a file (`export_log`); the Rust side picks the path. */
export function exportLog(format: ExportFormat, filter: LogFilter): Promise<ExportResult> {
  return call<ExportResult>('export_log', { format, filter });
}

/** Set (or with null, clear) the user's rule for one tool (`set_tool_policy`). */
export function setToolPolicy(server: string, tool: string, rule: Rule | null): Promise<void> {
  return act('set_tool_policy', { server, tool, rule });
}

/** Timeout, ask-before-writes and retention (`approval_settings`). */
export function approvalSettings(): Promise<ApprovalSettings> {
  return call<ApprovalSettings>('approval_settings');
}

/** Save the approval settings (`set_approval_settings`); rejects if a value is out of range. */
export function setApprovalSettings(settings: ApprovalSettings): Promise<void> {
  return act('set_approval_settings', { settings });
}

async function subscribe<T>(event: string, cb: (payload: T) => void): Promise<() => void> {
  try {
    return await listen<T>(event, (e) => cb(e.payload));
  } catch (err) {
    throw toApiError(err);
  }
}

/** Subscribe to `approvals-changed` (how many calls wait); resolves to an unlisten function. */
export function onApprovalsChanged(cb: (pending: number) => void): Promise<() => void> {
  return subscribe<number>(APPROVALS_CHANGED, cb);
}

/** Subscribe to `activity-changed` (a row was logged); resolves to an unlisten function. */
export function onActivityChanged(cb: () => void): Promise<() => void> {
  return subscribe<null>(ACTIVITY_CHANGED, () => cb());
}

/** Every client Gatehouse knows, with its files' states; `project` adds each client's project file (`list_clients`). */
export function listClients(project: string | null): Promise<ClientInfo[]> {
  return call<ClientInfo[]>('list_clients', { project });
}

/** What registering or unregistering would do to a client's file, as a diff (`plan_client_change`). */
export function planClientChange(req: ClientChangeRequest): Promise<ClientPlan> {
  return call<ClientPlan>('plan_client_change', changeArgs(req));
}

function changeArgs(req: ClientChangeRequest): Record<string, unknown> {
  const { client, scope, project, action, server } = req;
  return { client, scope, project, action, server };
}

/**
 * Make a change shown with `planClientChange` (`apply_client_change`). Rejects
 * (kind "ChangedSince") if the file changed since that plan: plan it again.
 */
export function applyClientChange(req: ClientChangeRequest, base: string): Promise<ClientChangeResult> {
  return call<ClientChangeResult>('apply_client_change', { ...changeArgs(req), base });
}

/** Put back the file as it was before Gatehouse's last change (`undo_client_change`). */
export function undoClientChange(file: ClientFileRef): Promise<ClientChangeResult> {
  const { client, scope, project } = file;
  return call<ClientChangeResult>('undo_client_change', { client, scope, project });
}

/**
 * The client's own servers in that file, as Gatehouse would import them, and
 * the change replacing them would make to the file (`plan_client_import`).
 */
export function planClientImport(file: ClientFileRef): Promise<ImportPlan> {
  const { client, scope, project } = file;
  return call<ImportPlan>('plan_client_import', { client, scope, project });
}

/**
 * Import the client's servers into Gatehouse, secrets into the keyring
 * (`apply_client_import`); with `replace`, the client's entries give way to
 * Gatehouse's. `base` is the shown `replacement.base` when `replace` (null
 * otherwise): if the file changed since, it rejects (kind "ChangedSince")
 * and imports nothing: plan it again.
 */
export function applyClientImport(file: ClientFileRef, replace: boolean, base: string | null): Promise<ImportResult> {
  const { client, scope, project } = file;
  return call<ImportResult>('apply_client_import', { client, scope, project, replace, base });
}

/** The native folder picker (`pick_project_dir`); null if cancelled. */
export function pickProjectDir(): Promise<string | null> {
  return call<string | null>('pick_project_dir');
}

/** Subscribe to `clients-changed` (reload the list); resolves to an unlisten function. */
export function onClientsChanged(cb: () => void): Promise<() => void> {
  return subscribe<null>(CLIENTS_CHANGED, () => cb());
}
