import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import * as api from './api';
import * as mock from './api.mock';
import {
  approvalScenarioFromUrl,
  CLIENT_SPECS,
  clientScenarioFromUrl,
  createMockBackend,
  MOCK_GATEHOUSE_BIN,
  MOCK_PROJECT,
  OLD_GATEWAY_URL,
  unifiedDiff,
  ZED_SYNTAX_ERROR,
  LONG_SERVER_NAME,
  MOCK_APPROVAL_SETTINGS,
  scenarioApprovals,
  scenarioLog,
  GATEWAY_PORT_IN_USE,
  gatewayScenarioFromUrl,
  maskToken,
  MOCK_GATEWAY,
  MOCK_TOKEN,
  LONG_NOTES_LINE,
  LONG_POSTGRES_LINE,
  MAX_LOG_LINES,
  scenarioFromUrl,
  scenarioLogs,
  scenarioServers,
} from './api.mock';
import type { MockBackend } from './api.mock';

afterEach(() => {
  vi.useRealTimers();
});

describe('mock twin', () => {
  it('exports the same functions as api.ts', () => {
    for (const fn of [
      'listServers',
      'appInfo',
      'onServersChanged',
      'startServer',
      'stopServer',
      'restartServer',
      'serverLogs',
      'gatewayInfo',
      'copyToken',
      'rotateToken',
      'pendingApprovals',
      'answerApproval',
      'onApprovalsChanged',
      'queryLog',
      'verifyLog',
      'exportLog',
      'onActivityChanged',
      'setToolPolicy',
      'approvalSettings',
      'setApprovalSettings',
      'listClients',
      'planClientChange',
      'applyClientChange',
      'undoClientChange',
      'planClientImport',
      'applyClientImport',
      'pickProjectDir',
      'onClientsChanged',
    ] as const) {
      expect(typeof api[fn]).toBe('function');
      expect(typeof mock[fn]).toBe('function');
    }
  });

  it('picks the scenario from ?mock=, defaulting to demo', () => {
    expect(scenarioFromUrl('?mock=empty')).toBe('empty');
    expect(scenarioFromUrl('?mock=many&x=1')).toBe('many');
    expect(scenarioFromUrl('?mock=bogus')).toBe('demo');
    expect(scenarioFromUrl('')).toBe('demo');
  });

  it('empty has no servers', async () => {
    await expect(createMockBackend('empty').listServers()).resolves.toEqual([]);
  });

  it('demo has a running server with the four annotated notes tools', () => {
    const notes = scenarioServers('demo').find((s) => s.name === 'notes');
    expect(notes?.state).toBe('running');
    expect(notes?.tools.map((t) => [t.name, t.readOnly, t.destructive])).toEqual([
      ['list_notes', true, false],
      ['read_note', true, false],
      ['add_note', false, false],
      ['delete_note', false, true],
    ]);
  });

  it('failed has a failed server with a long detail', () => {
    const failed = scenarioServers('failed').filter((s) => s.state === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(Math.max(...failed.map((s) => s.detail?.length ?? 0))).toBeGreaterThan(200);
  });

  it('many has 50 unique, valid names up to 64 chars, some at the limit', () => {
    const names = scenarioServers('many').map((s) => s.name);
    expect(names).toHaveLength(50);
    expect(new Set(names).size).toBe(50);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(names.some((n) => n.length === 64)).toBe(true);
  });

  it('only running servers have tools', () => {
    for (const s of scenarioServers('many')) {
      if (s.state !== 'running') expect(s.tools).toEqual([]);
    }
  });

  it('error rejects listServers with an ApiError', async () => {
    const err: unknown = await createMockBackend('error').listServers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('ConfigUnreadable');
  });

  it('returns copies, so callers cannot corrupt its state', async () => {
    const backend = createMockBackend('demo');
    const first = await backend.listServers();
    first[0]!.state = 'failed';
    const second = await backend.listServers();
    expect(second[0]!.state).toBe('running');
  });

  it('emit notifies subscribers until they unlisten', async () => {
    const backend = createMockBackend('empty');
    const cb = vi.fn();
    const off = await backend.onServersChanged(cb);
    const next = scenarioServers('demo');
    backend.emit(next);
    expect(cb).toHaveBeenCalledWith(next);
    await expect(backend.listServers()).resolves.toEqual(next);
    off();
    backend.emit([]);
    expect(cb).toHaveBeenCalledTimes(1);
    expect(backend.subscriberCount).toBe(0);
  });

  it('live cycles the git server through states while subscribed', async () => {
    vi.useFakeTimers();
    const backend = createMockBackend('live', { tickMs: 100 });
    const seen: string[] = [];
    const off = await backend.onServersChanged((servers) => {
      seen.push(servers.find((s) => s.name === 'git')?.state ?? '?');
    });
    vi.advanceTimersByTime(600);
    expect(seen).toEqual(['running', 'stopping', 'stopped', 'starting', 'backing_off', 'starting']);
    off();
    vi.advanceTimersByTime(300);
    expect(seen).toHaveLength(6);
  });
});

async function stateOf(backend: MockBackend, name: string) {
  const s = (await backend.listServers()).find((x) => x.name === name);
  if (!s) throw new Error(`no ${name}`);
  return s;
}

describe('mock server control', () => {
  it('stop goes through stopping, resolves once stopped, and clears pid and tools', async () => {
    vi.useFakeTimers();
    const backend = createMockBackend('demo', { shutdownMs: 300 });
    const states: string[] = [];
    await backend.onServersChanged((all) => states.push(all.find((s) => s.name === 'notes')!.state));

    let done = false;
    const stopped = backend.stopServer('notes').then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(['stopping']);
    expect(done).toBe(false);

    await vi.advanceTimersByTimeAsync(300);
    await stopped;
    expect(states).toEqual(['stopping', 'stopped']);
    const notes = await stateOf(backend, 'notes');
    expect(notes).toMatchObject({ state: 'stopped', pid: null, tools: [], detail: null });
  });

  it('start goes starting, then running with its tools back', async () => {
    vi.useFakeTimers();
    const backend = createMockBackend('demo', { shutdownMs: 0, startupMs: 600 });
    const stop = backend.stopServer('notes');
    await vi.advanceTimersByTimeAsync(0);
    await stop;

    await backend.startServer('notes');
    let notes = await stateOf(backend, 'notes');
    expect(notes.state).toBe('starting');
    expect(notes.pid).not.toBeNull();
    expect(notes.tools).toEqual([]);

    await vi.advanceTimersByTimeAsync(599);
    expect((await stateOf(backend, 'notes')).state).toBe('starting');
    await vi.advanceTimersByTimeAsync(1);
    notes = await stateOf(backend, 'notes');
    expect(notes.state).toBe('running');
    expect(notes.tools.map((t) => t.name)).toEqual(['list_notes', 'read_note', 'add_note', 'delete_note']);
  });

  it('restart goes starting then running with a new pid and the restart count unchanged', async () => {
    vi.useFakeTimers();
    const backend = createMockBackend('failed', { startupMs: 600 });
    const before = await stateOf(backend, 'notes');
    const seen: string[] = [];
    await backend.onServersChanged((all) => seen.push(all.find((s) => s.name === 'notes')!.state));

    await backend.restartServer('notes');
    await vi.advanceTimersByTimeAsync(600);

    expect(seen).toEqual(['starting', 'running']);
    const after = await stateOf(backend, 'notes');
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts);
  });

  it('a server whose command is not on PATH fails to start', async () => {
    const backend = createMockBackend('failed');
    await backend.startServer('jira-cloud');
    const jira = await stateOf(backend, 'jira-cloud');
    expect(jira.state).toBe('failed');
    expect(jira.detail).toContain('not found on PATH');
  });

  it('rejects unknown names with NoSuchServer', async () => {
    const backend = createMockBackend('demo');
    for (const call of [
      backend.startServer('ghost'),
      backend.stopServer('ghost'),
      backend.restartServer('ghost'),
      backend.serverLogs('ghost'),
    ]) {
      const err: unknown = await call.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).kind).toBe('NoSuchServer');
    }
  });
});

