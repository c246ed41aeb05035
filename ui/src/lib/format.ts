// Pure presentation helpers: no DOM, no Tauri, easy to unit-test.

import type { ServerState, ServerView, ToolView } from './api';

export type Tone = 'ok' | 'pending' | 'bad' | 'idle';

/** Colour family of a state: running green, transitional amber, failed red, idle grey. */
export function stateTone(state: ServerState): Tone {
  switch (state) {
    case 'running':
      return 'ok';
    case 'starting':
    case 'stopping':
    case 'backing_off':
      return 'pending';
    case 'failed':
      return 'bad';
    case 'stopped':
    case 'disabled':
      return 'idle';
  }
}

/** The state as a person reads it: `backing_off` → `backing off`. */
export function stateLabel(state: ServerState): string {
  return state.replace('_', ' ');
}

/** One-line explanation of a state, for tooltips and screen readers. */
export function stateDescription(state: ServerState): string {
  switch (state) {
    case 'running':
      return 'Running and serving tools';
    case 'starting':
      return 'Starting up';
    case 'stopping':
      return 'Shutting down';
    case 'backing_off':
      return 'Exited unexpectedly; waiting before the next restart';
    case 'failed':
      return 'Failed; not retrying';
    case 'stopped':
      return 'Stopped';
    case 'disabled':
      return 'Disabled in the config';
  }
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export interface SummaryPart {
  text: string;
  tone: Tone | null;
}

/** Counts per state, in display order, for the header summary. */
export function summaryParts(servers: readonly ServerView[]): SummaryPart[] {
  const count = (...states: ServerState[]) =>
    servers.filter((s) => states.includes(s.state)).length;

  const total = servers.length;
  if (total === 0) return [{ text: 'No servers', tone: null }];

  const parts: SummaryPart[] = [{ text: plural(total, 'server'), tone: null }];
  const running = count('running');
  const starting = count('starting');
  const retrying = count('backing_off');
  const stopping = count('stopping');
  const failed = count('failed');

  if (running > 0) parts.push({ text: `${running} running`, tone: 'ok' });
  if (starting > 0) parts.push({ text: `${starting} starting`, tone: 'pending' });
  if (retrying > 0) parts.push({ text: `${retrying} retrying`, tone: 'pending' });
  if (stopping > 0) parts.push({ text: `${stopping} stopping`, tone: 'pending' });
  if (failed > 0) parts.push({ text: `${failed} failed`, tone: 'bad' });
  if (parts.length === 1) parts.push({ text: 'none running', tone: 'idle' });
  return parts;
}

/** e.g. "3 servers · 2 running · 1 failed". */
export function formatSummary(servers: readonly ServerView[]): string {
  return summaryParts(servers)
    .map((p) => p.text)
    .join(' · ');
}

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one argument the way a POSIX shell user would type it. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (SHELL_SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** `command args…` as a copy-pasteable line. */
export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map(shellQuote).join(' ');
}

export type ToolBadge = 'read-only' | 'destructive' | 'writes';

/** read-only wins over destructive (a read-only tool cannot destroy anything). */
export function toolBadge(tool: Pick<ToolView, 'readOnly' | 'destructive'>): ToolBadge {
  if (tool.readOnly) return 'read-only';
  if (tool.destructive) return 'destructive';
  return 'writes';
}

/** Compact elapsed time: "now", "42s", "5m", "3h 4m", "2d 1h". */
export function formatDuration(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 5) return 'now';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d ${h % 24}h`;
}

/** How long a server has been in its state, or null if unknown. */
export function formatSince(since: number | null, now: number): string | null {
  if (since === null || !Number.isFinite(since)) return null;
  return formatDuration(now - since);
}

/** Tool count label, e.g. "4 tools". */
export function toolCountLabel(n: number): string {
  return plural(n, 'tool');
}

export type ServerAction = 'start' | 'stop' | 'restart';

/** Display order of the row's action buttons. */
export const SERVER_ACTIONS: readonly ServerAction[] = ['start', 'stop', 'restart'];

/** Whether an action makes sense in a state (`stopping` allows none: wait for it). */
export function canRun(action: ServerAction, state: ServerState): boolean {
  switch (action) {
    case 'start':
      return state === 'stopped' || state === 'failed' || state === 'disabled';
    case 'stop':
      return state === 'starting' || state === 'running' || state === 'backing_off';
    case 'restart':
      return state === 'running' || state === 'backing_off' || state === 'failed';
  }
}

/** The actions offered for a state, in display order. */
export function availableActions(state: ServerState): ServerAction[] {
  return SERVER_ACTIONS.filter((a) => canRun(a, state));
}

const ACTION_WORDS: Record<ServerAction, { label: string; busy: string }> = {
  start: { label: 'Start', busy: 'Starting…' },
  stop: { label: 'Stop', busy: 'Stopping…' },
  restart: { label: 'Restart', busy: 'Restarting…' },
};

/** Button label, e.g. "Stop", or "Stopping…" while the request is in flight. */
export function actionLabel(action: ServerAction, busy = false): string {
  const words = ACTION_WORDS[action];
  return busy ? words.busy : words.label;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time of a log line, "HH:MM:SS" (24 h). */
export function formatClock(timeMs: number): string {
  const d = new Date(timeMs);
  if (Number.isNaN(d.getTime())) return '--:--:--';
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** ISO 8601 form of a Unix-ms time (for `<time datetime>`), or undefined if invalid. */
export function isoTime(timeMs: number): string | undefined {
  const d = new Date(timeMs);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Minutes and seconds left, "1:53", rounded up so it never reads 0:00 while time remains. */
export function formatCountdown(ms: number): string {
  const s = Math.ceil(Math.max(0, ms) / 1000);
  return `${Math.floor(s / 60)}:${pad2(s % 60)}`;
}

/** A short span in milliseconds: "0 ms", "850 ms", "1.4 s", "2m 05s". */
export function formatMillis(ms: number): string {
  const v = Math.max(0, Math.round(ms));
  if (v < 1000) return `${v} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  const s = Math.floor(v / 1000);
  return `${Math.floor(s / 60)}m ${pad2(s % 60)}s`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Local time of a logged call: "14:03:07" today, "Nov 19 14:03" before today. */
export function formatLogTime(timeMs: number, now: number): string {
  const d = new Date(timeMs);
  if (Number.isNaN(d.getTime())) return '--:--:--';
  if (d.toDateString() === new Date(now).toDateString()) return formatClock(timeMs);
  return `${MONTHS[d.getMonth()]} ${d.getDate()} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

export interface TextSpan {
  text: string;
  code: boolean;
}

/** Split a sentence on backticks, as the Rust side marks names: "`x` is destructive." */
export function codeSpans(text: string): TextSpan[] {
  return text
    .split('`')
    .map((part, i) => ({ text: part, code: i % 2 === 1 }))
    .filter((span) => span.text !== '');
}
