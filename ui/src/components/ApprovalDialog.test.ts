// The approval window: queue, keyboard safety, countdown and answers,
// against the mock backend with fake timers and a fake clock.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import { tick } from 'svelte';
import ApprovalDialog from './ApprovalDialog.svelte';
import { ApiError } from '../lib/api';
import { createMockBackend, LONG_FILE_CONTENT, pendingCall } from '../lib/api.mock';
import type { MockBackend } from '../lib/api.mock';

const T0 = new Date(2024, 10, 20, 9, 41, 0).getTime();

function text(el: Element | null): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function el<T extends Element = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`${selector} not rendered`);
  return found;
}

/** Let pending promise callbacks (mock calls, Svelte's batched DOM updates) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => queueMicrotask(r));
  await tick();
}

async function advance(ms: number): Promise<void> {
  vi.advanceTimersByTime(ms);
  await flush();
}

const ids = (selector: string) =>
  Array.from(document.querySelectorAll(selector)).map((e) => Number(e.getAttribute('data-id')));
const currentId = () => Number(el('.approval-current').getAttribute('data-id'));

async function open(backend: MockBackend = createMockBackend('demo'), pollMs = 0) {
  const view = render(ApprovalDialog, { props: { backend, pollMs } });
  await flush();
  return { backend, ...view };
}

/** A key pressed wherever the focus is (the dialog listens on the window). */
async function press(key: string, init: KeyboardEventInit = {}): Promise<KeyboardEvent> {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init });
  (document.activeElement ?? document.body).dispatchEvent(event);
  await flush();
  return event;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('approval dialog: queue', () => {
  it('shows the oldest call in full, and every waiting call compactly, oldest first', async () => {
    await open();
    expect(document.querySelector('[data-view="approval"]')).not.toBeNull();
    expect(ids('.approval-item')).toEqual([41, 42, 43]);
    expect(currentId()).toBe(41);
    expect(text(el('.approval-position'))).toBe('1 of 3');
    expect(el('.approval-item[data-id="41"]').getAttribute('aria-current')).toBe('true');

    const current = el('.approval-current');
    expect(text(current.querySelector('.approval-server'))).toBe('notes');
    expect(text(current.querySelector('h1'))).toBe('Delete note delete_note');
    expect(current.querySelector('.approval-tool')?.tagName).toBe('CODE');
    expect(text(current.querySelector('.description'))).toBe('Permanently delete a note by id.');
    expect(
      Array.from(current.querySelectorAll('[data-annotation]')).map((b) => b.getAttribute('data-annotation')),
    ).toEqual(['destructive', 'idempotent']);
    expect(text(current.querySelector('.approval-reason'))).toBe('delete_note is marked destructive.');
    expect(text(current.querySelector('.approval-reason code'))).toBe('delete_note');
    expect(text(current.querySelector('.approval-client'))).toBe('claude-desktop/0.9.2');
    // One line per entry; the indentation is padding, not text.
    expect(Array.from(current.querySelectorAll('.approval-args .json-line')).map((l) => l.textContent)).toEqual([
      '{',
      '"id": 7',
      '}',
    ]);
    expect(current.querySelector('.approval-changes')).toBeNull();
  });

  it('sorts what the backend sends by the time each call arrived', async () => {
    const backend = createMockBackend('demo', { approvals: 'none' });
    vi.spyOn(backend, 'pendingApprovals').mockResolvedValue([
      pendingCall({ id: 9, server: 'b', tool: 'late', askedAtMs: T0 - 1_000 }, T0),
      pendingCall({ id: 12, server: 'a', tool: 'early', askedAtMs: T0 - 9_000 }, T0),
      pendingCall({ id: 7, server: 'c', tool: 'middle', askedAtMs: T0 - 5_000 }, T0),
    ]);
    await open(backend);
    expect(ids('.approval-item')).toEqual([12, 7, 9]);
    expect(currentId()).toBe(12);
  });

  it('selects another call with a click, and says which one it is', async () => {
    await open();
    await fireEvent.click(el('.approval-item[data-id="43"]'));
    expect(currentId()).toBe(43);
    expect(text(el('.approval-position'))).toBe('3 of 3');
    expect(el('.approval-item[data-id="43"]').getAttribute('aria-current')).toBe('true');
    expect(el('.approval-item[data-id="41"]').hasAttribute('aria-current')).toBe(false);
  });

  it('hides the position and the list when only one call waits', async () => {
    const backend = createMockBackend('demo', { approvals: 'none' });
    backend.ask({ server: 'notes', tool: 'add_note' });
    await open(backend);
    expect(document.querySelectorAll('.approval-current')).toHaveLength(1);
    expect(document.querySelector('.approval-item')).toBeNull();
    expect(document.querySelector('.approval-position')).toBeNull();
  });

  it('shows a calm empty state when nothing waits', async () => {
    await open(createMockBackend('demo', { approvals: 'none' }));
    expect(text(el('[data-view="approval"]'))).toContain('No calls are waiting');
    expect(document.querySelector('.approval-current')).toBeNull();
    expect(document.querySelector('.action-deny')).toBeNull();
  });

  it('picks up a new call from approvals-changed, and polls as well', async () => {
    const backend = createMockBackend('demo');
    const poll = vi.spyOn(backend, 'pendingApprovals');
    await open(backend, 1000);
    expect(backend.approvalSubscriberCount).toBe(1);
    expect(poll).toHaveBeenCalledTimes(1);

    const added = backend.ask({ server: 'filesystem', tool: 'move_file' });
    await flush();
    expect(ids('.approval-item')).toEqual([41, 42, 43, added.id]);
    expect(currentId()).toBe(41);

    const calls = poll.mock.calls.length;
    await advance(3000);
    expect(poll.mock.calls.length).toBe(calls + 3);
  });

  it('without events (not permitted), polling still finds new calls', async () => {
    const backend = createMockBackend('demo');
    vi.spyOn(backend, 'onApprovalsChanged').mockRejectedValueOnce(new ApiError('Permission', 'event.listen not allowed'));
    await open(backend, 1000);
    const added = backend.ask({ server: 'notes', tool: 'add_note' });
    await flush();
    expect(ids('.approval-item')).toEqual([41, 42, 43]);
    await advance(1000);
    expect(ids('.approval-item')).toEqual([41, 42, 43, added.id]);
    expect(document.querySelector('.approval-notice')).toBeNull();
  });

  it('stops listening and polling when closed', async () => {
    const backend = createMockBackend('demo');
    const poll = vi.spyOn(backend, 'pendingApprovals');
    const { unmount } = await open(backend, 1000);
    unmount();
    expect(backend.approvalSubscriberCount).toBe(0);
    const calls = poll.mock.calls.length;
    await advance(5000);
    expect(poll.mock.calls.length).toBe(calls);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('approval dialog: answers and keys', () => {
  it('starts with the focus on Deny, and buttons are real buttons', async () => {
    await open();
    expect(document.activeElement).toBe(el('.action-deny'));
    for (const b of ['.action-deny', '.action-allow-once', '.action-allow-always']) {
      expect(el(b).tagName).toBe('BUTTON');
    }
    expect(text(el('.action-allow-always'))).toBe('Always allow this tool');
  });

  it('Esc denies the current call, which then disappears', async () => {
    const { backend } = await open();
    const answer = vi.spyOn(backend, 'answerApproval');
    const esc = await press('Escape');
    expect(esc.defaultPrevented).toBe(true);
    expect(answer).toHaveBeenCalledTimes(1);
    expect(answer).toHaveBeenCalledWith(41, 'deny');
    expect(ids('.approval-item')).toEqual([42, 43]);
    expect(currentId()).toBe(42);
    expect(document.activeElement).toBe(el('.action-deny'));

    const [row] = await backend.queryLog({ limit: 1 });
    expect(row).toMatchObject({ server: 'notes', tool: 'delete_note', decision: 'denied', decidedBy: 'dialog' });
  });

  it('ignores Enter for 700 ms after a call appears, then Enter allows it once', async () => {
    const { backend } = await open();
    const answer = vi.spyOn(backend, 'answerApproval');

    const early = await press('Enter');
    // Not a click on the focused Deny either.
    expect(early.defaultPrevented).toBe(true);
    await advance(699);
    await press('Enter');
    expect(answer).not.toHaveBeenCalled();
    expect(currentId()).toBe(41);

    await advance(1);
    await press('Enter');
    expect(answer).toHaveBeenCalledWith(41, 'allow_once');
    expect(currentId()).toBe(42);

    // The next call gets its own 700 ms.
    await press('Enter');
    expect(answer).toHaveBeenCalledTimes(1);
    await advance(700);
    await press('Enter');
    expect(answer).toHaveBeenLastCalledWith(42, 'allow_once');
  });

  it('ignores a held-down Enter and Enter with a modifier', async () => {
    const { backend } = await open();
    const answer = vi.spyOn(backend, 'answerApproval');
    await advance(1000);
    await press('Enter', { repeat: true });
    await press('Enter', { ctrlKey: true });
    expect(answer).not.toHaveBeenCalled();
  });

  it('restarts the Enter guard when another call is selected', async () => {
    const { backend } = await open();
    const answer = vi.spyOn(backend, 'answerApproval');
    await advance(5000);
    await fireEvent.click(el('.approval-item[data-id="42"]'));
    await flush();
    await press('Enter');
    expect(answer).not.toHaveBeenCalled();
    await advance(700);
    await press('Enter');
    expect(answer).toHaveBeenCalledWith(42, 'allow_once');
  });

  it('leaves Enter to a control the user tabbed to', async () => {
    const { backend } = await open();
    const answer = vi.spyOn(backend, 'answerApproval');
    await advance(1000);
    await press('Tab');
    el<HTMLButtonElement>('.action-allow-always').focus();
    const enter = await press('Enter');
    // The browser turns it into a click on that button; the dialog stays out of it.
    expect(enter.defaultPrevented).toBe(false);
    expect(answer).not.toHaveBeenCalled();
  });

  it('the buttons answer the current call', async () => {
    const { backend } = await open();
    const answer = vi.spyOn(backend, 'answerApproval');
    await fireEvent.click(el('.action-allow-once'));
    expect(answer).toHaveBeenLastCalledWith(41, 'allow_once');
    await fireEvent.click(el('.action-deny'));
    expect(answer).toHaveBeenLastCalledWith(42, 'deny');
    expect(ids('.approval-item')).toEqual([]);
    expect(currentId()).toBe(43);
  });

  it('"Always allow this tool" answers allow_always, and the tool is then always allowed', async () => {
    const { backend } = await open();
    const answer = vi.spyOn(backend, 'answerApproval');
    await fireEvent.click(el('.action-allow-always'));
    await flush();
    expect(answer).toHaveBeenCalledWith(41, 'allow_always');
    expect(ids('.approval-item')).toEqual([42, 43]);
    const notes = (await backend.listServers()).find((s) => s.name === 'notes');
    expect(notes?.tools.find((t) => t.name === 'delete_note')).toMatchObject({
      alwaysAllow: true,
      effective: 'allow',
    });
  });

  it('a call answered elsewhere (NotPending) says so briefly, disappears, and the dialog goes on', async () => {
    const { backend } = await open();
    const answer = vi
      .spyOn(backend, 'answerApproval')
      .mockRejectedValueOnce(new ApiError('NotPending', 'call 41 is no longer waiting'));
    const errors: unknown[] = [];
    const onError = (e: ErrorEvent) => errors.push(e.error);
    window.addEventListener('error', onError);
    try {
      await fireEvent.click(el('.action-allow-once'));
      await flush();
    } finally {
      window.removeEventListener('error', onError);
    }
    expect(answer).toHaveBeenCalledWith(41, 'allow_once');
    expect(errors).toEqual([]);
    const notice = el('.approval-notice');
    expect(notice.getAttribute('role')).toBe('alert');
    expect(text(notice)).toContain('no longer waiting');
    expect(currentId()).toBe(42);
    // The mock still has it (it never heard the answer), but the refresh must not bring it back.
    expect(ids('.approval-item')).toEqual([42, 43]);

    await advance(5000);
    expect(document.querySelector('.approval-notice')).toBeNull();
    expect(el<HTMLButtonElement>('.action-deny').disabled).toBe(false);
  });

  it('another failure keeps the call and says why', async () => {
    const { backend } = await open();
    vi.spyOn(backend, 'answerApproval').mockRejectedValueOnce(new ApiError('Internal', 'core is shutting down'));
    await fireEvent.click(el('.action-deny'));
    await flush();
    expect(text(el('.approval-notice'))).toBe('Couldn’t send the answer: core is shutting down');
    expect(currentId()).toBe(41);
    expect(ids('.approval-item')).toEqual([41, 42, 43]);
  });

  it('a call withdrawn by its client disappears', async () => {
    const { backend } = await open();
    backend.withdraw(41);
    await flush();
    expect(ids('.approval-item')).toEqual([42, 43]);
    expect(currentId()).toBe(42);
  });
});

describe('approval dialog: countdown', () => {
  it('counts down every second and turns urgent under 15 s', async () => {
    await open();
    // The first call arrived 38 s ago and the timeout is 120 s.
    const countdown = () => el('.approval-countdown');
    expect(text(countdown())).toBe('Denies in 1:22');
    expect(countdown().getAttribute('data-urgent')).toBe('false');

    await advance(1000);
    expect(text(countdown())).toBe('Denies in 1:21');

    await advance(66_000);
    expect(text(countdown())).toBe('Denies in 0:15');
    expect(countdown().getAttribute('data-urgent')).toBe('false');
    await advance(1000);
    expect(text(countdown())).toBe('Denies in 0:14');
    expect(countdown().getAttribute('data-urgent')).toBe('true');
    expect(countdown().classList.contains('urgent')).toBe(true);

    await advance(14_000);
    expect(text(countdown())).toBe('Denying…');
  });

  it('shows each waiting call’s time left in the list', async () => {
    await open();
    expect(
      Array.from(document.querySelectorAll('.approval-item .left')).map((e) => text(e)),
    ).toEqual(['1:22', '1:39', '1:56']);
  });
});

describe('approval dialog: what the call carries', () => {
  it('shows a masked argument as a chip, never as ****', async () => {
    await open();
    await fireEvent.click(el('.approval-item[data-id="43"]'));
    const args = el('.approval-args');
    const chip = args.querySelector('.json-masked');
    expect(text(chip)).toBe('masked');
    expect(text(chip?.closest('.json-line') ?? null)).toBe('"apiKey": masked,');
    expect(text(args)).not.toContain('****');
    expect(text(args)).toContain('"email": "maria.lopez@example.com"');
  });

  it('folds strings over 200 characters until "show all"', async () => {
    await open();
    await fireEvent.click(el('.approval-item[data-id="42"]'));
    const args = el('.approval-args');
    const line = Array.from(args.querySelectorAll('.json-line')).find((l) => text(l).startsWith('"content"'))!;
    expect(LONG_FILE_CONTENT.length).toBeGreaterThan(200);
    expect(line.textContent).not.toContain('Retention');
    const toggle = line.querySelector<HTMLButtonElement>('.fold-toggle')!;
    expect(text(toggle)).toBe(`show all (${LONG_FILE_CONTENT.length} characters)`);
    expect(toggle.getAttribute('aria-expanded')).toBe('false');

    await fireEvent.click(toggle);
    expect(line.textContent).toContain(JSON.stringify(LONG_FILE_CONTENT));
    expect(text(toggle)).toBe('show less');
    // The short ones were never folded.
    expect(args.querySelectorAll('.fold-toggle')).toHaveLength(1);
  });

  it('shows what changed in the definition, with absent sides as (none)', async () => {
    await open();
    await fireEvent.click(el('.approval-item[data-id="42"]'));
    const changes = el('.approval-current .approval-changes');
    expect(text(changes)).toContain('This tool’s definition changed since you last allowed it');
    const items = Array.from(changes.querySelectorAll('.change'));
    expect(items.map((i) => i.getAttribute('data-path'))).toEqual([
      'description',
      'inputSchema.properties.mode',
      'annotations.idempotentHint',
    ]);
    expect(text(items[0]!)).toMatch(/^description: "Create or overwrite a file." → became "Create or overwrite a file. Before writing/);
    expect(text(items[1]!)).toBe(
      'inputSchema.properties.mode: (none) → became {"type":"string","enum":["overwrite","append"],"default":"overwrite"}',
    );
    expect(text(items[2]!)).toBe('annotations.idempotentHint: true → became (none)');
    expect(changes.querySelectorAll('.fold-toggle')).toHaveLength(0);
    expect(text(el('.approval-item[data-id="42"] .changed'))).toBe('changed');
  });

  it('folds a long changed value', async () => {
    const backend = createMockBackend('demo', { approvals: 'none' });
    const after = 'x'.repeat(500);
    vi.spyOn(backend, 'pendingApprovals').mockResolvedValue([
      pendingCall({ id: 1, server: 'a', tool: 't', changes: [{ path: 'description', before: 'short', after }] }, T0),
    ]);
    await open(backend);
    const change = el('.approval-changes .change');
    expect(change.querySelectorAll('.fold-toggle')).toHaveLength(1);
    expect(change.textContent).not.toContain(JSON.stringify(after));
    await fireEvent.click(el('.approval-changes .fold-toggle'));
    expect(change.textContent).toContain(JSON.stringify(after));
  });
});
