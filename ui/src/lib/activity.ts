// The Activity view's filter controls, and how they become a `LogFilter`.

import type { Decision, LogFilter } from './api';

/** Rows per page of the call log ("Load more" fetches the next ones). */
export const PAGE_SIZE = 200;

export const SINCE_OPTIONS = [
  { id: 'any', label: 'Any time', spanMs: null },
  { id: 'hour', label: 'Last hour', spanMs: 3_600_000 },
  { id: 'day', label: 'Last 24 hours', spanMs: 24 * 3_600_000 },
  { id: 'week', label: 'Last 7 days', spanMs: 7 * 24 * 3_600_000 },
] as const;

export type SinceId = (typeof SINCE_OPTIONS)[number]['id'];

/** What the filter controls hold; empty text means "any". */
export interface ActivityFilter {
  server: string;
  tool: string;
  decision: Decision | '';
  since: SinceId;
  search: string;
}

export const NO_FILTER: ActivityFilter = { server: '', tool: '', decision: '', since: 'any', search: '' };

/** Whether any control narrows the rows. */
export function isFiltered(f: ActivityFilter): boolean {
  return f.server !== '' || f.tool.trim() !== '' || f.decision !== '' || f.since !== 'any' || f.search !== '';
}

/** The `LogFilter` for the controls, without paging; "since" counts back from `now`. */
export function toLogFilter(f: ActivityFilter, now: number): LogFilter {
  const out: LogFilter = {};
  if (f.server !== '') out.server = f.server;
  const tool = f.tool.trim();
  if (tool !== '') out.tool = tool;
  if (f.decision !== '') out.decision = f.decision;
  const span = SINCE_OPTIONS.find((o) => o.id === f.since)?.spanMs ?? null;
  if (span !== null) out.sinceMs = now - span;
  // Not trimmed: the search matches the arguments' text as typed.
  if (f.search !== '') out.search = f.search;
  return out;
}