describe('mock logs', () => {
  it('demo notes logs are oldest first and include a ~600-char line and every stream', async () => {
    const lines = await createMockBackend('demo').serverLogs('notes');
    expect(lines.length).toBeGreaterThan(5);
    const times = lines.map((l) => l.timeMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(lines.map((l) => l.stream))).toEqual(new Set(['stderr', 'stdout', 'gatehouse']));
    expect(lines.map((l) => l.text)).toContain(LONG_NOTES_LINE);
    expect(LONG_NOTES_LINE.length).toBeGreaterThanOrEqual(550);
    expect(lines.some((l) => /4 tools/.test(l.text))).toBe(true);
  });

  it('failed postgres logs show the connection error on stderr', async () => {
    const lines = await createMockBackend('failed').serverLogs('postgres');
    const stderr = lines.filter((l) => l.stream === 'stderr').map((l) => l.text);
    expect(stderr).toContain('Error: connect ECONNREFUSED 127.0.0.1:5432');
    expect(stderr).toContain(LONG_POSTGRES_LINE);
    expect(LONG_POSTGRES_LINE.length).toBeGreaterThanOrEqual(550);
    expect(lines.at(-1)?.stream).toBe('gatehouse');
  });

  it('a disabled server that never ran has no lines', async () => {
    await expect(createMockBackend('demo').serverLogs('scratchpad')).resolves.toEqual([]);
  });

  it('every server of every scenario has a (possibly empty) log', () => {
    for (const scenario of ['demo', 'failed', 'many'] as const) {
      const logs = scenarioLogs(scenario);
      for (const s of scenarioServers(scenario)) expect(logs.get(s.name)).toBeDefined();
    }
  });

  it('appends gatehouse lines on stop, start and restart', async () => {
    vi.useFakeTimers();
    const backend = createMockBackend('demo', { shutdownMs: 10, startupMs: 10 });
    const count = async () => (await backend.serverLogs('notes')).length;
    const initial = await count();

    const stop = backend.stopServer('notes');
    await vi.advanceTimersByTimeAsync(10);
    await stop;
    const afterStop = (await backend.serverLogs('notes')).slice(initial);
    expect(afterStop.map((l) => l.stream)).toEqual(['gatehouse', 'gatehouse']);
    expect(afterStop.at(-1)?.text).toBe('Stopped');

    await backend.startServer('notes');
    await backend.restartServer('notes');
    const tail = (await backend.serverLogs('notes')).slice(initial + 2);
    expect(tail.some((l) => l.stream === 'gatehouse' && /Start requested/.test(l.text))).toBe(true);
    expect(tail.some((l) => l.stream === 'gatehouse' && /Restart requested/.test(l.text))).toBe(true);
    expect(await count()).toBeGreaterThan(initial + 2);
  });

  it('keeps at most the last 1000 lines', async () => {
    const backend = createMockBackend('demo');
    for (let i = 0; i < MAX_LOG_LINES + 5; i++) backend.log('notes', 'stderr', `line ${i}`);
    const lines = await backend.serverLogs('notes');
    expect(lines).toHaveLength(MAX_LOG_LINES);
    expect(lines.at(-1)?.text).toBe(`line ${MAX_LOG_LINES + 4}`);
  });

  it('returns copies', async () => {
    const backend = createMockBackend('demo');
    const first = await backend.serverLogs('notes');
    first[0]!.text = 'tampered';
    expect((await backend.serverLogs('notes'))[0]!.text).not.toBe('tampered');
  });
});

