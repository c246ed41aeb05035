import { beforeEach, describe, expect, it, vi } from 'vitest';

const { invoke, listen } = vi.hoisted(() => ({
  invoke: vi.fn(),
  listen: vi.fn(),
}));

vi.mock('@tauri-apps/api/core', () => ({ invoke }));
vi.mock('@tauri-apps/api/event', () => ({ listen }));

import {
  ApiError,
  appInfo,
  copyToken,
  gatewayInfo,
  listServers,
  onServersChanged,
  restartServer,
  rotateToken,
  serverLogs,
  startServer,
  stopServer,
  toApiError,
} from './api';
import type { GatewayInfo, LogLineView, ServerView } from './api';

const SAMPLE: ServerView[] = [
  {
    name: 'notes',
    state: 'running',
    command: 'gatehouse',
    args: ['demo-notes'],
    resolvedCommand: '/usr/local/bin/gatehouse',
    pid: 42,
    restarts: 0,
    tools: [],
    detail: null,
    since: 1_700_000_000_000,
  },
];

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the promise to reject');
}

beforeEach(() => {
  invoke.mockReset();
  listen.mockReset();
});

describe('commands', () => {
  it('listServers invokes list_servers without arguments and returns the payload', async () => {
    invoke.mockResolvedValueOnce(SAMPLE);
    await expect(listServers()).resolves.toEqual(SAMPLE);
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke.mock.calls[0]?.[0]).toBe('list_servers');
    expect(invoke.mock.calls[0]?.[1]).toBeUndefined();
  });

  it('appInfo invokes app_info', async () => {
    const info = { version: '1.2.3', configPath: '/c', dataDir: '/d', logsDir: '/l' };
    invoke.mockResolvedValueOnce(info);
    await expect(appInfo()).resolves.toEqual(info);
    expect(invoke.mock.calls[0]?.[0]).toBe('app_info');
  });
});

describe('server control commands', () => {
  const LINES: LogLineView[] = [
    { timeMs: 1_700_000_000_000, stream: 'gatehouse', text: 'Spawned pid 42' },
    { timeMs: 1_700_000_000_250, stream: 'stderr', text: '  indented, kept as is' },
    { timeMs: 1_700_000_000_300, stream: 'stdout', text: '' },
  ];

  it.each([
    ['startServer', startServer, 'start_server'],
    ['stopServer', stopServer, 'stop_server'],
    ['restartServer', restartServer, 'restart_server'],
  ] as const)('%s invokes %s with { name } and resolves to undefined', async (_label, fn, cmd) => {
    invoke.mockResolvedValueOnce(null);
    await expect(fn('my-server_01')).resolves.toBeUndefined();
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke).toHaveBeenCalledWith(cmd, { name: 'my-server_01' });
  });

  it('serverLogs invokes server_logs with { name } and returns the lines unchanged', async () => {
    invoke.mockResolvedValueOnce(LINES);
    await expect(serverLogs('notes')).resolves.toEqual(LINES);
    expect(invoke).toHaveBeenCalledWith('server_logs', { name: 'notes' });
  });

  it.each([
    ['startServer', startServer],
    ['stopServer', stopServer],
    ['restartServer', restartServer],
    ['serverLogs', serverLogs],
  ] as const)('%s normalises a NoSuchServer rejection', async (_label, fn) => {
    invoke.mockRejectedValueOnce({ kind: 'NoSuchServer', message: 'there is no server `ghost`' });
    const err = await rejection(fn('ghost'));
    expect(err.kind).toBe('NoSuchServer');
    expect(err.message).toBe('there is no server `ghost`');
  });

  it.each([
    ['startServer', startServer],
    ['stopServer', stopServer],
    ['restartServer', restartServer],
    ['serverLogs', serverLogs],
  ] as const)('%s normalises an Internal rejection and a bare string', async (_label, fn) => {
    invoke.mockRejectedValueOnce({ kind: 'Internal', message: 'supervisor channel closed' });
    const internal = await rejection(fn('notes'));
    expect(internal.kind).toBe('Internal');
    expect(internal.message).toBe('supervisor channel closed');

    invoke.mockRejectedValueOnce('command stop_server not allowed');
    const bare = await rejection(fn('notes'));
    expect(bare.kind).toBe('Unknown');
    expect(bare.message).toBe('command stop_server not allowed');
  });
});

