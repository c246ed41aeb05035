// Per-tool policies in an expanded server row, through the whole app with
// the mock backend (whose servers-changed snapshots carry the new policy).

import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import App from '../App.svelte';
import { ApiError } from '../lib/api';
import { createMockBackend } from '../lib/api.mock';
import type { MockBackend } from '../lib/api.mock';

function text(el: Element | null): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

async function expand(backend: MockBackend, name: string): Promise<HTMLElement> {
  render(App, { props: { backend, pollMs: 0, logPollMs: 0 } });
  const row = await waitFor(() => {
    const el = document.querySelector<HTMLElement>(`[data-server="${name}"]`);
    if (!el) throw new Error(`row ${name} not rendered yet`);
    return el;
  });
  await fireEvent.click(row.querySelector('button.row')!);
  return row;
}

const select = (row: HTMLElement, tool: string) =>
  row.querySelector<HTMLSelectElement>(`select.tool-policy[data-tool="${tool}"]`)!;
const toolItem = (row: HTMLElement, tool: string) => row.querySelector<HTMLElement>(`li[data-tool="${tool}"]`)!;

describe('tool policy', () => {
  it('offers Default (with what it means), Allow, Ask and Deny for each tool', async () => {
    const notes = await expand(createMockBackend('demo'), 'notes');
    expect(notes.querySelectorAll('select.tool-policy')).toHaveLength(4);

    const del = select(notes, 'delete_note');
    expect(Array.from(del.options).map((o) => [o.value, o.textContent])).toEqual([
      ['default', 'Default (ask)'],
      ['allow', 'Allow'],
      ['ask', 'Ask'],
      ['deny', 'Deny'],
    ]);
    expect(del.value).toBe('default');
    expect(text(select(notes, 'list_notes').options[0]!)).toBe('Default (allow)');
    // It has a name for screen readers.
    expect(text(notes.querySelector(`label[for="${del.id}"]`))).toBe('Policy for delete_note');

    const item = toolItem(notes, 'delete_note');
    expect(text(item.querySelector('.policy-effective'))).toBe('ask');
    expect(item.querySelector('.policy-effective')?.getAttribute('data-tone')).toBe('pending');
    expect(text(item.querySelector('.reason'))).toBe('destructive');
    expect(item.querySelector('.policy-always')).toBeNull();
    expect(item.querySelector('.policy-changed')).toBeNull();
  });

  it('badges an always-allowed tool, and one whose definition changed', async () => {
    const fs = await expand(createMockBackend('demo'), 'filesystem');
    const write = toolItem(fs, 'write_file');
    expect(text(write.querySelector('.policy-always'))).toBe('always allowed');
    expect(text(write.querySelector('.policy-changed'))).toBe('definition changed');
    // Always-allow is suspended while the definition is changed.
    expect(text(write.querySelector('.policy-effective'))).toBe('ask');

    const move = toolItem(fs, 'move_file');
    expect(select(fs, 'move_file').value).toBe('deny');
    expect(text(move.querySelector('.policy-effective'))).toBe('deny');
    expect(text(move.querySelector('.reason'))).toBe('your rule');
  });

  it('a change calls setToolPolicy and shows the new policy; Default sends null', async () => {
    const backend = createMockBackend('demo');
    const set = vi.spyOn(backend, 'setToolPolicy');
    const notes = await expand(backend, 'notes');

    await fireEvent.change(select(notes, 'delete_note'), { target: { value: 'deny' } });
    expect(set).toHaveBeenCalledWith('notes', 'delete_note', 'deny');
    const item = toolItem(notes, 'delete_note');
    await waitFor(() => expect(text(item.querySelector('.policy-effective'))).toBe('deny'));
    expect(text(item.querySelector('.reason'))).toBe('your rule');
    expect(select(notes, 'delete_note').value).toBe('deny');

    await fireEvent.change(select(notes, 'delete_note'), { target: { value: 'default' } });
    expect(set).toHaveBeenLastCalledWith('notes', 'delete_note', null);
    await waitFor(() => expect(text(item.querySelector('.policy-effective'))).toBe('ask'));
    expect(select(notes, 'delete_note').value).toBe('default');
  });

  it('shows a failure inline and goes back to the rule in force', async () => {
    const backend = createMockBackend('demo');
    vi.spyOn(backend, 'setToolPolicy').mockRejectedValueOnce(new ApiError('Config', 'gatehouse.toml is read-only'));
    const notes = await expand(backend, 'notes');
    const sel = select(notes, 'read_note');

    await fireEvent.change(sel, { target: { value: 'deny' } });
    const item = toolItem(notes, 'read_note');
    const error = await waitFor(() => {
      const el = item.querySelector('.policy-error');
      if (!el) throw new Error('no error yet');
      return el;
    });
    expect(text(error)).toBe('Couldn’t change the policy: gatehouse.toml is read-only');
    expect(sel.value).toBe('default');
    expect(sel.getAttribute('aria-invalid')).toBe('true');
    expect(text(item.querySelector('.policy-effective'))).toBe('allow');
    // The error is the row's own, not the app's banner.
    expect(document.querySelector('#error-banner')).toBeNull();

    // The next change clears it.
    await fireEvent.change(sel, { target: { value: 'ask' } });
    await waitFor(() => expect(item.querySelector('.policy-error')).toBeNull());
    await waitFor(() => expect(text(item.querySelector('.policy-effective'))).toBe('ask'));
  });
});
