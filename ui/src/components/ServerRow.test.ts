// Row actions and the logs panel, exercised through the whole app with the
// mock backend (the same one `npm run dev` uses).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '../App.svelte';
import { ApiError } from '../lib/api';
import { createMockBackend } from '../lib/api.mock';
import type { MockBackend } from '../lib/api.mock';
import type { LogLineView } from '../lib/backend';
import { formatClock } from '../lib/format';

const FAST = { startupMs: 30, shutdownMs: 30 };

function renderApp(backend: MockBackend, logPollMs = 2000) {
  return render(App, { props: { backend, pollMs: 0, logPollMs } });
}

async function row(name: string): Promise<HTMLElement> {
  return waitFor(() => {
    const el = document.querySelector<HTMLElement>(`[data-server="${name}"]`);
    if (!el) throw new Error(`row ${name} not rendered yet`);
    return el;
  });
}

function text(el: Element | null): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function toggleOf(li: HTMLElement): HTMLButtonElement {
  const el = li.querySelector<HTMLButtonElement>('button.row');
  if (!el) throw new Error('no row button');
  return el;
}

async function expand(name: string): Promise<HTMLElement> {
  const li = await row(name);
  await fireEvent.click(toggleOf(li));
  expect(toggleOf(li).getAttribute('aria-expanded')).toBe('true');
  return li;
}

function actionsOf(li: HTMLElement): string[] {
  return Array.from(li.querySelectorAll('.actions button')).map((b) => b.getAttribute('data-action') ?? '?');
}

