// Picks the real Tauri backend inside the app, the mock in a plain browser.
// Components import from here, never from `api.ts` or `api.mock.ts` directly.

import * as tauri from './api';
import * as mock from './api.mock';
import type { AppInfo, GatewayInfo, LogLineView, ServerView } from './api';

export type {
  AppInfo,
  GatewayInfo,
  LogLineView,
  LogStream,
  ServerState,
  ServerView,
  TokenSource,
  ToolView,
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
}

/** True inside a Tauri webview (the IPC bridge is injected before our scripts run). */
export function inTauri(): boolean {
  if (typeof window === 'undefined') return false;
  return (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__ !== undefined;
}

export const backend: Backend = inTauri() ? (tauri satisfies Backend) : (mock satisfies Backend);
