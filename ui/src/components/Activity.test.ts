// The Activity view: the call log table, its filters and paging, export and
// verify, against the mock backend (263 logged calls over nine days).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import Activity from './Activity.svelte';
import App from '../App.svelte';
import { ApiError } from '../lib/api';
import { createMockBackend, MOCK_APP_INFO, scenarioServers } from '../lib/api.mock';
import type { MockBackend } from '../lib/api.mock';

function text(el: Element | null): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function el<T extends Element = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`${selector} not rendered`);
  return found;
}

function find<T extends Element = HTMLElement>(selector: string): Promise<T> {
  return waitFor(() => el<T>(selector));
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => queueMicrotask(r));
  await tick();
}

const rowIds = () =>
  Array.from(document.querySelectorAll('tr.activity-row')).map((r) => Number(r.getAttribute('data-id')));

function show(backend: MockBackend, props: { visible?: boolean } = {}) {
  const onerror = vi.fn<(err: ApiError) => void>();
  const view = render(Activity, {
    props: { backend, servers: scenarioServers('demo'), visible: true, now: Date.now(), onerror, ...props },
  });
  return { onerror, ...view };
}

/** Waits for the first page. */
async function loaded(): Promise<void> {
  await waitFor(() => expect(document.querySelectorAll('tr.activity-row').length).toBeGreaterThan(0));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('activity: table', () => {
  it('lists the newest 200 calls first, and Load more fetches the next 200', async () => {
    const backend = createMockBackend('demo');
    const query = vi.spyOn(backend, 'queryLog');
    show(backend);
    await loaded();

    expect(query).toHaveBeenCalledWith({ limit: 200, offset: 0 });
    const ids = rowIds();
    expect(ids).toHaveLength(200);
    expect(ids[0]).toBe(263);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));

    await fireEvent.click(el('.action-load-more'));
    await waitFor(() => expect(rowIds()).toHaveLength(263));
    expect(query).toHaveBeenLastCalledWith({ limit: 200, offset: 200 });
    expect(rowIds().at(-1)).toBe(1);
    expect(document.querySelector('.action-load-more')).toBeNull();
  });

  it('shows decision, who decided, and the outcome of each call', async () => {
    const backend = createMockBackend('demo', { approvals: 'none' });
    const allowed = backend.record({ client: 'cursor/1.4.2', server: 'notes', tool: 'add_note', decidedBy: 'dialog', waitMs: 4_200, durationMs: 12 });
    const denied = backend.record({
      server: 'notes',
      tool: 'delete_note',
      decision: 'denied',
      decidedBy: 'timeout',
      waitMs: 120_000,
      outcome: 'not_run',
      durationMs: 0,
    });
    show(backend);
    await loaded();

    const deniedRow = el(`tr.activity-row[data-id="${denied.id}"]`);
    expect(text(deniedRow.querySelector('.cell-decision'))).toBe('denied');
    expect(deniedRow.querySelector('.cell-decision')?.getAttribute('data-tone')).toBe('bad');
    expect(text(deniedRow.querySelector('.cell-decided-by'))).toBe('timeout');
    expect(text(deniedRow.querySelector('.cell-wait'))).toBe('2m 00s');
    expect(text(deniedRow.querySelector('.cell-outcome'))).toBe('not run');
    expect(text(deniedRow.querySelector('.cell-duration'))).toBe('—');

    const allowedRow = el(`tr.activity-row[data-id="${allowed.id}"]`);
    expect(text(allowedRow.querySelector('.cell-decision'))).toBe('allowed');
    expect(text(allowedRow.querySelector('.cell-decided-by'))).toBe('dialog');
    expect(text(allowedRow.querySelector('.cell-client'))).toBe('cursor/1.4.2');
    expect(text(allowedRow.querySelector('.cell-tool'))).toBe('add_note');
    expect(text(allowedRow.querySelector('.cell-wait'))).toBe('4.2 s');
    expect(text(allowedRow.querySelector('.cell-duration'))).toBe('12 ms');
  });

  it('a click on a row shows its arguments, hashes and outcome detail', async () => {
    const backend = createMockBackend('demo');
    const row = backend.record({
      arguments: JSON.stringify({ path: '/tmp/x', token: '****' }),
      outcome: 'error',
      outcomeDetail: 'EACCES: permission denied',
    });
    show(backend);
    await loaded();

    const tr = el(`tr.activity-row[data-id="${row.id}"]`);
    const toggle = tr.querySelector('button')!;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(tr.querySelector('.cell-server')!);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');

    const detail = el(`#call-${row.id}`);
    expect(text(detail.querySelector('.detail-args'))).toBe('{"path": "/tmp/x","token": masked}');
    expect(text(detail.querySelector('.detail-args-hash'))).toBe(row.argumentsHash);
    expect(text(detail.querySelector('.detail-outcome'))).toBe('EACCES: permission denied');
    expect(text(detail.querySelector('.detail-hash'))).toBe(`#${row.id} ${row.hash}`);

    // The toggle button is the keyboard path, and toggles once.
    await fireEvent.click(toggle);
    expect(document.querySelector(`#call-${row.id}`)).toBeNull();
  });

  it('says so when nothing was logged yet', async () => {
    show(createMockBackend('empty'));
    const empty = await find('.activity-empty');
    expect(text(empty)).toBe('No tool calls yet. Calls through the gateway appear here.');
    expect(document.querySelector('.activity-table')).toBeNull();
  });

  it('reports a failed load and retries', async () => {
    const backend = createMockBackend('demo');
    vi.spyOn(backend, 'queryLog').mockRejectedValueOnce(new ApiError('Store', 'database is locked'));
    const { onerror } = show(backend);
    await find('#activity-load-failed');
    expect(onerror).toHaveBeenCalledTimes(1);
    expect(onerror.mock.calls[0]![0].message).toBe('Couldn’t load the call log: database is locked');
    expect(onerror.mock.calls[0]![0].kind).toBe('Store');
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await loaded();
  });
});

