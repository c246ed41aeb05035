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

export interface ToolView {
  name: string;
  title: string | null;
  description: string | null;
  readOnly: boolean;
  destructive: boolean;
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

/** Name of the event the Rust side emits whenever any server changes. */
export const SERVERS_CHANGED = 'servers-changed';

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
