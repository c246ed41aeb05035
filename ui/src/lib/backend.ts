// Picks the real Tauri backend inside the app, the mock in a plain browser.
// Components import from here, never from `api.ts` or `api.mock.ts` directly.

import * as tauri from './api';
import * as mock from './api.mock';
import type {
  Answer,
  AppInfo,
  ApprovalSettings,
  ClientChangeRequest,
  ClientChangeResult,
  ClientFileRef,
  ClientInfo,
  ClientPlan,
  ExportFormat,
  ExportResult,
  GatewayInfo,
  ImportPlan,
  ImportResult,
  LogFilter,
  LogLineView,
  LogRow,
  PendingApproval,
  Rule,
  ServerView,
  VerifyResult,
} from './api';

export type {
  Annotations,
  Answer,
  AppInfo,
  ApprovalSettings,
  ClientAction,
  ClientChangeRequest,
  ClientChangeResult,
  ClientFileRef,
  ClientInfo,
  ClientPlan,
  ClientScope,
  ClientTarget,
  DecidedBy,
  Decision,
  DefinitionChange,
  ExportFormat,
  ExportResult,
  EntryForm,
  GatewayInfo,
  ImportCandidate,
  ImportPlan,
  ImportResult,
  LogFilter,
  LogLineView,
  LogRow,
  LogStream,
  Outcome,
  PendingApproval,
  RegistrationState,
  Rule,
  ServerState,
  ServerView,
  TokenSource,
  ToolView,
  VerifyResult,
} from './api';
export { ApiError } from './api';

export interface Backend {
  listServers(): Promise<ServerView[]>;
  appInfo(): Promise<AppInfo>;
  onServersChanged(cb: (servers: ServerView[]) => void): Promise<() => void>;
  startServer(name: string): Promise<void>;
  stopServer(name: string): Promise<void>;
  restartServer(name: string): Promise<void>;
  serverLogs(name: string): Promise<LogLineView[]>;
  gatewayInfo(): Promise<GatewayInfo>;
  copyToken(): Promise<void>;
  rotateToken(): Promise<GatewayInfo>;
  pendingApprovals(): Promise<PendingApproval[]>;
  answerApproval(id: number, answer: Answer): Promise<void>;
  onApprovalsChanged(cb: (pending: number) => void): Promise<() => void>;
  queryLog(filter: LogFilter): Promise<LogRow[]>;
  verifyLog(): Promise<VerifyResult>;
  exportLog(format: ExportFormat, filter: LogFilter): Promise<ExportResult>;
  onActivityChanged(cb: () => void): Promise<() => void>;
  setToolPolicy(server: string, tool: string, rule: Rule | null): Promise<void>;
  approvalSettings(): Promise<ApprovalSettings>;
  setApprovalSettings(settings: ApprovalSettings): Promise<void>;
  listClients(project: string | null): Promise<ClientInfo[]>;
  planClientChange(req: ClientChangeRequest): Promise<ClientPlan>;
  applyClientChange(req: ClientChangeRequest, base: string): Promise<ClientChangeResult>;
  undoClientChange(file: ClientFileRef): Promise<ClientChangeResult>;
  planClientImport(file: ClientFileRef): Promise<ImportPlan>;
  applyClientImport(file: ClientFileRef, replace: boolean, base: string | null): Promise<ImportResult>;
  pickProjectDir(): Promise<string | null>;
  onClientsChanged(cb: () => void): Promise<() => void>;
}

/** True inside a Tauri webview (the IPC bridge is injected before our scripts run). */
export function inTauri(): boolean {
  if (typeof window === 'undefined') return false;
  return (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__ !== undefined;
}

export const backend: Backend = inTauri() ? (tauri satisfies Backend) : (mock satisfies Backend);