describe('activity: filters', () => {
  it('passes server, decision and since to queryLog, from the first page', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(2024, 10, 20, 12, 0, 0));
    const now = Date.now();
    const backend = createMockBackend('demo');
    const query = vi.spyOn(backend, 'queryLog');
    show(backend);
    await loaded();

    const servers = Array.from(el<HTMLSelectElement>('.filter-server').options).map((o) => o.value);
    expect(servers).toEqual(['', 'notes', 'filesystem', 'git', 'scratchpad']);

    await fireEvent.change(el('.filter-server'), { target: { value: 'notes' } });
    await waitFor(() => expect(query).toHaveBeenLastCalledWith({ server: 'notes', limit: 200, offset: 0 }));
    await waitFor(() => {
      for (const r of document.querySelectorAll('tr.activity-row')) expect(text(r.querySelector('.cell-server'))).toBe('notes');
    });

    await fireEvent.change(el('.filter-decision'), { target: { value: 'denied' } });
    await waitFor(() =>
      expect(query).toHaveBeenLastCalledWith({ server: 'notes', decision: 'denied', limit: 200, offset: 0 }),
    );
    await waitFor(() => {
      const rows = document.querySelectorAll('tr.activity-row');
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(text(r.querySelector('.cell-decision'))).toBe('denied');
    });

    await fireEvent.change(el('.filter-since'), { target: { value: 'day' } });
    await waitFor(() =>
      expect(query).toHaveBeenLastCalledWith({
        server: 'notes',
        decision: 'denied',
        sinceMs: now - 24 * 3_600_000,
        limit: 200,
        offset: 0,
      }),
    );
  });

  it('waits for a 250 ms pause in typing before it searches', async () => {
    const backend = createMockBackend('demo');
    const query = vi.spyOn(backend, 'queryLog');
    show(backend);
    await loaded();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const calls = query.mock.calls.length;

    const search = el<HTMLInputElement>('.filter-search');
    await fireEvent.input(search, { target: { value: 'cus' } });
    vi.advanceTimersByTime(200);
    await fireEvent.input(search, { target: { value: 'cus_88' } });
    vi.advanceTimersByTime(249);
    await flush();
    expect(query.mock.calls.length).toBe(calls);

    vi.advanceTimersByTime(1);
    await flush();
    expect(query.mock.calls.length).toBe(calls + 1);
    expect(query).toHaveBeenLastCalledWith({ search: 'cus_88', limit: 200, offset: 0 });
    await flush();
    for (const r of document.querySelectorAll('tr.activity-row')) {
      expect(r.querySelector('.cell-tool')?.getAttribute('title')).toMatch(/create_or_update/);
    }

    await fireEvent.input(el('.filter-tool'), { target: { value: ' read_note ' } });
    vi.advanceTimersByTime(250);
    await flush();
    expect(query).toHaveBeenLastCalledWith({ tool: 'read_note', search: 'cus_88', limit: 200, offset: 0 });
  });

  it('says when nothing matches, and clears the filters', async () => {
    const backend = createMockBackend('demo');
    const query = vi.spyOn(backend, 'queryLog');
    show(backend);
    await loaded();
    await fireEvent.input(el('.filter-search'), { target: { value: 'no such text anywhere' } });
    const empty = await find('.activity-empty[data-filtered]');
    expect(text(empty)).toContain('No calls match these filters.');

    await fireEvent.click(el('.action-clear-filters'));
    await loaded();
    expect(query).toHaveBeenLastCalledWith({ limit: 200, offset: 0 });
    expect(el<HTMLInputElement>('.filter-search').value).toBe('');
  });

  it('Load more keeps the filter of the first page', async () => {
    const backend = createMockBackend('demo');
    for (let i = 0; i < 250; i++) backend.record({ server: 'git', tool: 'git_status' });
    const query = vi.spyOn(backend, 'queryLog');
    show(backend);
    await loaded();
    await fireEvent.change(el('.filter-server'), { target: { value: 'git' } });
    await waitFor(() => expect(query).toHaveBeenLastCalledWith({ server: 'git', limit: 200, offset: 0 }));
    await fireEvent.click(await find('.action-load-more'));
    await waitFor(() => expect(rowIds()).toHaveLength(250));
    expect(query).toHaveBeenLastCalledWith({ server: 'git', limit: 200, offset: 200 });
  });
});