describe('mock gateway', () => {
  const HINT = /^[0-9a-f]{4}…[0-9a-f]{4}$/;

  it('picks the gateway scenario from ?gateway=, defaulting to running', () => {
    expect(gatewayScenarioFromUrl('?gateway=stopped')).toBe('stopped');
    expect(gatewayScenarioFromUrl('?mock=failed&gateway=env')).toBe('env');
    expect(gatewayScenarioFromUrl('?gateway=bogus')).toBe('running');
    expect(gatewayScenarioFromUrl('')).toBe('running');
  });

  it('masks a token as its first and last four characters', () => {
    expect(MOCK_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    expect(maskToken(MOCK_TOKEN)).toBe('3f9a…c21b');
  });

  it('runs by default, on loopback, with a keyring token and a masked hint', async () => {
    const info = await createMockBackend('demo').gatewayInfo();
    expect(info).toEqual(MOCK_GATEWAY);
    expect(info.url).toBe('http://127.0.0.1:8737/mcp');
    expect(info.serverUrlTemplate).toContain('{server}');
    expect(info.tokenSource).toBe('keyring');
    expect(info.tokenHint).toMatch(HINT);
    expect(JSON.stringify(info)).not.toContain(MOCK_TOKEN);
  });

  it('stopped has no URLs and says why', async () => {
    const info = await createMockBackend('demo', { gateway: 'stopped' }).gatewayInfo();
    expect(info).toMatchObject({ url: null, serverUrlTemplate: null, error: GATEWAY_PORT_IN_USE });
    expect(info.addr).toBe('127.0.0.1:8737');
  });

  it('rotate makes a new hint and changes nothing else', async () => {
    const backend = createMockBackend('demo');
    const before = await backend.gatewayInfo();
    const after = await backend.rotateToken();
    expect(after.tokenHint).toMatch(HINT);
    expect(after.tokenHint).not.toBe(before.tokenHint);
    expect({ ...after, tokenHint: '' }).toEqual({ ...before, tokenHint: '' });
    await expect(backend.gatewayInfo()).resolves.toEqual(after);
  });

  it.each([
    ['flag', '--token'],
    ['env', '$GATEHOUSE_TOKEN'],
  ] as const)('refuses to rotate a token from %s', async (gateway, origin) => {
    const backend = createMockBackend('demo', { gateway });
    const before = await backend.gatewayInfo();
    expect(before.tokenSource).toBe(gateway);
    const err: unknown = await backend.rotateToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('TokenNotRotatable');
    expect((err as ApiError).message).toContain(origin);
    await expect(backend.gatewayInfo()).resolves.toEqual(before);
  });

  it('counts token copies', async () => {
    const backend = createMockBackend('demo');
    expect(backend.tokenCopies).toBe(0);
    await backend.copyToken();
    await backend.copyToken();
    expect(backend.tokenCopies).toBe(2);
  });

  it('failGatewayWith makes every gateway call reject until cleared', async () => {
    const backend = createMockBackend('demo');
    backend.failGatewayWith(new ApiError('Internal', 'core gone'));
    for (const call of [backend.gatewayInfo(), backend.copyToken(), backend.rotateToken()]) {
      const err: unknown = await call.catch((e: unknown) => e);
      expect((err as ApiError).message).toBe('core gone');
    }
    expect(backend.tokenCopies).toBe(0);
    await expect(backend.listServers()).resolves.toHaveLength(4);
    backend.failGatewayWith(null);
    await expect(backend.gatewayInfo()).resolves.toEqual(MOCK_GATEWAY);
  });

  it('the error scenario rejects gateway_info', async () => {
    const err: unknown = await createMockBackend('demo', { gateway: 'error' })
      .gatewayInfo()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
  });

  it('setGateway replaces the state, and callers get copies', async () => {
    const backend = createMockBackend('demo');
    backend.setGateway({ ...MOCK_GATEWAY, tokenSource: 'env' });
    const first = await backend.gatewayInfo();
    expect(first.tokenSource).toBe('env');
    first.tokenHint = 'tampered';
    expect((await backend.gatewayInfo()).tokenHint).toBe(MOCK_GATEWAY.tokenHint);
  });
});

describe('mock approvals', () => {
  it('picks the approval scenario from ?approvals=, defaulting to a queue', () => {
    expect(approvalScenarioFromUrl('?approvals=none')).toBe('none');
    expect(approvalScenarioFromUrl('?approvals=bogus')).toBe('queue');
    expect(approvalScenarioFromUrl('')).toBe('queue');
  });

  it('queues three calls oldest first: one destructive, one changed, one with long names and a secret', async () => {
    const queue = await createMockBackend('demo').pendingApprovals();
    expect(queue.map((c) => c.id)).toEqual([41, 42, 43]);
    const asked = queue.map((c) => c.askedAtMs);
    expect(asked).toEqual([...asked].sort((a, b) => a - b));
    for (const c of queue) expect(c.deadlineMs - c.askedAtMs).toBe(MOCK_APPROVAL_SETTINGS.timeoutSecs * 1000);
    expect(queue[0]!.annotations.destructive).toBe(true);
    expect(queue.filter((c) => c.changes.length > 0).map((c) => c.id)).toEqual([42]);
    expect(queue[2]!.server).toBe(LONG_SERVER_NAME);
    expect(LONG_SERVER_NAME).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(JSON.stringify(queue[2]!.arguments)).toContain('"apiKey":"****"');
    expect(scenarioApprovals('none')).toEqual([]);
  });

  it('an answer takes the call off the queue, logs it and notifies', async () => {
    const backend = createMockBackend('demo');
    const approvals = vi.fn();
    const activity = vi.fn();
    await backend.onApprovalsChanged(approvals);
    await backend.onActivityChanged(activity);

    await backend.answerApproval(42, 'allow_once');
    expect((await backend.pendingApprovals()).map((c) => c.id)).toEqual([41, 43]);
    expect(approvals).toHaveBeenLastCalledWith(2);
    expect(activity).toHaveBeenCalledTimes(1);
    const [row] = await backend.queryLog({ limit: 1 });
    expect(row).toMatchObject({ server: 'filesystem', tool: 'write_file', decision: 'allowed', decidedBy: 'dialog', outcome: 'ok' });
  });

  it('answering a call that no longer waits rejects with NotPending', async () => {
    const backend = createMockBackend('demo');
    await backend.answerApproval(41, 'deny');
    const err: unknown = await backend.answerApproval(41, 'deny').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('NotPending');
  });

  it('allow_always pins the tool: always allowed, no longer changed', async () => {
    const backend = createMockBackend('demo');
    const tool = async () =>
      (await backend.listServers()).find((s) => s.name === 'filesystem')!.tools.find((t) => t.name === 'write_file')!;
    expect(await tool()).toMatchObject({ alwaysAllow: true, changed: true, effective: 'ask' });
    await backend.answerApproval(42, 'allow_always');
    expect(await tool()).toMatchObject({ alwaysAllow: true, changed: false, effective: 'allow', effectiveReason: 'always allowed' });
  });

  it('denies a call whose deadline passed, as a timeout', async () => {
    vi.useFakeTimers();
    const backend = createMockBackend('demo');
    vi.advanceTimersByTime(83_000);
    expect((await backend.pendingApprovals()).map((c) => c.id)).toEqual([42, 43]);
    const [row] = await backend.queryLog({ limit: 1 });
    expect(row).toMatchObject({ tool: 'delete_note', decision: 'denied', decidedBy: 'timeout', outcome: 'not_run' });
  });

  it('ask and withdraw add and remove calls', async () => {
    const backend = createMockBackend('demo', { approvals: 'none' });
    const added = backend.ask({ server: 'notes', tool: 'add_note' });
    expect((await backend.pendingApprovals()).map((c) => c.id)).toEqual([added.id]);
    backend.withdraw(added.id);
    expect(await backend.pendingApprovals()).toEqual([]);
    const [row] = await backend.queryLog({ limit: 1 });
    expect(row).toMatchObject({ decidedBy: 'client', decision: 'denied', outcome: 'cancelled' });
  });
});

describe('mock call log', () => {
  it('has 263 hash-chained rows over nine days, oldest first, and none without servers', () => {
    const log = scenarioLog('demo');
    expect(log).toHaveLength(263);
    expect(log.map((r) => r.id)).toEqual(log.map((_, i) => i + 1));
    const times = log.map((r) => r.timeMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const r of log) {
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.argumentsHash).toMatch(/^[0-9a-f]{64}$/);
      expect(() => JSON.parse(r.arguments) as unknown).not.toThrow();
    }
    expect(new Set(log.map((r) => r.hash)).size).toBe(263);
    expect(new Set(log.map((r) => r.decidedBy))).toEqual(new Set(['rule', 'dialog', 'cli', 'timeout', 'client']));
    expect(new Set(log.map((r) => r.outcome))).toEqual(new Set(['ok', 'error', 'cancelled', 'not_run']));
    expect(scenarioLog('empty')).toEqual([]);
  });

  it('queries newest first with filters, limit and offset', async () => {
    const backend = createMockBackend('demo');
    const first = await backend.queryLog({ limit: 200 });
    expect(first).toHaveLength(200);
    expect(first[0]!.id).toBe(263);
    const rest = await backend.queryLog({ limit: 200, offset: 200 });
    expect(rest.map((r) => r.id)).toEqual(Array.from({ length: 63 }, (_, i) => 63 - i));

    const denied = await backend.queryLog({ server: 'notes', decision: 'denied' });
    expect(denied.length).toBeGreaterThan(0);
    for (const r of denied) expect([r.server, r.decision]).toEqual(['notes', 'denied']);

    const since = first[9]!.timeMs;
    expect((await backend.queryLog({ sinceMs: since })).map((r) => r.id)).toEqual(first.slice(0, 10).map((r) => r.id));
    // Search is case-insensitive and looks at the arguments only.
    const hits = await backend.queryLog({ search: 'CUS_88' });
    expect(hits.length).toBeGreaterThan(0);
    for (const r of hits) expect(r.arguments.toLowerCase()).toContain('cus_88');
    expect(await backend.queryLog({ tool: 'read' })).toEqual([]);
  });

  it('verify fails on the row that was edited', async () => {
    const backend = createMockBackend('demo');
    await expect(backend.verifyLog()).resolves.toMatchObject({ ok: true, rows: 263 });
    backend.tamper(17);
    const result = await backend.verifyLog();
    expect(result.ok).toBe(false);
    expect(result.message).toContain('Row 17');
  });

  it('export counts what the filter matches, in the data directory', async () => {
    const backend = createMockBackend('demo');
    const all = await backend.exportLog('json', {});
    expect(all.rows).toBe(263);
    expect(all.path).toMatch(/\/exports\/calls-.*\.json$/);
    const notes = await backend.exportLog('csv', { server: 'notes' });
    expect(notes.rows).toBe((await backend.queryLog({ server: 'notes' })).length);
    expect(notes.path.endsWith('.csv')).toBe(true);
  });
});

