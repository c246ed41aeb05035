import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import App from './App.svelte';
import { ApiError } from './lib/api';
import { createMockBackend, LONG_FAILURE_DETAIL, MOCK_APP_INFO, scenarioServers } from './lib/api.mock';
import type { Backend } from './lib/backend';

function renderApp(backend: Backend, pollMs = 0) {
  return render(App, { props: { backend, pollMs } });
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

describe('App', () => {
  it('shows the empty state with the add command and the config path', async () => {
    const { container } = renderApp(createMockBackend('empty'));

    const empty = await waitFor(() => {
      const el = container.querySelector('#empty-state');
      if (!el) throw new Error('no empty state yet');
      return el as HTMLElement;
    });
    expect(text(empty)).toContain('gatehouse server add NAME -- CMD ARGS…');
    await waitFor(() => expect(text(empty)).toContain(MOCK_APP_INFO.configPath));
    expect(container.querySelector('#servers')).toBeNull();
    expect(text(container.querySelector('#summary'))).toContain('No servers');
  });

  it('renders a failed row with its state, tool count and failure detail', async () => {
    const { container } = renderApp(createMockBackend('failed'));

    const failed = await row('postgres');
    expect(text(failed.querySelector('.state'))).toBe('failed');
    expect(text(failed.querySelector('.tool-count'))).toBe('0 tools');
    expect(text(failed)).toContain(LONG_FAILURE_DETAIL);

    expect(text(container.querySelector('#servers [data-server="notes"] .state'))).toBe('running');
    expect(text(container.querySelector('#summary'))).toContain(
      '4 servers · 1 running · 1 retrying · 2 failed',
    );
  });

  it('expands a row on click to list tools with annotation badges', async () => {
    renderApp(createMockBackend('demo'));
    const notes = await row('notes');
    expect(text(notes.querySelector('.tool-count'))).toBe('4 tools');
    expect(notes.querySelector('.details')).toBeNull();

    const toggle = within(notes).getByRole('button', { expanded: false });
    await fireEvent.click(toggle);

    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const details = within(notes).getByRole('region');
    const badges = Object.fromEntries(
      Array.from(details.querySelectorAll('li[data-tool]')).map((t) => [
        t.getAttribute('data-tool'),
        text(t.querySelector('.badge')),
      ]),
    );
    expect(badges).toEqual({
      list_notes: 'read-only',
      read_note: 'read-only',
      add_note: 'writes',
      delete_note: 'destructive',
    });
    expect(text(details)).toContain('/usr/local/bin/gatehouse');
    expect(text(details)).toContain('48213');

    await fireEvent.click(toggle);
    expect(notes.querySelector('.details')).toBeNull();
  });

  it('rows are native buttons (Enter and Space toggle) and arrow keys move between them', async () => {
    renderApp(createMockBackend('demo'));
    const notes = await row('notes');
    const toggle = within(notes).getByRole('button');
    toggle.focus();
    expect(document.activeElement).toBe(toggle);
    // Native <button>s turn Enter into a click; jsdom does not, so emulate the
    // browser and also check that arrow keys move focus to the next row.
    await fireEvent.keyDown(toggle, { key: 'ArrowDown' });
    const next = within(await row('filesystem')).getByRole('button');
    expect(document.activeElement).toBe(next);
    expect(toggle.tagName).toBe('BUTTON');
  });

  it('applies servers-changed snapshots live and keeps rows expanded', async () => {
    const backend = createMockBackend('demo');
    renderApp(backend);
    const notes = await row('notes');
    await fireEvent.click(within(notes).getByRole('button'));
    await waitFor(() => expect(backend.subscriberCount).toBe(1));

    const next = scenarioServers('demo').map((s) =>
      s.name === 'notes'
        ? { ...s, state: 'failed' as const, tools: [], detail: 'Crashed: out of memory.' }
        : s,
    );
    backend.emit(next);

    await waitFor(() => expect(text(notes.querySelector('.state'))).toBe('failed'));
    expect(text(notes.querySelector('.tool-count'))).toBe('0 tools');
    expect(notes.querySelector('.details')).not.toBeNull();
    expect(text(notes)).toContain('Crashed: out of memory.');
  });

  it('polls as a fallback when no event arrives', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const backend = createMockBackend('empty');
      const spy = vi.spyOn(backend, 'listServers');
      renderApp(backend, 2000);
      await waitFor(() => expect(spy).toHaveBeenCalledTimes(1));
      vi.advanceTimersByTime(2000);
      await waitFor(() => expect(spy).toHaveBeenCalledTimes(2));
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows backend errors in a dismissable banner and clears them on recovery', async () => {
    const backend = createMockBackend('error');
    renderApp(backend, 0);

    const banner = await screen.findByRole('alert');
    expect(text(banner)).toContain('permission denied');
    expect(document.querySelector('#empty-state')).toBeNull();

    backend.failWith(null);
    backend.emit(scenarioServers('failed'));
    await row('postgres');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('keeps showing the last good list when a refresh fails', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const backend = createMockBackend('demo');
      renderApp(backend, 2000);
      await row('notes');
      backend.failWith(new ApiError('Io', 'state file unreadable'));
      vi.advanceTimersByTime(2000);
      const banner = await screen.findByRole('alert');
      expect(text(banner)).toContain('state file unreadable');
      expect(text(banner)).toContain('Io');
      expect(document.querySelector('[data-server="notes"]')).not.toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('dismisses the banner', async () => {
    renderApp(createMockBackend('error'));
    const banner = await screen.findByRole('alert');
    await fireEvent.click(within(banner).getByRole('button', { name: 'Dismiss error' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('handles 50 long-named servers with the full name in the title', async () => {
    const { container } = renderApp(createMockBackend('many'));
    await waitFor(() => expect(container.querySelectorAll('#servers [data-server]')).toHaveLength(50));
    const longest = scenarioServers('many').find((s) => s.name.length === 64);
    expect(longest).toBeDefined();
    const name = container.querySelector(`[data-server="${longest!.name}"] .name`);
    expect(name?.getAttribute('title')).toBe(longest!.name);

    const filter = screen.getByRole('searchbox', { name: 'Filter servers' });
    await fireEvent.input(filter, { target: { value: '-07' } });
    const rows = container.querySelectorAll('#servers [data-server]');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(50);
    for (const r of rows) expect(r.getAttribute('data-server')).toContain('-07');
  });
});