/**
 * Let pending promise callbacks (mock calls, Svelte's batched DOM updates) run.
 * Used with fake intervals, where testing-library's `waitFor` cannot poll.
 */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => queueMicrotask(r));
  await tick();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('row actions', () => {
  it('a running server offers Stop and Restart but not Start', async () => {
    renderApp(createMockBackend('demo'));
    const notes = await expand('notes');
    expect(notes.querySelector('.action-stop')).not.toBeNull();
    expect(notes.querySelector('.action-restart')).not.toBeNull();
    expect(notes.querySelector('.action-start')).toBeNull();
    expect(actionsOf(notes)).toEqual(['stop', 'restart']);
  });

  it.each([
    ['failed', 'postgres', ['start', 'restart']],
    ['failed', 'weather', ['stop', 'restart']],
    ['demo', 'git', ['stop']],
    ['demo', 'scratchpad', ['start']],
  ] as const)('%s/%s offers %j', async (scenario, name, actions) => {
    renderApp(createMockBackend(scenario));
    const li = await expand(name);
    expect(actionsOf(li)).toEqual(actions);
  });

  it('Stop calls the backend, shows progress, then the pill says stopped and Start appears', async () => {
    const backend = createMockBackend('demo', FAST);
    const stop = vi.spyOn(backend, 'stopServer');
    renderApp(backend);
    const notes = await expand('notes');
    // Svelte delegates clicks to the app root, so a stopped click never
    // reaches listeners outside it.
    const escaped = vi.fn();
    document.addEventListener('click', escaped);
    try {
      await fireEvent.click(notes.querySelector<HTMLButtonElement>('.action-stop')!);
    } finally {
      document.removeEventListener('click', escaped);
    }

    expect(stop).toHaveBeenCalledTimes(1);
    expect(stop).toHaveBeenCalledWith('notes');
    expect(escaped).not.toHaveBeenCalled();
    expect(toggleOf(notes).getAttribute('aria-expanded')).toBe('true');

    // In flight: the clicked button is busy and everything is disabled.
    const busy = notes.querySelector<HTMLButtonElement>('.action-stop')!;
    expect(busy.getAttribute('aria-busy')).toBe('true');
    expect(text(busy)).toBe('Stopping…');
    for (const b of notes.querySelectorAll<HTMLButtonElement>('.actions button')) expect(b.disabled).toBe(true);

    await waitFor(() => expect(text(notes.querySelector('.state'))).toBe('stopped'));
    await waitFor(() => expect(notes.querySelector('.action-start')).not.toBeNull());
    expect(notes.querySelector('.action-stop')).toBeNull();
    expect(notes.querySelector('.action-restart')).toBeNull();
    expect(notes.querySelector<HTMLButtonElement>('.action-start')!.disabled).toBe(false);
    expect(text(notes.querySelector('.tool-count'))).toBe('0 tools');
    expect(notes.querySelector('.pid')).toBeNull();
    expect(notes.querySelector('.details')).not.toBeNull();
  });

  it('keeps keyboard focus in the button group when the focused button goes away', async () => {
    renderApp(createMockBackend('demo', FAST));
    const notes = await expand('notes');
    const stopButton = notes.querySelector<HTMLButtonElement>('.action-stop')!;
    stopButton.focus();
    await fireEvent.click(stopButton);
    const start = await waitFor(() => {
      const el = notes.querySelector<HTMLButtonElement>('.action-start');
      if (!el || el.disabled) throw new Error('Start not ready');
      return el;
    });
    await waitFor(() => expect(document.activeElement).toBe(start));
  });

  it('Start then goes through starting to running', async () => {
    const backend = createMockBackend('demo', FAST);
    const start = vi.spyOn(backend, 'startServer');
    renderApp(backend);
    const scratch = await expand('scratchpad');
    await fireEvent.click(scratch.querySelector('.action-start')!);
    expect(start).toHaveBeenCalledWith('scratchpad');
    await waitFor(() => expect(text(scratch.querySelector('.state'))).toBe('starting'));
    await waitFor(() => expect(text(scratch.querySelector('.state'))).toBe('running'));
    expect(actionsOf(scratch)).toEqual(['stop', 'restart']);
  });

  it('Restart calls restartServer for that server only', async () => {
    const backend = createMockBackend('failed', FAST);
    const restart = vi.spyOn(backend, 'restartServer');
    renderApp(backend);
    const pg = await expand('postgres');
    await fireEvent.click(pg.querySelector('.action-restart')!);
    expect(restart).toHaveBeenCalledTimes(1);
    expect(restart).toHaveBeenCalledWith('postgres');
    await waitFor(() => expect(text(pg.querySelector('.state'))).toBe('running'));
  });

  it('a failed request shows the error banner with the server and kind, and re-enables the buttons', async () => {
    const backend = createMockBackend('demo', FAST);
    vi.spyOn(backend, 'stopServer').mockRejectedValueOnce(
      new ApiError('Internal', 'supervisor channel closed'),
    );
    renderApp(backend);
    const notes = await expand('notes');
    await fireEvent.click(notes.querySelector('.action-stop')!);

    const banner = await screen.findByRole('alert');
    expect(text(banner)).toContain('Couldn’t stop notes: supervisor channel closed');
    expect(text(banner)).toContain('Internal');
    await waitFor(() => expect(notes.querySelector<HTMLButtonElement>('.action-stop')!.disabled).toBe(false));
    expect(text(notes.querySelector('.state'))).toBe('running');
  });
});