describe('activity: new calls', () => {
  it('shows a new call at once on the first page', async () => {
    const backend = createMockBackend('demo');
    show(backend);
    await loaded();
    expect(backend.activitySubscriberCount).toBe(1);
    const row = backend.record({ server: 'filesystem', tool: 'write_file' });
    await waitFor(() => expect(rowIds()[0]).toBe(row.id));
  });

  it('past the first page, offers the new calls instead of moving the rows', async () => {
    const backend = createMockBackend('demo');
    show(backend);
    await loaded();
    await fireEvent.click(el('.action-load-more'));
    await waitFor(() => expect(rowIds()).toHaveLength(263));

    const row = backend.record({});
    await flush();
    expect(rowIds()).toHaveLength(263);
    expect(rowIds()[0]).toBe(263);
    await fireEvent.click(await find('.new-calls'));
    await waitFor(() => expect(rowIds()[0]).toBe(row.id));
    expect(rowIds()).toHaveLength(200);
    expect(document.querySelector('.new-calls')).toBeNull();
  });

  it('while hidden, waits until shown', async () => {
    const backend = createMockBackend('demo');
    const query = vi.spyOn(backend, 'queryLog');
    const view = show(backend, { visible: false });
    await loaded();
    expect(query).toHaveBeenCalledTimes(1);
    const row = backend.record({});
    await flush();
    expect(query).toHaveBeenCalledTimes(1);
    await view.rerender({ visible: true });
    await waitFor(() => expect(rowIds()[0]).toBe(row.id));
    expect(query).toHaveBeenCalledTimes(2);
  });

  it('stops listening when unmounted', async () => {
    const backend = createMockBackend('demo');
    const { unmount } = show(backend);
    await loaded();
    unmount();
    expect(backend.activitySubscriberCount).toBe(0);
  });
});

