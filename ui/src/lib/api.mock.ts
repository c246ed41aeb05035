// Mock twin of `api.ts`: same exports, canned data, no Tauri.
//
// Used by unit tests and by `npm run dev` / `vite preview` in a plain browser.
// Pick a scenario with the URL query `?mock=empty|demo|failed|many|error|live`
// (default: demo).

import { ApiError, SERVERS_CHANGED } from './api';
import type { AppInfo, ServerState, ServerView, ToolView } from './api';

export { ApiError, SERVERS_CHANGED };
export type { AppInfo, ServerState, ServerView, ToolView };

export const MOCK_SCENARIOS = ['empty', 'demo', 'failed', 'many', 'error', 'live'] as const;
export type MockScenario = (typeof MOCK_SCENARIOS)[number];

export const MOCK_APP_INFO: AppInfo = {
  version: '0.1.0',
  configPath: '/home/dev/.config/gatehouse/config.toml',
  dataDir: '/home/dev/.local/share/gatehouse',
  logsDir: '/home/dev/.local/share/gatehouse/logs',
};

const MINUTE = 60_000;

function tool(
  name: string,
  title: string | null,
  description: string | null,
  readOnly: boolean,
  destructive: boolean,
): ToolView {
  return { name, title, description, readOnly, destructive };
}

/** The four tools of the bundled `gatehouse demo-notes` server. */
export const NOTES_TOOLS: ToolView[] = [
  tool('list_notes', 'List notes', 'List the titles and ids of every saved note.', true, false),
  tool('read_note', 'Read note', 'Return the full text of one note by id.', true, false),
  tool('add_note', 'Add note', 'Create a new note with a title and body.', false, false),
  tool('delete_note', 'Delete note', 'Permanently delete a note by id.', false, true),
];

/** A server view with defaults for everything but what the caller gives. */
export function server(partial: Partial<ServerView> & Pick<ServerView, 'name' | 'state'>): ServerView {
  return {
    command: 'npx',
    args: [],
    resolvedCommand: null,
    pid: null,
    restarts: 0,
    tools: [],
    detail: null,
    since: null,
    ...partial,
  };
}

function notesServer(now: number): ServerView {
  return server({
    name: 'notes',
    state: 'running',
    command: 'gatehouse',
    args: ['demo-notes'],
    resolvedCommand: '/usr/local/bin/gatehouse',
    pid: 48213,
    tools: NOTES_TOOLS.map((t) => ({ ...t })),
    since: now - 7 * MINUTE,
  });
}

export const LONG_FAILURE_DETAIL =
  'Process exited with status 1 three times within 60 s, so Gatehouse stopped restarting it. ' +
  'Last line on stderr: "Error: connect ECONNREFUSED 127.0.0.1:5432 — is PostgreSQL running and ' +
  'accepting TCP/IP connections on that port?" Check the connection string in the config, start ' +
  'the database, then restart the server from the tray menu.';

function demoServers(now: number): ServerView[] {
  return [
    notesServer(now),
    server({
      name: 'filesystem',
      state: 'running',
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/dev/projects'],
      resolvedCommand: '/usr/bin/npx',
      pid: 48240,
      tools: [
        tool('read_text_file', 'Read file', 'Read a UTF-8 text file inside the allowed directories.', true, false),
        tool('list_directory', 'List directory', 'List entries of a directory.', true, false),
        tool('write_file', 'Write file', 'Create or overwrite a file.', false, true),
        tool('move_file', 'Move file', 'Move or rename a file.', false, false),
      ],
      since: now - 42 * MINUTE,
    }),
    server({
      name: 'git',
      state: 'starting',
      command: 'uvx',
      args: ['mcp-server-git', '--repository', '/home/dev/projects/gatehouse'],
      resolvedCommand: '/home/dev/.local/bin/uvx',
      pid: 48301,
      since: now - 2_000,
    }),
    server({
      name: 'scratchpad',
      state: 'disabled',
      command: 'node',
      args: ['/home/dev/mcp/scratchpad/index.js'],
      resolvedCommand: '/usr/bin/node',
    }),
  ];
}