describe('logs panel', () => {
  const LINES: LogLineView[] = [
    { timeMs: new Date(2024, 10, 20, 9, 41, 7).getTime(), stream: 'gatehouse', text: 'Spawned pid 7' },
    { timeMs: new Date(2024, 10, 20, 9, 41, 8).getTime(), stream: 'stderr', text: '    at main (index.js:3:9)' },
    { timeMs: new Date(2024, 10, 20, 9, 41, 9).getTime(), stream: 'stdout', text: 'hello on stdout' },
  ];

  it('renders the lines from serverLogs, oldest first, with time, stream and exact text', async () => {
    const backend = createMockBackend('demo');
    const logs = vi.spyOn(backend, 'serverLogs').mockResolvedValue(LINES);
    renderApp(backend);
    const notes = await expand('notes');

    await waitFor(() => expect(notes.querySelectorAll('.logs .log-line')).toHaveLength(3));
    expect(logs).toHaveBeenCalledWith('notes');
    const rendered = Array.from(notes.querySelectorAll<HTMLElement>('.log-line'));
    expect(rendered.map((l) => l.dataset.stream)).toEqual(['gatehouse', 'stderr', 'stdout']);
    expect(rendered.map((l) => l.querySelector('.time')?.textContent)).toEqual([
      '09:41:07',
      '09:41:08',
      '09:41:09',
    ]);
    expect(rendered.map((l) => l.querySelector('.tag')?.textContent)).toEqual(['gatehouse', 'stderr', 'stdout']);
    // Leading spaces survive (the CSS preserves them with pre-wrap).
    expect(rendered[1]!.querySelector('.text')?.textContent).toBe('    at main (index.js:3:9)');
    expect(formatClock(LINES[0]!.timeMs)).toBe('09:41:07');
  });

  it('renders the mock scenario logs, including the long line', async () => {
    renderApp(createMockBackend('failed'));
    const pg = await expand('postgres');
    await waitFor(() => expect(pg.querySelectorAll('.log-line').length).toBeGreaterThan(10));
    const streams = new Set(Array.from(pg.querySelectorAll('.log-line')).map((l) => l.getAttribute('data-stream')));
    expect(streams).toEqual(new Set(['gatehouse', 'stderr']));
    expect(text(pg.querySelector('.logs'))).toContain('ECONNREFUSED');
  });

  it('says so when there are no lines', async () => {
    renderApp(createMockBackend('demo'));
    const scratch = await expand('scratchpad');
    await waitFor(() => expect(text(scratch.querySelector('.logs'))).toBe('No log lines yet.'));
    expect(scratch.querySelectorAll('.log-line')).toHaveLength(0);
  });

  it('shows the gatehouse line an action appended', async () => {
    renderApp(createMockBackend('demo', FAST));
    const notes = await expand('notes');
    await waitFor(() => expect(notes.querySelectorAll('.log-line').length).toBeGreaterThan(0));
    await fireEvent.click(notes.querySelector('.action-stop')!);
    // The state change triggers a refresh; no need to wait for the next poll.
    await waitFor(() => {
      const last = Array.from(notes.querySelectorAll('.log-line')).at(-1);
      expect(last?.getAttribute('data-stream')).toBe('gatehouse');
      expect(text(last?.querySelector('.text') ?? null)).toBe('Stopped');
    });
  });

  it('keeps the last lines and says so when a refresh fails', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const backend = createMockBackend('demo');
    const logs = vi.spyOn(backend, 'serverLogs');
    renderApp(backend);
    const notes = await expand('notes');
    await waitFor(() => expect(notes.querySelectorAll('.log-line').length).toBeGreaterThan(0));
    const count = notes.querySelectorAll('.log-line').length;

    logs.mockRejectedValueOnce(new ApiError('NoSuchServer', 'there is no server `notes`'));
    vi.advanceTimersByTime(2000);
    await flush();
    expect(text(notes.querySelector('.load-error'))).toBe('Couldn’t load logs: there is no server `notes`');
    expect(notes.querySelectorAll('.log-line')).toHaveLength(count);
    expect(screen.queryByRole('alert')).toBeNull();

    vi.advanceTimersByTime(2000);
    await flush();
    expect(notes.querySelector('.load-error')).toBeNull();
    expect(notes.querySelectorAll('.log-line')).toHaveLength(count);
  });

  it('polls every 2 s while expanded, skips while hidden, and stops after collapse', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const backend = createMockBackend('demo');
    const logs = vi.spyOn(backend, 'serverLogs');
    renderApp(backend);
    const notes = await row('notes');
    await flush();
    expect(logs).not.toHaveBeenCalled();
    const baseline = vi.getTimerCount(); // the app's own clock and poll

    await fireEvent.click(toggleOf(notes));
    await flush();
    expect(logs).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(1999);
    await flush();
    expect(logs).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    await flush();
    expect(logs).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(2000);
    await flush();
    expect(logs).toHaveBeenCalledTimes(3);

    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    try {
      vi.advanceTimersByTime(6000);
      await flush();
      expect(logs).toHaveBeenCalledTimes(3);
    } finally {
      delete (document as { hidden?: boolean }).hidden;
    }
    expect(document.hidden).toBe(false);
    vi.advanceTimersByTime(2000);
    await flush();
    expect(logs).toHaveBeenCalledTimes(4);

    await fireEvent.click(toggleOf(notes));
    expect(notes.querySelector('.logs')).toBeNull();
    vi.advanceTimersByTime(20_000);
    await flush();
    expect(logs).toHaveBeenCalledTimes(4);
    expect(vi.getTimerCount()).toBe(baseline);
  });

  it('stops polling when the app unmounts', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const backend = createMockBackend('demo');
    const logs = vi.spyOn(backend, 'serverLogs');
    const { unmount } = renderApp(backend);
    await expand('notes');
    await flush();
    expect(logs).toHaveBeenCalledTimes(1);
    unmount();
    vi.advanceTimersByTime(10_000);
    await flush();
    expect(logs).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('follows new lines at the bottom unless the user scrolled up', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const backend = createMockBackend('demo');
    renderApp(backend);
    const notes = await expand('notes');
    await waitFor(() => expect(notes.querySelectorAll('.log-line').length).toBeGreaterThan(0));
    const well = notes.querySelector<HTMLElement>('.logs')!;

    // jsdom has no layout: give the well a fake geometry that grows with its lines.
    let top = 0;
    const lineHeight = 17;
    Object.defineProperties(well, {
      clientHeight: { configurable: true, get: () => 220 },
      scrollHeight: { configurable: true, get: () => well.querySelectorAll('.log-line').length * lineHeight },
      scrollTop: {
        configurable: true,
        get: () => top,
        set: (v: number) => {
          top = Math.max(0, Math.min(v, well.scrollHeight - 220));
        },
      },
    });
    for (let i = 0; i < 30; i++) backend.log('notes', 'stderr', `line ${i}`);
    vi.advanceTimersByTime(2000);
    await flush();
    expect(text(well.querySelector('.log-line:last-child .text'))).toBe('line 29');
    expect(top).toBe(well.scrollHeight - 220);
    expect(notes.querySelector('.latest')).toBeNull();

    // The user scrolls up: new lines must not yank the view back down.
    well.scrollTop = 40;
    await fireEvent.scroll(well);
    const jump = await waitFor(() => {
      const el = notes.querySelector<HTMLButtonElement>('.latest');
      if (!el) throw new Error('no jump button');
      return el;
    });
    backend.log('notes', 'stderr', 'line 30');
    vi.advanceTimersByTime(2000);
    await flush();
    expect(text(well.querySelector('.log-line:last-child .text'))).toBe('line 30');
    expect(top).toBe(40);

    // "Jump to latest" pins it to the bottom again.
    await fireEvent.click(jump);
    expect(top).toBe(well.scrollHeight - 220);
    await waitFor(() => expect(notes.querySelector('.latest')).toBeNull());
    backend.log('notes', 'stderr', 'line 31');
    vi.advanceTimersByTime(2000);
    await flush();
    expect(text(well.querySelector('.log-line:last-child .text'))).toBe('line 31');
    expect(top).toBe(well.scrollHeight - 220);
  });

  it('logs of other rows are not fetched', async () => {
    const backend = createMockBackend('demo');
    const logs = vi.spyOn(backend, 'serverLogs');
    renderApp(backend);
    const fs = await expand('filesystem');
    await waitFor(() => expect(fs.querySelectorAll('.log-line').length).toBeGreaterThan(0));
    expect(new Set(logs.mock.calls.map((c) => c[0]))).toEqual(new Set(['filesystem']));
    expect(within(fs).getByRole('log', { name: 'Logs of filesystem' })).toBe(fs.querySelector('.logs'));
  });
});