describe('gateway commands', () => {
  const INFO: GatewayInfo = {
    url: 'http://127.0.0.1:8737/mcp',
    addr: '127.0.0.1:8737',
    error: null,
    tokenSource: 'keyring',
    tokenHint: '3f9a…c21b',
    serverUrlTemplate: 'http://127.0.0.1:8737/mcp/{server}',
  };

  it('gatewayInfo invokes gateway_info without arguments and returns the payload', async () => {
    invoke.mockResolvedValueOnce(INFO);
    await expect(gatewayInfo()).resolves.toEqual(INFO);
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke.mock.calls[0]?.[0]).toBe('gateway_info');
    expect(invoke.mock.calls[0]?.[1]).toBeUndefined();
  });

  it('gatewayInfo passes a not-running gateway through unchanged', async () => {
    const down: GatewayInfo = { ...INFO, url: null, serverUrlTemplate: null, error: 'port 8737 on 127.0.0.1 is in use' };
    invoke.mockResolvedValueOnce(down);
    await expect(gatewayInfo()).resolves.toEqual(down);
  });

  it('copyToken invokes copy_token without arguments and resolves to undefined', async () => {
    invoke.mockResolvedValueOnce(null);
    await expect(copyToken()).resolves.toBeUndefined();
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke.mock.calls[0]?.[0]).toBe('copy_token');
    expect(invoke.mock.calls[0]?.[1]).toBeUndefined();
  });

  it('rotateToken invokes rotate_token without arguments and returns the new state', async () => {
    const next = { ...INFO, tokenHint: '77aa…0e1f' };
    invoke.mockResolvedValueOnce(next);
    await expect(rotateToken()).resolves.toEqual(next);
    expect(invoke.mock.calls[0]?.[0]).toBe('rotate_token');
    expect(invoke.mock.calls[0]?.[1]).toBeUndefined();
  });

  it.each([
    ['gatewayInfo', gatewayInfo],
    ['copyToken', copyToken],
    ['rotateToken', rotateToken],
  ] as const)('%s normalises rejections', async (_label, fn) => {
    invoke.mockRejectedValueOnce({ kind: 'Keyring', message: 'the keyring is locked' });
    const err = await rejection(fn());
    expect(err.kind).toBe('Keyring');
    expect(err.message).toBe('the keyring is locked');

    invoke.mockRejectedValueOnce('command rotate_token not allowed');
    const bare = await rejection(fn());
    expect(bare.kind).toBe('Unknown');
    expect(bare.message).toBe('command rotate_token not allowed');
  });
});

describe('error normalisation', () => {
  it('keeps kind and message of a structured Rust error', async () => {
    invoke.mockRejectedValueOnce({ kind: 'ConfigInvalid', message: 'line 3: expected `=`' });
    const err = await rejection(listServers());
    expect(err.kind).toBe('ConfigInvalid');
    expect(err.message).toBe('line 3: expected `=`');
  });

  it('maps a plain string rejection to kind Unknown', async () => {
    invoke.mockRejectedValueOnce('command list_servers not found');
    const err = await rejection(listServers());
    expect(err.kind).toBe('Unknown');
    expect(err.message).toBe('command list_servers not found');
  });

  it('maps a thrown Error (e.g. no Tauri bridge) to kind Unknown with its message', async () => {
    invoke.mockRejectedValueOnce(new TypeError("Cannot read properties of undefined (reading 'invoke')"));
    const err = await rejection(appInfo());
    expect(err.kind).toBe('Unknown');
    expect(err.message).toContain('reading');
  });

  it.each([
    ['null', null, 'Unknown error'],
    ['undefined', undefined, 'Unknown error'],
    ['a number', 42, '42'],
    ['an empty string', '', 'Unknown error'],
    ['an empty object', {}, 'Unknown error'],
  ])('maps %s to kind Unknown', (_label, value, message) => {
    const err = toApiError(value);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.kind).toBe('Unknown');
    expect(err.message).toBe(message);
  });

  it('treats a non-string kind as Unknown but keeps the message', () => {
    const err = toApiError({ kind: 7, message: 'spawn failed' });
    expect(err.kind).toBe('Unknown');
    expect(err.message).toBe('spawn failed');
  });

  it('falls back to the kind when the message is missing', () => {
    const err = toApiError({ kind: 'NotFound' });
    expect(err.kind).toBe('NotFound');
    expect(err.message).toBe('NotFound');
  });

  it('describes an unrecognised object instead of printing [object Object]', () => {
    const err = toApiError({ code: 13 });
    expect(err.kind).toBe('Unknown');
    expect(err.message).toBe('{"code":13}');
  });

  it('passes an existing ApiError through unchanged', () => {
    const original = new ApiError('Io', 'disk full');
    expect(toApiError(original)).toBe(original);
  });
});

describe('onServersChanged', () => {
  it('listens to servers-changed and forwards only the payload', async () => {
    const unlisten = vi.fn();
    listen.mockResolvedValueOnce(unlisten);
    const cb = vi.fn();

    const off = await onServersChanged(cb);

    expect(listen).toHaveBeenCalledTimes(1);
    expect(listen.mock.calls[0]?.[0]).toBe('servers-changed');
    const handler = listen.mock.calls[0]?.[1] as (e: { event: string; id: number; payload: unknown }) => void;
    handler({ event: 'servers-changed', id: 1, payload: SAMPLE });
    expect(cb).toHaveBeenCalledWith(SAMPLE);

    off();
    expect(unlisten).toHaveBeenCalledTimes(1);
  });

  it('normalises a failed subscription', async () => {
    listen.mockRejectedValueOnce({ kind: 'Permission', message: 'event.listen not allowed' });
    const err = await rejection(onServersChanged(() => {}));
    expect(err.kind).toBe('Permission');
    expect(err.message).toBe('event.listen not allowed');
  });
});