function failedServers(now: number): ServerView[] {
  return [
    notesServer(now),
    server({
      name: 'postgres',
      state: 'failed',
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-postgres', 'postgresql://localhost:5432/app'],
      resolvedCommand: '/usr/bin/npx',
      detail: LONG_FAILURE_DETAIL,
      since: now - 3 * MINUTE,
    }),
    server({
      name: 'weather',
      state: 'backing_off',
      command: 'python3',
      args: ['-m', 'weather_mcp', '--units', 'metric'],
      resolvedCommand: '/usr/bin/python3',
      detail: 'Exited with status 2; retrying in 8 s (attempt 2 of 3).',
      since: now - 4_000,
    }),
    server({
      name: 'jira-cloud',
      state: 'failed',
      command: 'mcp-atlassian',
      args: ['--read-only'],
      resolvedCommand: null,
      detail: "Command 'mcp-atlassian' was not found on PATH.",
      since: now - 11 * MINUTE,
    }),
  ];
}

const NAME_WORDS = [
  'acme', 'internal', 'knowledge', 'base', 'connector', 'staging', 'production', 'eu', 'west',
  'replica', 'analytics', 'warehouse', 'readonly', 'github', 'enterprise', 'issues', 'tracker',
  'customer', 'support', 'tickets', 'mirror', 'search', 'index', 'vector', 'embeddings',
];
const MANY_STATES: ServerState[] = [
  'running', 'running', 'running', 'stopped', 'running', 'starting', 'failed', 'disabled',
  'running', 'backing_off', 'stopping',
];

/** 50 servers with long names (some exactly 64 chars) and a mix of states. */
function manyServers(now: number): ServerView[] {
  const out: ServerView[] = [];
  for (let i = 0; i < 50; i++) {
    const words: string[] = [];
    for (let w = 0; words.join('-').length < 24 + (i % 5) * 10; w++) {
      words.push(NAME_WORDS[(i * 7 + w * 3) % NAME_WORDS.length] ?? 'mcp');
    }
    const suffix = `-${String(i + 1).padStart(2, '0')}`;
    let name = words.join('-').slice(0, 64 - suffix.length);
    if (i % 4 === 0) name = name.padEnd(64 - suffix.length, 'x');
    name += suffix;

    const state = MANY_STATES[i % MANY_STATES.length] ?? 'stopped';
    const running = state === 'running';
    out.push(
      server({
        name,
        state,
        command: i % 3 === 0 ? 'uvx' : 'npx',
        args: ['-y', `@acme/mcp-${words[0] ?? 'server'}`, '--profile', `team-${i}`, '--verbose'],
        resolvedCommand: i % 3 === 0 ? '/home/dev/.local/bin/uvx' : '/usr/bin/npx',
        pid: running || state === 'starting' || state === 'stopping' ? 50_000 + i : null,
        tools: running ? NOTES_TOOLS.slice(0, 1 + (i % 4)).map((t) => ({ ...t })) : [],
        detail:
          state === 'failed'
            ? 'Handshake timed out after 30 s: the server never answered `initialize`.'
            : state === 'backing_off'
              ? 'Exited with status 1; retrying in 4 s.'
              : null,
        since: state === 'disabled' ? null : now - (i + 1) * 97_000,
      }),
    );
  }
  return out;
}

// Starts where the demo's "git" server starts, then loops.
const LIVE_CYCLE: { state: ServerState; detail: string | null }[] = [
  { state: 'starting', detail: null },
  { state: 'running', detail: null },
  { state: 'stopping', detail: null },
  { state: 'stopped', detail: null },
  { state: 'starting', detail: null },
  { state: 'backing_off', detail: 'Exited with status 1; retrying in 2 s.' },
];