describe('mock policies and settings', () => {
  it('setToolPolicy changes the rule and notifies, and refuses unknown tools', async () => {
    const backend = createMockBackend('demo');
    const seen = vi.fn();
    await backend.onServersChanged(seen);
    await backend.setToolPolicy('notes', 'read_note', 'deny');
    const notes = (seen.mock.calls.at(-1)![0] as Awaited<ReturnType<typeof backend.listServers>>).find((s) => s.name === 'notes')!;
    expect(notes.tools.find((t) => t.name === 'read_note')).toMatchObject({
      rule: 'deny',
      effective: 'deny',
      effectiveReason: 'your rule',
      defaultRule: 'allow',
    });
    for (const [server, tool, kind] of [
      ['ghost', 'x', 'NoSuchServer'],
      ['notes', 'ghost', 'NoSuchTool'],
    ] as const) {
      const err: unknown = await backend.setToolPolicy(server, tool, 'ask').catch((e: unknown) => e);
      expect((err as ApiError).kind).toBe(kind);
    }
  });

  it('validates and stores approval settings', async () => {
    const backend = createMockBackend('demo');
    await expect(backend.approvalSettings()).resolves.toEqual(MOCK_APPROVAL_SETTINGS);
    for (const bad of [
      { ...MOCK_APPROVAL_SETTINGS, timeoutSecs: 9 },
      { ...MOCK_APPROVAL_SETTINGS, timeoutSecs: 3601 },
      { ...MOCK_APPROVAL_SETTINGS, retentionDays: -1 },
    ]) {
      const err: unknown = await backend.setApprovalSettings(bad).catch((e: unknown) => e);
      expect((err as ApiError).kind).toBe('InvalidSettings');
    }
    const next = { timeoutSecs: 30, askNonReadOnly: true, retentionDays: 0 };
    await backend.setApprovalSettings(next);
    await expect(backend.approvalSettings()).resolves.toEqual(next);
  });
});

