import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import * as api from './api';
import * as mock from './api.mock';
import { createMockBackend, scenarioFromUrl, scenarioServers } from './api.mock';

afterEach(() => {
  vi.useRealTimers();
});

describe('mock twin', () => {
  it('exports the same functions as api.ts', () => {
    for (const fn of ['listServers', 'appInfo', 'onServersChanged'] as const) {
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