export function scenarioServers(scenario: MockScenario, now = Date.now()): ServerView[] {
  switch (scenario) {
    case 'empty':
    case 'error':
      return [];
    case 'demo':
    case 'live':
      return demoServers(now);
    case 'failed':
      return failedServers(now);
    case 'many':
      return manyServers(now);
  }
}

export interface MockBackendOptions {
  /** Artificial latency for every call, in ms (default 0). */
  latencyMs?: number;
  /** Live scenario only: how often the mock emits a change (default 1500 ms). */
  tickMs?: number;
}

export interface MockBackend {
  listServers(): Promise<ServerView[]>;
  appInfo(): Promise<AppInfo>;
  onServersChanged(cb: (servers: ServerView[]) => void): Promise<() => void>;
  /** Test hook: replace the server list and notify subscribers, like the Rust side would. */
  emit(servers: ServerView[]): void;
  /** Test hook: make the next calls to `listServers` reject with this error (null to clear). */
  failWith(error: ApiError | null): void;
  readonly subscriberCount: number;
}

const clone = <T>(value: T): T => structuredClone(value);

export function createMockBackend(
  scenario: MockScenario = 'demo',
  options: MockBackendOptions = {},
): MockBackend {
  const { latencyMs = 0, tickMs = 1500 } = options;
  let servers = scenarioServers(scenario);
  let failure: ApiError | null =
    scenario === 'error'
      ? new ApiError(
          'ConfigUnreadable',
          `Could not read ${MOCK_APP_INFO.configPath}: permission denied (os error 13)`,
        )
      : null;
  const subscribers = new Set<(servers: ServerView[]) => void>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let step = 0;

  const settle = async <T>(make: () => T): Promise<T> => {
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    return make();
  };

  const emit = (next: ServerView[]) => {
    servers = clone(next);
    for (const cb of subscribers) cb(clone(servers));
  };

  const tick = () => {
    step = (step + 1) % LIVE_CYCLE.length;
    const phase = LIVE_CYCLE[step] ?? { state: 'stopped' as const, detail: null };
    emit(
      servers.map((s) =>
        s.name === 'git'
          ? {
              ...s,
              state: phase.state,
              detail: phase.detail,
              since: Date.now(),
              pid: phase.state === 'stopped' || phase.state === 'backing_off' ? null : 48301 + step,
              tools: phase.state === 'running' ? [tool('git_status', 'Git status', 'Show the working tree status.', true, false)] : [],
            }
          : s,
      ),
    );
  };

  return {
    listServers: () =>
      settle(() => {
        if (failure) throw failure;
        return clone(servers);
      }),
    appInfo: () => settle(() => clone(MOCK_APP_INFO)),
    onServersChanged: (cb) =>
      settle(() => {
        subscribers.add(cb);
        if (scenario === 'live' && timer === null) timer = setInterval(tick, tickMs);
        return () => {
          subscribers.delete(cb);
          if (subscribers.size === 0 && timer !== null) {
            clearInterval(timer);
            timer = null;
          }
        };
      }),
    emit,
    failWith: (error) => {
      failure = error;
    },
    get subscriberCount() {
      return subscribers.size;
    },
  };
}

/** Scenario from `?mock=…` in the page URL; unknown or missing means "demo". */
export function scenarioFromUrl(search: string): MockScenario {
  const wanted = new URLSearchParams(search).get('mock');
  return (MOCK_SCENARIOS as readonly string[]).includes(wanted ?? '')
    ? (wanted as MockScenario)
    : 'demo';
}

const instance = createMockBackend(
  scenarioFromUrl(typeof location === 'undefined' ? '' : location.search),
);

/** Mock of `list_servers`. */
export const listServers = (): Promise<ServerView[]> => instance.listServers();
/** Mock of `app_info`. */
export const appInfo = (): Promise<AppInfo> => instance.appInfo();
/** Mock of the `servers-changed` subscription. */
export const onServersChanged = (cb: (servers: ServerView[]) => void): Promise<() => void> =>
  instance.onServersChanged(cb);
