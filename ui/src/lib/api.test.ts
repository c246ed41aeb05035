import { beforeEach, describe, expect, it, vi } from 'vitest';

const { invoke, listen } = vi.hoisted(() => ({
  invoke: vi.fn(),
  listen: vi.fn(),
}));

vi.mock('@tauri-apps/api/core', () => ({ invoke }));
vi.mock('@tauri-apps/api/event', () => ({ listen }));

import {
  ApiError,
  applyClientChange,
  applyClientImport,
  listClients,
  onClientsChanged,
  pickProjectDir,
  planClientChange,
  planClientImport,
  undoClientChange,
  answerApproval,
  appInfo,
  approvalSettings,
  copyToken,
  exportLog,
  onActivityChanged,
  onApprovalsChanged,
  pendingApprovals,
  queryLog,
  setApprovalSettings,
  setToolPolicy,
  verifyLog,
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

describe('approval commands', () => {
  it('pendingApprovals invokes pending_approvals without arguments', async () => {
    invoke.mockResolvedValueOnce([]);
    await expect(pendingApprovals()).resolves.toEqual([]);
    expect(invoke).toHaveBeenCalledWith('pending_approvals', undefined);
  });

  it.each(['allow_once', 'allow_always', 'deny'] as const)(
    'answerApproval invokes answer_approval with { id, answer: %s } and resolves to undefined',
    async (answer) => {
      invoke.mockResolvedValueOnce(null);
      await expect(answerApproval(42, answer)).resolves.toBeUndefined();
      expect(invoke).toHaveBeenCalledWith('answer_approval', { id: 42, answer });
    },
  );

  it('answerApproval keeps the NotPending kind', async () => {
    invoke.mockRejectedValueOnce({ kind: 'NotPending', message: 'call 42 is no longer waiting' });
    const err = await rejection(answerApproval(42, 'deny'));
    expect(err.kind).toBe('NotPending');
  });

  it('queryLog, verifyLog and exportLog pass the filter as is', async () => {
    const filter = { server: 'notes', decision: 'denied' as const, sinceMs: 1_700_000_000_000, limit: 200, offset: 0 };
    invoke.mockResolvedValueOnce([]);
    await queryLog(filter);
    expect(invoke).toHaveBeenLastCalledWith('query_log', { filter });

    const verified = { ok: true, rows: 3, message: 'All 3 rows match their hashes.' };
    invoke.mockResolvedValueOnce(verified);
    await expect(verifyLog()).resolves.toEqual(verified);
    expect(invoke).toHaveBeenLastCalledWith('verify_log', undefined);

    const saved = { path: '/tmp/calls.csv', rows: 3 };
    invoke.mockResolvedValueOnce(saved);
    await expect(exportLog('csv', { search: 'x' })).resolves.toEqual(saved);
    expect(invoke).toHaveBeenLastCalledWith('export_log', { format: 'csv', filter: { search: 'x' } });
  });

  it('setToolPolicy sends the rule, and null for the default', async () => {
    invoke.mockResolvedValue(null);
    await expect(setToolPolicy('notes', 'delete_note', 'deny')).resolves.toBeUndefined();
    expect(invoke).toHaveBeenLastCalledWith('set_tool_policy', { server: 'notes', tool: 'delete_note', rule: 'deny' });
    await setToolPolicy('notes', 'delete_note', null);
    expect(invoke).toHaveBeenLastCalledWith('set_tool_policy', { server: 'notes', tool: 'delete_note', rule: null });
  });

  it('approvalSettings and setApprovalSettings', async () => {
    const settings = { timeoutSecs: 120, askNonReadOnly: false, retentionDays: 90 };
    invoke.mockResolvedValueOnce(settings);
    await expect(approvalSettings()).resolves.toEqual(settings);
    expect(invoke).toHaveBeenLastCalledWith('approval_settings', undefined);
    invoke.mockResolvedValueOnce(null);
    await expect(setApprovalSettings(settings)).resolves.toBeUndefined();
    expect(invoke).toHaveBeenLastCalledWith('set_approval_settings', { settings });
  });

  it.each([
    ['pendingApprovals', () => pendingApprovals()],
    ['queryLog', () => queryLog({})],
    ['verifyLog', () => verifyLog()],
    ['exportLog', () => exportLog('json', {})],
    ['setToolPolicy', () => setToolPolicy('a', 'b', 'ask')],
    ['approvalSettings', () => approvalSettings()],
    ['setApprovalSettings', () => setApprovalSettings({ timeoutSecs: 5, askNonReadOnly: false, retentionDays: 0 })],
  ] as const)('%s normalises rejections', async (_label, fn) => {
    invoke.mockRejectedValueOnce({ kind: 'InvalidSettings', message: 'out of range' });
    const err = await rejection(fn());
    expect(err.kind).toBe('InvalidSettings');
    expect(err.message).toBe('out of range');
  });
});

describe('approval and activity events', () => {
  type Handler = (e: { event: string; id: number; payload: unknown }) => void;

  it('onApprovalsChanged forwards the number of waiting calls', async () => {
    const unlisten = vi.fn();
    listen.mockResolvedValueOnce(unlisten);
    const cb = vi.fn();
    const off = await onApprovalsChanged(cb);
    expect(listen.mock.calls[0]?.[0]).toBe('approvals-changed');
    (listen.mock.calls[0]?.[1] as Handler)({ event: 'approvals-changed', id: 1, payload: 3 });
    expect(cb).toHaveBeenCalledWith(3);
    off();
    expect(unlisten).toHaveBeenCalledTimes(1);
  });

  it('onActivityChanged calls back without arguments', async () => {
    listen.mockResolvedValueOnce(vi.fn());
    const cb = vi.fn();
    await onActivityChanged(cb);
    expect(listen.mock.calls[0]?.[0]).toBe('activity-changed');
    (listen.mock.calls[0]?.[1] as Handler)({ event: 'activity-changed', id: 1, payload: null });
    expect(cb).toHaveBeenCalledWith();
  });

  it('normalises a failed subscription', async () => {
    listen.mockRejectedValueOnce({ kind: 'Permission', message: 'event.listen not allowed' });
    const err = await rejection(onApprovalsChanged(() => {}));
    expect(err.kind).toBe('Permission');
  });
});

describe('client commands', () => {
  const REQ = { client: 'cursor', scope: 'project' as const, project: '/home/ada/p', action: 'register' as const, server: null };

  it('listClients passes the project, or null', async () => {
    invoke.mockResolvedValue([]);
    await expect(listClients(null)).resolves.toEqual([]);
    expect(invoke).toHaveBeenLastCalledWith('list_clients', { project: null });
    await listClients('/home/ada/p');
    expect(invoke).toHaveBeenLastCalledWith('list_clients', { project: '/home/ada/p' });
  });

  it('planClientChange passes the request as one camelCase object', async () => {
    const plan = { path: '/home/ada/p/.cursor/mcp.json', diff: '', changed: false, creates: false, base: 'b1', byClientCommand: false };
    invoke.mockResolvedValueOnce(plan);
    await expect(planClientChange(REQ)).resolves.toEqual(plan);
    expect(invoke).toHaveBeenLastCalledWith('plan_client_change', REQ);
  });

  it('applyClientChange adds the base, and sends nothing else', async () => {
    const result = { path: '/p', backup: null, nextStep: 'Restart.' };
    invoke.mockResolvedValueOnce(result);
    await expect(applyClientChange({ ...REQ, ...{ extra: 1 } }, 'b1')).resolves.toEqual(result);
    expect(invoke).toHaveBeenLastCalledWith('apply_client_change', { ...REQ, base: 'b1' });
  });

  it('undo and import take { client, scope, project }', async () => {
    const ref = { client: 'cursor', scope: 'user' as const, project: null };
    invoke.mockResolvedValue(null);
    await undoClientChange(ref);
    expect(invoke).toHaveBeenLastCalledWith('undo_client_change', ref);
    await planClientImport(ref);
    expect(invoke).toHaveBeenLastCalledWith('plan_client_import', ref);
    await applyClientImport(ref, false, null);
    expect(invoke).toHaveBeenLastCalledWith('apply_client_import', { ...ref, replace: false, base: null });
  });

  it('planClientImport resolves to the candidates and the replacement', async () => {
    const ref = { client: 'cursor', scope: 'user' as const, project: null };
    const plan = {
      candidates: [{ name: 'github', command: 'npx -y gh', secrets: ['GITHUB_TOKEN'], plainEnv: [], skip: null }],
      replacement: { path: '/home/ada/.cursor/mcp.json', diff: '--- a\n+++ b\n', changed: true, creates: false, base: 'b1', byClientCommand: false },
    };
    invoke.mockResolvedValueOnce(plan);
    await expect(planClientImport(ref)).resolves.toEqual(plan);
    invoke.mockResolvedValueOnce({ candidates: [], replacement: null });
    await expect(planClientImport(ref)).resolves.toEqual({ candidates: [], replacement: null });
  });

  it('applyClientImport passes the base of the replacement shown, and sends nothing else', async () => {
    const ref = { client: 'cursor', scope: 'user' as const, project: null };
    const result = { imported: ['github'], movedSecrets: [], replaced: true, path: '/p', nextStep: 'Restart.' };
    invoke.mockResolvedValueOnce(result);
    await expect(applyClientImport({ ...ref, ...{ extra: 1 } }, true, 'b1')).resolves.toEqual(result);
    expect(invoke).toHaveBeenLastCalledWith('apply_client_import', { ...ref, replace: true, base: 'b1' });
  });

  it('pickProjectDir resolves to the folder, or null when cancelled', async () => {
    invoke.mockResolvedValueOnce('/home/ada/p');
    await expect(pickProjectDir()).resolves.toBe('/home/ada/p');
    expect(invoke).toHaveBeenLastCalledWith('pick_project_dir', undefined);
    invoke.mockResolvedValueOnce(null);
    await expect(pickProjectDir()).resolves.toBeNull();
  });

  it('keeps the ChangedSince kind of a stale apply', async () => {
    invoke.mockRejectedValueOnce({ kind: 'ChangedSince', message: '/p changed since the change was prepared; review it again' });
    const err = await rejection(applyClientChange(REQ, 'old'));
    expect(err.kind).toBe('ChangedSince');
    invoke.mockRejectedValueOnce({ kind: 'ChangedSince', message: '/p changed since the change was prepared; review it again' });
    const stale = await rejection(applyClientImport({ client: 'cursor', scope: 'user', project: null }, true, 'old'));
    expect(stale.kind).toBe('ChangedSince');
  });

  it('onClientsChanged listens to clients-changed and calls back without arguments', async () => {
    const unlisten = vi.fn();
    listen.mockResolvedValueOnce(unlisten);
    const cb = vi.fn();
    const off = await onClientsChanged(cb);
    expect(listen.mock.calls[0]?.[0]).toBe('clients-changed');
    (listen.mock.calls[0]?.[1] as (e: { event: string; id: number; payload: unknown }) => void)({
      event: 'clients-changed',
      id: 1,
      payload: null,
    });
    expect(cb).toHaveBeenCalledWith();
    off();
    expect(unlisten).toHaveBeenCalledTimes(1);
  });
});