describe('activity: export and verify', () => {
  it('exports what the filters show, all pages, and says where it went', async () => {
    const backend = createMockBackend('demo');
    const exportLog = vi.spyOn(backend, 'exportLog');
    show(backend);
    await loaded();

    await fireEvent.click(el('.action-export-csv'));
    await waitFor(() => expect(text(el('.export-status'))).toMatch(/^Saved 263 rows to .*\.csv$/));
    expect(exportLog).toHaveBeenCalledWith('csv', {});
    expect(text(el('.export-status'))).toContain(`${MOCK_APP_INFO.dataDir}/exports/`);

    await fireEvent.change(el('.filter-server'), { target: { value: 'notes' } });
    await waitFor(() => expect(rowIds().length).toBeLessThan(200));
    const notes = rowIds().length;
    await fireEvent.click(el('.action-export-json'));
    await waitFor(() => expect(text(el('.export-status'))).toMatch(new RegExp(`^Saved ${notes} rows to .*\\.json$`)));
    expect(exportLog).toHaveBeenLastCalledWith('json', { server: 'notes' });
  });

  it('shows a failed export in the status line', async () => {
    const backend = createMockBackend('demo');
    vi.spyOn(backend, 'exportLog').mockRejectedValueOnce(new ApiError('ExportIo', 'disk full'));
    show(backend);
    await loaded();
    await fireEvent.click(el('.action-export-json'));
    await waitFor(() => expect(text(el('.export-status'))).toBe('Couldn’t export: disk full'));
    expect(el('.export-status').getAttribute('data-ok')).toBe('false');
  });

  it('verifies the log: intact, then one edited row', async () => {
    const backend = createMockBackend('demo');
    show(backend);
    await loaded();

    await fireEvent.click(el('.action-verify'));
    const ok = await find('.verify-result');
    expect(ok.getAttribute('data-ok')).toBe('true');
    expect(text(ok)).toBe('Log intact: 263 rows');

    backend.tamper(17);
    await fireEvent.click(el('.action-verify'));
    await waitFor(() => expect(el('.verify-result').getAttribute('data-ok')).toBe('false'));
    expect(text(el('.verify-result'))).toContain('Row 17');
    expect(text(el('.verify-result'))).toMatch(/^Log check failed: /);
  });

  it('a verify that could not run is not reported as intact', async () => {
    const backend = createMockBackend('demo');
    vi.spyOn(backend, 'verifyLog').mockRejectedValueOnce(new ApiError('Store', 'no chain head'));
    show(backend);
    await loaded();
    await fireEvent.click(el('.action-verify'));
    await waitFor(() => expect(el('.verify-result').getAttribute('data-ok')).toBe('false'));
    expect(text(el('.verify-result'))).toBe('Couldn’t check the log: no chain head');
  });
});

describe('activity: in the app', () => {
  it('is a tab between Servers and Settings, loaded on its first visit', async () => {
    const backend = createMockBackend('demo');
    const query = vi.spyOn(backend, 'queryLog');
    render(App, { props: { backend, pollMs: 0, logPollMs: 0 } });
    await find('[data-server="notes"]');
    expect(query).not.toHaveBeenCalled();

    await fireEvent.click(el('[role="tab"][data-view="activity"]'));
    const panel = el('#panel-activity');
    expect(panel.hidden).toBe(false);
    expect(panel.querySelector('[data-view="activity"]')?.id).toBe('activity');
    await loaded();
    expect(location.hash).toBe('#/activity');

    // Filters survive a visit elsewhere.
    await fireEvent.change(el('.filter-decision'), { target: { value: 'denied' } });
    await waitFor(() => expect(query).toHaveBeenLastCalledWith({ decision: 'denied', limit: 200, offset: 0 }));
    await fireEvent.click(el('[role="tab"][data-view="servers"]'));
    await fireEvent.click(el('[role="tab"][data-view="activity"]'));
    expect(el<HTMLSelectElement>('.filter-decision').value).toBe('denied');
    history.replaceState(null, '', location.pathname);
  });
});