describe('mock clients', () => {
  const USER = (client: string) => ({ client, scope: 'user' as const, project: null });
  const register = (client: string) => ({ ...USER(client), action: 'register' as const, server: null });
  const unregister = (client: string) => ({ ...USER(client), action: 'unregister' as const, server: null });

  async function target(backend: MockBackend, id: string, project: string | null = null, scope: 'user' | 'project' = 'user') {
    const c = (await backend.listClients(project)).find((x) => x.id === id);
    if (!c) throw new Error(`no ${id}`);
    const t = scope === 'user' ? c.user : c.project;
    if (!t) throw new Error(`no ${scope} file for ${id}`);
    return t;
  }

  it('picks the client scenario from ?clients=, defaulting to demo', () => {
    expect(clientScenarioFromUrl('?clients=none')).toBe('none');
    expect(clientScenarioFromUrl('?mock=empty&clients=error')).toBe('error');
    expect(clientScenarioFromUrl('?clients=bogus')).toBe('demo');
    expect(clientScenarioFromUrl('')).toBe('demo');
  });

  it('knows the 15 clients in the catalog’s order, with Linux paths under /home/ada', async () => {
    const clients = await createMockBackend('demo').listClients(null);
    expect(clients.map((c) => c.id)).toEqual([
      'claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'zed', 'cline', 'roo-code',
      'gemini', 'codex', 'lm-studio', 'goose', 'opencode', 'kiro', 'continue',
    ]);
    expect(clients.map((c) => c.id)).toEqual(CLIENT_SPECS.map((s) => s.id));
    for (const c of clients) {
      expect(c.user?.path).toMatch(/^\/home\/ada\//);
      expect(c.project).toBeNull();
      expect(c.nextStep).not.toBe('');
    }
    const byId = Object.fromEntries(clients.map((c) => [c.id, c]));
    expect(byId['claude-desktop']!.user!.path).toBe('/home/ada/.config/Claude/claude_desktop_config.json');
    expect(byId['cursor']!.user!.path).toBe('/home/ada/.cursor/mcp.json');
    expect(byId['vscode']!.user!.path).toBe('/home/ada/.config/Code/User/mcp.json');
    expect(byId['claude-code']!.user!.path).toBe('/home/ada/.claude.json');
  });

  it('demo mixes every state, installed and not, and one client to import from', async () => {
    const clients = await createMockBackend('demo').listClients(null);
    const states = new Set(clients.map((c) => c.user!.state));
    expect(states).toEqual(new Set(['registered', 'outdated', 'absent', 'unreadable']));
    expect(clients.some((c) => c.installed)).toBe(true);
    expect(clients.some((c) => !c.installed)).toBe(true);
    const byId = Object.fromEntries(clients.map((c) => [c.id, c.user!]));
    expect(byId['claude-desktop']).toMatchObject({ state: 'registered', form: 'stdio', canUndo: true });
    expect(byId['claude-code']).toMatchObject({
      state: 'outdated',
      form: 'http',
      detail: `points at ${OLD_GATEWAY_URL}; Gatehouse now listens on http://127.0.0.1:8737/mcp`,
    });
    expect(byId['codex']).toMatchObject({ state: 'outdated', detail: 'carries an old token' });
    expect(byId['zed']).toMatchObject({ state: 'unreadable', detail: ZED_SYNTAX_ERROR });
    expect(byId['cursor']).toMatchObject({ state: 'absent', otherServers: ['github', 'postgres', 'linear', 'filesystem'] });
  });

  it('none has nothing installed and nothing registered; error rejects', async () => {
    const clients = await createMockBackend('demo', { clients: 'none' }).listClients(null);
    expect(clients).toHaveLength(15);
    for (const c of clients) {
      expect(c.installed).toBe(false);
      expect(c.user).toMatchObject({ state: 'absent', otherServers: [], canUndo: false });
    }
    const err: unknown = await createMockBackend('demo', { clients: 'error' }).listClients(null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
  });

  it('a project adds the project files of the clients that have one', async () => {
    const clients = await createMockBackend('demo').listClients(MOCK_PROJECT);
    for (const c of clients) {
      if (c.supportsProject) {
        expect(c.project?.path.startsWith(`${MOCK_PROJECT}/`)).toBe(true);
        expect(c.project?.form).toBe('stdio');
      } else {
        expect(c.project).toBeNull();
      }
    }
    const code = clients.find((c) => c.id === 'claude-code')!;
    expect(code.project).toMatchObject({ path: `${MOCK_PROJECT}/.mcp.json`, state: 'absent', otherServers: ['playwright'] });
    const err: unknown = await createMockBackend('demo').listClients('relative/dir').catch((e: unknown) => e);
    expect((err as ApiError).kind).toBe('NotADirectory');
  });

  it('plans a register as a diff, applies it with the base, and undo puts the file back', async () => {
    const backend = createMockBackend('demo');
    const changed = vi.fn();
    await backend.onClientsChanged(changed);
    const plan = await backend.planClientChange(register('cursor'));
    expect(plan).toMatchObject({ path: '/home/ada/.cursor/mcp.json', changed: true, creates: false });
    expect(plan.diff).toContain('+    "gatehouse": {');
    expect(plan.diff).toContain('"Authorization": "Bearer 3f9a…c21b"');
    expect(plan.diff).not.toContain(MOCK_TOKEN);

    const result = await backend.applyClientChange(register('cursor'), plan.base);
    expect(result.path).toBe(plan.path);
    expect(result.backup).toMatch(/client-backups\/cursor-[0-9a-f]{8}\/.+\.json$/);
    expect(result.nextStep).toContain('Cursor');
    expect(changed).toHaveBeenCalledTimes(1);
    expect(await target(backend, 'cursor')).toMatchObject({ state: 'registered', canUndo: true });

    const again = await backend.planClientChange(register('cursor'));
    expect(again).toMatchObject({ changed: false, diff: '' });

    await backend.undoClientChange(USER('cursor'));
    expect(await target(backend, 'cursor')).toMatchObject({ state: 'absent', canUndo: false });
    const err: unknown = await backend.undoClientChange(USER('cursor')).catch((e: unknown) => e);
    expect((err as ApiError).kind).toBe('NoBackup');
  });

  it('creates a missing file, and the diff says so', async () => {
    const backend = createMockBackend('demo');
    const plan = await backend.planClientChange(register('opencode'));
    expect(plan.creates).toBe(true);
    const [from, to, hunk] = plan.diff.split('\n');
    expect([from, to]).toEqual(['--- /dev/null', '+++ /home/ada/.config/opencode/opencode.json']);
    expect(hunk).toMatch(/^@@ -0,0 \+1,\d+ @@$/);
    expect(plan.diff.split('\n').slice(3).every((l) => l === '' || l.startsWith('+'))).toBe(true);
    const result = await backend.applyClientChange(register('opencode'), plan.base);
    expect(result.backup).toBeNull();
    expect(await target(backend, 'opencode')).toMatchObject({ state: 'registered', canUndo: true });
  });

  it('updates an outdated entry and unregisters a current one', async () => {
    const backend = createMockBackend('demo');
    const plan = await backend.planClientChange(register('claude-code'));
    expect(plan.diff).toContain(`-      "url": "${OLD_GATEWAY_URL}",`);
    expect(plan.diff).toContain('+      "url": "http://127.0.0.1:8737/mcp",');
    await backend.applyClientChange(register('claude-code'), plan.base);
    expect((await target(backend, 'claude-code')).state).toBe('registered');

    const off = await backend.planClientChange(unregister('claude-desktop'));
    expect(off.diff).toContain(`-      "command": "${MOCK_GATEHOUSE_BIN}",`);
    await backend.applyClientChange(unregister('claude-desktop'), off.base);
    expect((await target(backend, 'claude-desktop')).state).toBe('absent');
  });

  it('refuses an apply when the file changed since the plan', async () => {
    const backend = createMockBackend('demo');
    const plan = await backend.planClientChange(register('gemini'));
    backend.editClientFile(USER('gemini'));
    const err: unknown = await backend.applyClientChange(register('gemini'), plan.base).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('ChangedSince');
    expect((await target(backend, 'gemini')).state).toBe('absent');
    const fresh = await backend.planClientChange(register('gemini'));
    expect(fresh.base).not.toBe(plan.base);
    expect(fresh.diff).toContain('"editedElsewhere": true');
  });

  it('will not plan for a file it cannot read', async () => {
    const err: unknown = await createMockBackend('demo').planClientChange(register('zed')).catch((e: unknown) => e);
    expect((err as ApiError).kind).toBe('Syntax');
    expect((err as ApiError).message).toContain(ZED_SYNTAX_ERROR);
  });

  it('writes Codex as TOML and Goose as YAML', async () => {
    const backend = createMockBackend('demo');
    const codex = await backend.planClientChange(register('codex'));
    expect(codex.diff).toContain('[mcp_servers.gatehouse]');
    expect(codex.diff).toContain('+http_headers = { Authorization = "Bearer 3f9a…c21b" }');
    const goose = await backend.planClientChange(register('goose'));
    expect(goose.diff).toContain('+extensions:');
    expect(goose.diff).toContain('+    uri: http://127.0.0.1:8737/mcp');
  });

  it('a rotated token makes HTTP entries outdated, not bridge entries', async () => {
    const backend = createMockBackend('demo');
    await backend.rotateToken();
    expect(await target(backend, 'vscode')).toMatchObject({ state: 'outdated', detail: 'carries an old token' });
    expect((await target(backend, 'claude-desktop')).state).toBe('registered');
  });

  it('imports what it can, moves secrets, and replaces the entries on request', async () => {
    const backend = createMockBackend('demo');
    const { candidates, replacement } = await backend.planClientImport(USER('cursor'));
    expect(candidates.map((c) => [c.name, c.skip === null])).toEqual([
      ['github', true],
      ['postgres', true],
      ['linear', false],
      ['filesystem', false],
    ]);
    expect(candidates[0]).toMatchObject({
      command: 'npx -y @modelcontextprotocol/server-github',
      secrets: ['GITHUB_PERSONAL_ACCESS_TOKEN'],
      plainEnv: ['GITHUB_TOOLSETS'],
    });
    expect(candidates[2]!.skip).toBe('remote servers (url) are not imported');
    expect(candidates[3]!.skip).toBe("a server named 'filesystem' already exists in Gatehouse");

    const result = await backend.applyClientImport(USER('cursor'), true, replacement!.base);
    expect(result).toMatchObject({
      imported: ['github', 'postgres'],
      movedSecrets: ['github/GITHUB_PERSONAL_ACCESS_TOKEN', 'postgres/PGPASSWORD'],
      replaced: true,
      path: '/home/ada/.cursor/mcp.json',
    });
    expect((await backend.listServers()).map((s) => s.name)).toEqual(
      expect.arrayContaining(['github', 'postgres']),
    );
    expect(await target(backend, 'cursor')).toMatchObject({
      state: 'registered',
      otherServers: ['linear', 'filesystem'],
      canUndo: true,
    });
  });

  it('without replace, the client keeps its entries', async () => {
    const backend = createMockBackend('demo');
    const result = await backend.applyClientImport(USER('cursor'), false, null);
    expect(result.replaced).toBe(false);
    expect(await target(backend, 'cursor')).toMatchObject({ state: 'absent', canUndo: false });
  });

  it('plans the replacement as a diff: the imported entries out, secrets masked, Gatehouse’s entry in', async () => {
    const backend = createMockBackend('demo');
    const { replacement } = await backend.planClientImport(USER('cursor'));
    expect(replacement).toMatchObject({ path: '/home/ada/.cursor/mcp.json', changed: true, creates: false });
    const diff = replacement!.diff;
    const removed = diff.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'));
    const added = diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(removed).toContain('-    "github": {');
    expect(removed).toContain('-    "postgres": {');
    expect(removed).toContain('-        "GITHUB_PERSONAL_ACCESS_TOKEN": "****",');
    expect(removed).toContain('-        "PGPASSWORD": "****"');
    // Plain env stays readable; the skipped servers stay.
    expect(removed).toContain('-        "GITHUB_TOOLSETS": "repos,issues"');
    expect(removed.join('\n')).not.toMatch(/linear|filesystem/);
    expect(added).toContain('+    "gatehouse": {');
    expect(added).toContain('+        "Authorization": "Bearer 3f9a…c21b"');
    expect(diff).not.toContain('ghp_EXAMPLE_NOT_A_REAL_TOKEN');
    expect(diff).not.toContain('example-password');
    expect(diff).not.toContain(MOCK_TOKEN);
    // The base is the file's, the same one a register plan of it carries.
    expect(replacement!.base).toBe((await backend.planClientChange(register('cursor'))).base);
  });

  it('has no replacement when nothing can be imported', async () => {
    const backend = createMockBackend('demo');
    await expect(backend.planClientImport(USER('claude-desktop'))).resolves.toEqual({ candidates: [], replacement: null });
    backend.editClientFile(USER('gemini'), (doc) => ({ ...doc, mcpServers: { linear: { url: 'https://mcp.linear.app/mcp' } } }));
    const plan = await backend.planClientImport(USER('gemini'));
    expect(plan.candidates.map((c) => c.skip)).toEqual(['remote servers (url) are not imported']);
    expect(plan.replacement).toBeNull();
  });

  it('refuses a replace when the file changed since the plan, and imports nothing', async () => {
    const backend = createMockBackend('demo');
    const { replacement } = await backend.planClientImport(USER('cursor'));
    const before = (await backend.listServers()).map((s) => s.name);
    backend.editClientFile(USER('cursor'));
    const err: unknown = await backend
      .applyClientImport(USER('cursor'), true, replacement!.base)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('ChangedSince');
    expect((await backend.listServers()).map((s) => s.name)).toEqual(before);
    expect(await target(backend, 'cursor')).toMatchObject({ state: 'absent', canUndo: false });

    const fresh = await backend.planClientImport(USER('cursor'));
    expect(fresh.replacement!.base).not.toBe(replacement!.base);
    expect(fresh.replacement!.diff).toContain('"editedElsewhere": true');
    const result = await backend.applyClientImport(USER('cursor'), true, fresh.replacement!.base);
    expect(result).toMatchObject({ imported: ['github', 'postgres'], replaced: true });
  });

  it('without replace the base is not checked', async () => {
    const backend = createMockBackend('demo');
    await backend.planClientImport(USER('cursor'));
    backend.editClientFile(USER('cursor'));
    const result = await backend.applyClientImport(USER('cursor'), false, null);
    expect(result).toMatchObject({ imported: ['github', 'postgres'], replaced: false });
  });

  it('the folder picker returns the demo project until told otherwise', async () => {
    const backend = createMockBackend('demo');
    await expect(backend.pickProjectDir()).resolves.toBe(MOCK_PROJECT);
    backend.setProjectPick(null);
    await expect(backend.pickProjectDir()).resolves.toBeNull();
  });

  it('clients-changed reaches subscribers until they unlisten', async () => {
    const backend = createMockBackend('demo');
    const cb = vi.fn();
    const off = await backend.onClientsChanged(cb);
    backend.clientsChanged();
    expect(cb).toHaveBeenCalledTimes(1);
    off();
    expect(backend.clientsSubscriberCount).toBe(0);
  });
});

describe('unifiedDiff', () => {
  it('is empty for equal texts and has three lines of context', () => {
    expect(unifiedDiff('/f', 'a\n', 'a\n')).toBe('');
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n') + '\n';
    const after = before.replace('5\n', 'five\n');
    expect(unifiedDiff('/f', before, after)).toBe(
      ['--- /f', '+++ /f', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
    );
  });

  it('deletes a whole file', () => {
    expect(unifiedDiff('/f', 'a\nb\n', null)).toBe(['--- /f', '+++ /dev/null', '@@ -1,2 +0,0 @@', '-a', '-b', ''].join('\n'));
  });
});
