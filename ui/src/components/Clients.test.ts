// The Clients view: registering Gatehouse with AI clients, against the mock
// backend (15 clients with Linux paths under /home/ada).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import Clients from './Clients.svelte';
import App from '../App.svelte';
import { ApiError } from '../lib/api';
import {
  createMockBackend,
  MOCK_PROJECT,
  OLD_GATEWAY_URL,
  ZED_SYNTAX_ERROR,
} from '../lib/api.mock';
import type { ClientScenario, MockBackend } from '../lib/api.mock';
import type { ClientPlan, ImportPlan } from '../lib/backend';

function text(el: Element | null | undefined): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function el<T extends Element = HTMLElement>(selector: string, root: ParentNode = document): T {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`${selector} not rendered`);
  return found;
}

function find<T extends Element = HTMLElement>(selector: string): Promise<T> {
  return waitFor(() => el<T>(selector));
}

function backendWith(clients: ClientScenario = 'demo'): MockBackend {
  return createMockBackend('demo', { clients });
}

function show(backend: MockBackend, props: { visible?: boolean; serverNames?: string[] } = {}) {
  const onerror = vi.fn<(err: ApiError) => void>();
  const view = render(Clients, { props: { backend, visible: true, onerror, ...props } });
  return { onerror, ...view };
}

const card = (id: string) => el(`#clients [data-client="${id}"]`);
const fileOf = (id: string, scope: 'user' | 'project' = 'user') => el(`[data-scope="${scope}"]`, card(id));
const button = (id: string, action: string, scope: 'user' | 'project' = 'user') =>
  el<HTMLButtonElement>(`[data-action="${action}"]`, fileOf(id, scope));
const review = (id: string, scope: 'user' | 'project' = 'user') => el(`#review-${id}-${scope}`);
const ids = (selector: string) =>
  Array.from(document.querySelectorAll(`${selector} [data-client]`)).map((c) => c.getAttribute('data-client'));

async function loaded(): Promise<void> {
  await find('#clients [data-client="cursor"]');
}

/** Waits for the review's Confirm to be ready (the plan arrived). */
async function ready(id: string, scope: 'user' | 'project' = 'user'): Promise<HTMLButtonElement> {
  return waitFor(() => {
    const confirm = el<HTMLButtonElement>('.action-confirm', review(id, scope));
    if (confirm.disabled) throw new Error('not ready');
    return confirm;
  });
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

afterEach(() => {
  vi.useRealTimers();
  history.replaceState(null, '', location.pathname);
});

describe('clients: cards', () => {
  it('lists installed clients first, the others under “Not found on this computer”', async () => {
    show(backendWith());
    await loaded();

    expect(ids('#clients-installed')).toEqual([
      'claude-desktop', 'claude-code', 'cursor', 'vscode', 'zed', 'gemini', 'codex', 'opencode',
    ]);
    expect(ids('#clients-missing')).toEqual(['windsurf', 'cline', 'roo-code', 'lm-studio', 'goose', 'kiro', 'continue']);
    const missing = el('#clients-missing');
    expect(text(el('h3.group-title', missing))).toBe('Not found on this computer 7');
    expect(screen.getByRole('group', { name: /Not found on this computer/ })).toBe(missing);
    expect(card('windsurf').getAttribute('data-installed')).toBe('false');
    expect(text(el('.presence', card('windsurf')))).toBe('Not found');
    expect(text(el('.presence', card('cursor')))).toBe('Installed');
    // Still registrable: the client may be installed later.
    expect(button('windsurf', 'register').disabled).toBe(false);
  });

  it('shows each file’s state, path, entry form and what is wrong', async () => {
    show(backendWith());
    await loaded();

    const state = (id: string) => text(el('.state', fileOf(id)));
    expect(state('claude-desktop')).toBe('Registered');
    expect(state('claude-code')).toBe('Outdated');
    expect(state('cursor')).toBe('Not registered');
    expect(state('zed')).toBe('Can’t read file');
    expect(el('.state', fileOf('claude-desktop')).getAttribute('data-tone')).toBe('ok');
    expect(el('.state', fileOf('claude-code')).getAttribute('data-tone')).toBe('pending');
    expect(el('.state', fileOf('zed')).getAttribute('data-tone')).toBe('bad');

    const path = el('.path', fileOf('claude-desktop'));
    expect(text(path)).toBe('/home/ada/.config/Claude/claude_desktop_config.json');
    expect(path.getAttribute('title')).toBe('/home/ada/.config/Claude/claude_desktop_config.json');
    expect(path.classList.contains('mono')).toBe(true);
    expect(text(el('.tail', path))).toBe('Claude/claude_desktop_config.json');

    expect(text(el('.form', fileOf('claude-desktop')))).toBe('gatehouse bridge');
    expect(text(el('.form', fileOf('cursor')))).toBe('HTTP endpoint');
    expect(text(el('.detail', fileOf('claude-code')))).toBe(
      `Gatehouse’s entry points at ${OLD_GATEWAY_URL}; Gatehouse now listens on http://127.0.0.1:8737/mcp.`,
    );
    expect(text(el('.client-note', card('claude-desktop')))).toContain('gets the gatehouse bridge command');
    expect(el('.client-note code', card('claude-desktop')).textContent).toBe('gatehouse bridge');
    expect(text(el('.summary'))).toBe('2 registered · 2 outdated · 1 can’t read');
  });

  it('offers the buttons each state allows', async () => {
    show(backendWith());
    await loaded();
    const actions = (id: string) =>
      Array.from(fileOf(id).querySelectorAll('.actions button')).map((b) => text(b));
    expect(actions('claude-desktop')).toEqual(['Unregister', 'Undo']);
    expect(actions('claude-code')).toEqual(['Update', 'Unregister', 'Undo']);
    expect(actions('cursor')).toEqual(['Register', 'Import 4 servers']);
    expect(actions('vscode')).toEqual(['Unregister']);
    expect(actions('gemini')).toEqual(['Register']);
    expect(button('cursor', 'import').getAttribute('aria-label')).toBe('Import 4 servers (Cursor, user file)');
    expect(button('cursor', 'import').title).toBe('Import github, postgres, linear, filesystem into Gatehouse');
  });

  it('an unreadable file shows where it breaks and refuses Register', async () => {
    const backend = backendWith();
    const plan = vi.spyOn(backend, 'planClientChange');
    show(backend);
    await loaded();

    const zed = fileOf('zed');
    const register = button('zed', 'register');
    expect(register.disabled).toBe(true);
    expect(register.title).toBe('Fix the file first; Gatehouse will not overwrite a file it cannot read.');
    const why = el(`#${register.getAttribute('aria-describedby')}`);
    expect(text(why)).toBe(
      `Can’t read this file: ${ZED_SYNTAX_ERROR}. Fix the file first; Gatehouse will not overwrite a file it cannot read.`,
    );
    expect(zed.contains(why)).toBe(true);
    expect(zed.querySelector('[data-action="unregister"]')).toBeNull();
    await fireEvent.click(register);
    expect(plan).not.toHaveBeenCalled();
    expect(document.querySelector('#review-zed-user')).toBeNull();
  });

  it('reloads when the backend says the clients’ files changed', async () => {
    const backend = backendWith();
    const list = vi.spyOn(backend, 'listClients');
    show(backend);
    await loaded();
    await waitFor(() => expect(backend.clientsSubscriberCount).toBe(1));
    const before = list.mock.calls.length;
    backend.clientsChanged();
    await waitFor(() => expect(list.mock.calls.length).toBe(before + 1));
  });

  it('with nothing installed, every client is under “Not found” and says so', async () => {
    show(backendWith('none'));
    await find('#clients [data-client="cursor"]');
    expect(document.querySelector('#clients-installed')).toBeNull();
    expect(ids('#clients-missing')).toHaveLength(15);
    expect(text(el('.group-intro'))).toContain('Gatehouse found none of the clients it knows on this computer.');
    expect(document.querySelector('.summary')).toBeNull();
  });
});

describe('clients: register, update, unregister', () => {
  it('Register shows the diff, applies it with the plan’s base, then says what to do next', async () => {
    const backend = backendWith();
    const plan = vi.spyOn(backend, 'planClientChange');
    const apply = vi.spyOn(backend, 'applyClientChange');
    const list = vi.spyOn(backend, 'listClients');
    show(backend);
    await loaded();

    const register = button('cursor', 'register');
    await fireEvent.click(register);
    const confirm = await ready('cursor');
    const req = { client: 'cursor', scope: 'user', project: null, action: 'register', server: null };
    expect(plan).toHaveBeenCalledWith(req);
    expect(apply).not.toHaveBeenCalled();

    const panel = review('cursor');
    expect(screen.getByRole('group', { name: 'Register Gatehouse with Cursor' })).toBe(panel);
    expect(register.getAttribute('aria-expanded')).toBe('true');
    expect(register.getAttribute('aria-controls')).toBe(panel.id);
    expect(text(el('.file-path', panel))).toBe('/home/ada/.cursor/mcp.json');
    expect(panel.querySelector('.creates')).toBeNull();
    const diff = within(panel).getByRole('region', { name: 'Change to /home/ada/.cursor/mcp.json' });
    const added = Array.from(diff.querySelectorAll('.line[data-kind="add"]')).map((l) => l.textContent);
    expect(added).toContain('+    "gatehouse": {');
    expect(added).toContain('+        "Authorization": "Bearer 3f9a…c21b"');
    expect(diff.querySelectorAll('.line[data-kind="hunk"]').length).toBeGreaterThan(0);
    expect(text(el('.stats', panel))).toMatch(/^\+\d+ lines added, −0 lines removed$/);
    expect(text(confirm)).toBe('Register');
    await waitFor(() => expect(document.activeElement).toBe(confirm));

    const { base } = (await plan.mock.results[0]!.value) as ClientPlan;
    const listed = list.mock.calls.length;
    await fireEvent.click(confirm);
    expect(apply).toHaveBeenCalledWith(req, base);

    const outcome = await find('#outcome-cursor-user');
    expect(text(outcome)).toContain(
      'Registered. Open Cursor Settings → MCP and refresh; reload the window if a chat does not see the tools.',
    );
    expect(text(el('.outcome-path', outcome))).toMatch(/^Backup \/home\/ada\/\.local\/share\/gatehouse\/client-backups\/cursor-/);
    expect(outcome.getAttribute('data-tone')).toBe('ok');
    expect(document.querySelector('#review-cursor-user')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(outcome));
    expect(text(screen.getByRole('status'))).toContain('Registered. Open Cursor Settings');
    await waitFor(() => expect(text(el('.state', fileOf('cursor')))).toBe('Registered'));
    expect(list.mock.calls.length).toBeGreaterThan(listed);
    // Now it can be undone; dismissing the message leaves the rest.
    expect(button('cursor', 'undo')).toBeDefined();
    await fireEvent.click(within(outcome).getByRole('button', { name: 'Dismiss message' }));
    expect(document.querySelector('#outcome-cursor-user')).toBeNull();
  });

  it('says when the file would be created', async () => {
    show(backendWith());
    await loaded();
    await fireEvent.click(button('opencode', 'register'));
    await ready('opencode');
    expect(text(el('.creates', review('opencode')))).toBe('creates a new file');
    expect(review('opencode').querySelector('.by-command')).toBeNull();
    expect(text(el('.line[data-kind="file"]', review('opencode')))).toBe('--- /dev/null');
  });

  it('Update rewrites an outdated entry', async () => {
    const backend = backendWith();
    show(backend);
    await loaded();
    await fireEvent.click(button('claude-code', 'update'));
    const confirm = await ready('claude-code');
    const panel = review('claude-code');
    expect(text(el('.review-title', panel))).toBe('Update Gatehouse’s entry in Claude Code');
    expect(text(el('.line[data-kind="del"]', panel))).toBe(`- "url": "${OLD_GATEWAY_URL}",`);
    expect(text(el('.line[data-kind="add"]', panel))).toBe('+ "url": "http://127.0.0.1:8737/mcp",');
    // The token leaves the file: Claude Code asks the helper for it.
    const added = [...panel.querySelectorAll('.line[data-kind="add"]')].map(text);
    expect(added).toContain('+ "headersHelper": "/home/ada/.local/bin/gatehouse token header"');
    expect(added.join('\n')).not.toContain('Bearer');
    expect(text(el('.by-command', panel))).toContain('Claude Code’s own claude mcp command makes this change');
    expect(text(confirm)).toBe('Update');
    await fireEvent.click(confirm);
    const outcome = await find('#outcome-claude-code-user');
    expect(text(outcome)).toContain('Updated. Start a new Claude Code session, or run /mcp and Reconnect.');
    await waitFor(() => expect(text(el('.state', fileOf('claude-code')))).toBe('Registered'));
    expect(fileOf('claude-code').querySelector('.detail')).toBeNull();
  });

  it('Unregister removes the entry', async () => {
    const backend = backendWith();
    const apply = vi.spyOn(backend, 'applyClientChange');
    show(backend);
    await loaded();
    await fireEvent.click(button('claude-desktop', 'unregister'));
    const confirm = await ready('claude-desktop');
    const panel = review('claude-desktop');
    expect(text(el('.review-title', panel))).toBe('Remove Gatehouse from Claude Desktop');
    expect(panel.querySelectorAll('.line[data-kind="del"]').length).toBeGreaterThan(0);
    expect(panel.querySelectorAll('.line[data-kind="add"]').length).toBeLessThanOrEqual(1);
    expect(text(confirm)).toBe('Unregister');
    await fireEvent.click(confirm);
    expect(apply.mock.calls[0]![0]).toMatchObject({ client: 'claude-desktop', action: 'unregister', server: null });
    const outcome = await find('#outcome-claude-desktop-user');
    expect(text(outcome)).toContain('Unregistered. Quit Claude Desktop completely');
    await waitFor(() => expect(text(el('.state', fileOf('claude-desktop')))).toBe('Not registered'));
  });

  it('an unchanged plan says “Already up to date” and offers only Close', async () => {
    const backend = backendWith();
    const apply = vi.spyOn(backend, 'applyClientChange');
    vi.spyOn(backend, 'planClientChange').mockResolvedValueOnce({
      path: '/home/ada/.gemini/settings.json',
      diff: '',
      changed: false,
      creates: false,
      base: 'b0',
      byClientCommand: false,
    });
    show(backend);
    await loaded();
    await fireEvent.click(button('gemini', 'register'));
    const close = await find<HTMLButtonElement>('#review-gemini-user .action-close-review');
    const panel = review('gemini');
    expect(text(el('.up-to-date', panel))).toBe('Already up to date. Nothing in this file would change.');
    expect(panel.querySelector('.diff')).toBeNull();
    expect(panel.querySelector('.action-confirm')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(close));
    await fireEvent.click(close);
    expect(document.querySelector('#review-gemini-user')).toBeNull();
    expect(apply).not.toHaveBeenCalled();
  });

  it('when the file changed since the plan, it plans again and shows the new diff', async () => {
    const backend = backendWith();
    const plan = vi.spyOn(backend, 'planClientChange');
    const apply = vi.spyOn(backend, 'applyClientChange');
    show(backend);
    await loaded();

    await fireEvent.click(button('gemini', 'register'));
    await ready('gemini');
    const first = (await plan.mock.results[0]!.value) as ClientPlan;
    expect(text(review('gemini'))).not.toContain('editedElsewhere');

    // Someone else writes the file while the review is open.
    backend.editClientFile({ client: 'gemini', scope: 'user', project: null });
    await fireEvent.click(el('#review-gemini-user .action-confirm'));

    const notice = await find('#review-gemini-user .notice');
    expect(text(notice)).toContain('The file changed since this change was prepared.');
    expect(notice.getAttribute('data-tone')).toBe('pending');
    expect(plan).toHaveBeenCalledTimes(2);
    await waitFor(() => expect(text(review('gemini'))).toContain('"editedElsewhere": true'));
    expect(text(el('.state', fileOf('gemini')))).toBe('Not registered');
    expect(document.querySelector('#outcome-gemini-user')).toBeNull();

    // Confirming the new plan works, with its own base.
    const second = (await plan.mock.results[1]!.value) as ClientPlan;
    expect(second.base).not.toBe(first.base);
    const confirm = await ready('gemini');
    await waitFor(() => expect(document.activeElement).toBe(confirm));
    await fireEvent.click(confirm);
    expect(apply).toHaveBeenLastCalledWith(expect.objectContaining({ client: 'gemini' }), second.base);
    await find('#outcome-gemini-user');
    await waitFor(() => expect(text(el('.state', fileOf('gemini')))).toBe('Registered'));
  });

  it('another failed apply shows why and keeps the review open', async () => {
    const backend = backendWith();
    vi.spyOn(backend, 'applyClientChange').mockRejectedValueOnce(
      new ApiError('Io', '/home/ada/.gemini/settings.json: permission denied (os error 13)'),
    );
    show(backend);
    await loaded();
    await fireEvent.click(button('gemini', 'register'));
    await fireEvent.click(await ready('gemini'));
    const notice = await find('#review-gemini-user .notice');
    expect(text(notice)).toBe('Couldn’t make the change: /home/ada/.gemini/settings.json: permission denied (os error 13)');
    expect(notice.getAttribute('data-tone')).toBe('bad');
    expect((await ready('gemini')).disabled).toBe(false);
  });

  it('a plan that fails is shown in the card', async () => {
    const backend = backendWith();
    vi.spyOn(backend, 'planClientChange').mockRejectedValueOnce(new ApiError('Io', 'disk on fire'));
    show(backend);
    await loaded();
    await fireEvent.click(button('gemini', 'register'));
    const outcome = await find('#outcome-gemini-user');
    expect(outcome.getAttribute('data-tone')).toBe('bad');
    expect(text(outcome)).toContain('Couldn’t prepare the change. disk on fire');
    expect(document.querySelector('#review-gemini-user')).toBeNull();
  });

  it('disables every button while a request is in flight', async () => {
    const backend = backendWith();
    const gate = deferred<ClientPlan>();
    const real = backend.planClientChange.bind(backend);
    vi.spyOn(backend, 'planClientChange').mockImplementationOnce(async (req) => {
      const plan = await real(req);
      await gate.promise;
      return plan;
    });
    show(backend);
    await loaded();
    const register = button('cursor', 'register');
    await fireEvent.click(register);

    await waitFor(() => expect(register.getAttribute('aria-busy')).toBe('true'));
    expect(text(register)).toBe('Preparing…');
    for (const b of document.querySelectorAll<HTMLButtonElement>('#clients .actions button')) expect(b.disabled).toBe(true);
    expect(el<HTMLButtonElement>('.action-choose-project').disabled).toBe(true);
    expect(text(el('#review-cursor-user .loading'))).toBe('Preparing…');
    expect(document.activeElement).toBe(review('cursor'));

    gate.resolve(undefined as unknown as ClientPlan);
    await ready('cursor');
    expect(button('gemini', 'register').disabled).toBe(false);
    expect(text(register)).toBe('Register');
  });

  it('Escape (or Cancel) closes the review without a change and gives the focus back', async () => {
    const backend = backendWith();
    const apply = vi.spyOn(backend, 'applyClientChange');
    show(backend);
    await loaded();

    const register = button('cursor', 'register');
    await fireEvent.click(register);
    const confirm = await ready('cursor');
    await fireEvent.keyDown(confirm, { key: 'Escape' });
    expect(document.querySelector('#review-cursor-user')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(register));
    expect(register.getAttribute('aria-expanded')).toBe('false');

    await fireEvent.click(register);
    await ready('cursor');
    await fireEvent.click(el('#review-cursor-user .action-cancel'));
    expect(document.querySelector('#review-cursor-user')).toBeNull();
    expect(apply).not.toHaveBeenCalled();
  });

  it('opening another review closes the first', async () => {
    show(backendWith());
    await loaded();
    await fireEvent.click(button('cursor', 'register'));
    await ready('cursor');
    await fireEvent.click(button('gemini', 'register'));
    await ready('gemini');
    expect(document.querySelector('#review-cursor-user')).toBeNull();
    expect(document.querySelectorAll('.review')).toHaveLength(1);
  });
});

describe('clients: per-server entries', () => {
  const perServer = (id: string) => el('.per-server', fileOf(id));

  it('gives a server its own entry after showing the change, then removes it again', async () => {
    const backend = backendWith();
    const apply = vi.spyOn(backend, 'applyClientChange');
    show(backend, { serverNames: ['filesystem', 'git'] });
    await loaded();

    const add = el<HTMLSelectElement>('select.entry-add', perServer('cursor'));
    expect(add.getAttribute('aria-label')).toBe('Give a server its own entry (Cursor, user file)');
    expect(Array.from(add.options).map((o) => o.textContent)).toEqual(['+ Add', 'filesystem', 'git']);
    add.value = 'git';
    await fireEvent.change(add);
    const confirm = await ready('cursor');
    const panel = review('cursor');
    expect(text(el('.review-title', panel))).toBe('Give git its own entry in Cursor');
    const added = [...panel.querySelectorAll('.line[data-kind="add"]')].map(text).join('\n');
    expect(added).toContain('"gatehouse-git": {');
    expect(added).toContain('"url": "http://127.0.0.1:8737/mcp/git",');
    // The aggregate entry's buttons do not claim this review.
    expect(button('cursor', 'register').getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(confirm);
    await find('#outcome-cursor-user');
    expect(apply).toHaveBeenCalledWith(expect.objectContaining({ client: 'cursor', server: 'git' }), expect.any(String));

    const chip = await waitFor(() => el('.entry-chip[data-server="git"]', perServer('cursor')));
    expect(Array.from(el<HTMLSelectElement>('select.entry-add', perServer('cursor')).options).map((o) => o.value)).toEqual([
      '',
      'filesystem',
    ]);
    await fireEvent.click(within(chip).getByRole('button', { name: 'Remove the git entry (Cursor, user file)' }));
    const remove = await ready('cursor');
    expect(text(el('.review-title', review('cursor')))).toBe('Remove the git entry from Cursor');
    const removed = [...review('cursor').querySelectorAll('.line[data-kind="del"]')].map(text);
    expect(removed).toContain('- "gatehouse-git": {');
    await fireEvent.click(remove);
    await waitFor(() => expect(perServer('cursor').querySelector('.entry-chip')).toBeNull());
    expect(apply).toHaveBeenLastCalledWith(
      expect.objectContaining({ client: 'cursor', action: 'unregister', server: 'git' }),
      expect.any(String),
    );
  });

  it('a bridge entry for one server runs `bridge --server`', async () => {
    show(backendWith(), { serverNames: ['git'] });
    await loaded();
    const add = el<HTMLSelectElement>('select.entry-add', perServer('claude-desktop'));
    add.value = 'git';
    await fireEvent.change(add);
    await ready('claude-desktop');
    const added = [...review('claude-desktop').querySelectorAll('.line[data-kind="add"]')].map(text).join('\n');
    expect(added).toMatch(/"args": \["bridge", ?"--server", ?"git"\]|"--server",/);
  });

  it('without Gatehouse servers or entries there is no per-server row', async () => {
    show(backendWith(), { serverNames: [] });
    await loaded();
    expect(fileOf('cursor').querySelector('.per-server')).toBeNull();
  });

  it('a client not found here is offered no per-server entry', async () => {
    show(backendWith(), { serverNames: ['git'] });
    await loaded();
    expect(card('windsurf').getAttribute('data-installed')).toBe('false');
    expect(fileOf('windsurf').querySelector('.per-server')).toBeNull();
  });

  it('a broken file offers no per-server entry', async () => {
    show(backendWith(), { serverNames: ['git'] });
    await loaded();
    expect(fileOf('zed').querySelector('.per-server')).toBeNull();
    expect(fileOf('cursor').querySelector('.per-server')).not.toBeNull();
  });
});

describe('clients: undo', () => {
  it('Undo restores the backup and says so', async () => {
    const backend = backendWith();
    const undo = vi.spyOn(backend, 'undoClientChange');
    show(backend);
    await loaded();
    await fireEvent.click(button('claude-desktop', 'undo'));
    expect(undo).toHaveBeenCalledWith({ client: 'claude-desktop', scope: 'user', project: null });
    const outcome = await find('#outcome-claude-desktop-user');
    expect(text(outcome)).toContain('Restored the previous version. Quit Claude Desktop completely');
    await waitFor(() => expect(text(el('.state', fileOf('claude-desktop')))).toBe('Not registered'));
    expect(fileOf('claude-desktop').querySelector('[data-action="undo"]')).toBeNull();
  });

  it('a failed undo is shown in the card', async () => {
    const backend = backendWith();
    vi.spyOn(backend, 'undoClientChange').mockRejectedValueOnce(new ApiError('NoBackup', 'there is no backup to restore'));
    show(backend);
    await loaded();
    await fireEvent.click(button('claude-desktop', 'undo'));
    const outcome = await find('#outcome-claude-desktop-user');
    expect(outcome.getAttribute('data-tone')).toBe('bad');
    expect(text(outcome)).toContain('Couldn’t undo. there is no backup to restore');
  });
});

describe('clients: import', () => {
  it('lists what it would import, secrets to the keyring, skips greyed out', async () => {
    const backend = backendWith();
    const planImport = vi.spyOn(backend, 'planClientImport');
    show(backend);
    await loaded();
    await fireEvent.click(button('cursor', 'import'));
    const confirm = await ready('cursor');
    expect(planImport).toHaveBeenCalledWith({ client: 'cursor', scope: 'user', project: null });

    const panel = review('cursor');
    expect(text(el('.review-title', panel))).toBe('Import Cursor’s servers into Gatehouse');
    const rows = Array.from(panel.querySelectorAll<HTMLElement>('.candidate'));
    expect(rows.map((r) => [r.dataset.candidate, r.dataset.skip])).toEqual([
      ['github', 'false'],
      ['postgres', 'false'],
      ['linear', 'true'],
      ['filesystem', 'true'],
    ]);
    const github = rows[0]!;
    expect(text(el('.candidate-command', github))).toBe('npx -y @modelcontextprotocol/server-github');
    expect(text(el('.secret', github))).toBe('GITHUB_PERSONAL_ACCESS_TOKEN → moves to the keyring');
    expect(text(el('.plain', github))).toBe('GITHUB_TOOLSETS stays in the config');
    expect(text(el('.skip', rows[2]))).toBe('Not imported: remote servers (url) are not imported');
    expect(text(el('.skip', rows[3]))).toBe("Not imported: a server named 'filesystem' already exists in Gatehouse");

    const replace = within(panel).getByRole('checkbox', { name: 'Replace them in Cursor with the Gatehouse entry' });
    expect((replace as HTMLInputElement).checked).toBe(true);
    expect(text(confirm)).toBe('Import 2 servers');
    await waitFor(() => expect(document.activeElement).toBe(confirm));
  });

  it('shows the change to the client’s file while “Replace” is ticked, and hides it when not', async () => {
    const backend = backendWith();
    show(backend);
    await loaded();
    await fireEvent.click(button('cursor', 'import'));
    await ready('cursor');
    const panel = review('cursor');

    // Ticked by default: the replacement's diff, under the candidates.
    const diff = within(panel).getByRole('region', { name: 'Change to /home/ada/.cursor/mcp.json' });
    expect(el('.candidates', panel).compareDocumentPosition(diff) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(text(el('.change .file-path', panel))).toBe('/home/ada/.cursor/mcp.json');
    expect(text(el('.change .stats', panel))).toBe('+6 lines added, −23 lines removed');
    const lines = (kind: string) =>
      Array.from(panel.querySelectorAll(`.diff .line[data-kind="${kind}"]`)).map((l) => l.textContent ?? '');
    expect(lines('del')).toContain('-    "github": {');
    expect(lines('del')).toContain('-        "GITHUB_PERSONAL_ACCESS_TOKEN": "****",');
    expect(lines('del')).toContain('-        "PGPASSWORD": "****"');
    expect(lines('add')).toContain('+    "gatehouse": {');
    expect(text(panel)).not.toContain('ghp_EXAMPLE_NOT_A_REAL_TOKEN');
    expect(text(el('.footnote', panel))).toBe('Gatehouse saves a backup first; Undo puts it back.');

    // Unticked: nothing changes in Cursor's file, so no diff.
    const replace = el<HTMLInputElement>('input.replace', panel);
    await fireEvent.click(replace);
    expect(replace.checked).toBe(false);
    expect(panel.querySelector('.diff')).toBeNull();
    expect(panel.querySelector('.change')).toBeNull();
    expect(panel.querySelector('.footnote')).toBeNull();

    await fireEvent.click(replace);
    expect(within(panel).getByRole('region', { name: 'Change to /home/ada/.cursor/mcp.json' })).toBeTruthy();
  });

  it('imports and replaces by default, passing the base of the change shown, then lists what moved', async () => {
    const backend = backendWith();
    const planImport = vi.spyOn(backend, 'planClientImport');
    const apply = vi.spyOn(backend, 'applyClientImport');
    show(backend);
    await loaded();
    await fireEvent.click(button('cursor', 'import'));
    const confirm = await ready('cursor');
    const plan = (await planImport.mock.results[0]!.value) as ImportPlan;
    expect(plan.replacement?.base).toMatch(/^[0-9a-f]+$/);
    await fireEvent.click(confirm);
    expect(apply).toHaveBeenCalledWith({ client: 'cursor', scope: 'user', project: null }, true, plan.replacement!.base);
    const outcome = await find('#outcome-cursor-user');
    expect(text(outcome)).toContain('Imported github and postgres.');
    expect(text(outcome)).toContain(
      'Moved 2 secrets to the keyring: github/GITHUB_PERSONAL_ACCESS_TOKEN, postgres/PGPASSWORD.',
    );
    expect(text(outcome)).toContain('Cursor now reaches them through Gatehouse.');
    await waitFor(() => expect(text(el('.state', fileOf('cursor')))).toBe('Registered'));
  });

  it('passes replace=false when the box is unticked', async () => {
    const backend = backendWith();
    const apply = vi.spyOn(backend, 'applyClientImport');
    show(backend);
    await loaded();
    await fireEvent.click(button('cursor', 'import'));
    await ready('cursor');
    const replace = el<HTMLInputElement>('#review-cursor-user input.replace');
    await fireEvent.click(replace);
    expect(replace.checked).toBe(false);
    expect(text(el('#review-cursor-user .hint'))).toContain('Cursor keeps its own entries too');
    await fireEvent.click(el('#review-cursor-user .action-confirm'));
    expect(apply).toHaveBeenCalledWith({ client: 'cursor', scope: 'user', project: null }, false, null);
    const outcome = await find('#outcome-cursor-user');
    expect(text(outcome)).toContain('Imported github and postgres.');
    expect(text(outcome)).not.toContain('now reaches them through Gatehouse');
    expect(text(el('.state', fileOf('cursor')))).toBe('Not registered');
  });

  it('when the file changed since the plan, nothing is imported: it plans again and shows the new diff', async () => {
    const backend = backendWith();
    const planImport = vi.spyOn(backend, 'planClientImport');
    const apply = vi.spyOn(backend, 'applyClientImport');
    show(backend);
    await loaded();
    await fireEvent.click(button('cursor', 'import'));
    await ready('cursor');
    const first = (await planImport.mock.results[0]!.value) as ImportPlan;
    expect(text(review('cursor'))).not.toContain('editedElsewhere');
    const servers = (await backend.listServers()).map((s) => s.name);

    // Someone else writes the file while the review is open.
    backend.editClientFile({ client: 'cursor', scope: 'user', project: null });
    await fireEvent.click(el('#review-cursor-user .action-confirm'));
    expect(apply).toHaveBeenLastCalledWith({ client: 'cursor', scope: 'user', project: null }, true, first.replacement!.base);

    const notice = await find('#review-cursor-user .notice');
    expect(text(notice)).toBe(
      'The file changed since this change was prepared. Below is the change against the file as it is now; review it again.',
    );
    expect(notice.getAttribute('data-tone')).toBe('pending');
    expect(planImport).toHaveBeenCalledTimes(2);
    await waitFor(() => expect(text(review('cursor'))).toContain('"editedElsewhere": true'));
    expect(document.querySelector('#outcome-cursor-user')).toBeNull();
    expect((await backend.listServers()).map((s) => s.name)).toEqual(servers);
    expect(el<HTMLInputElement>('#review-cursor-user input.replace').checked).toBe(true);

    // Confirming the new plan works, with its own base.
    const second = (await planImport.mock.results[1]!.value) as ImportPlan;
    expect(second.replacement!.base).not.toBe(first.replacement!.base);
    const confirm = await ready('cursor');
    await waitFor(() => expect(document.activeElement).toBe(confirm));
    await fireEvent.click(confirm);
    expect(apply).toHaveBeenLastCalledWith(
      { client: 'cursor', scope: 'user', project: null },
      true,
      second.replacement!.base,
    );
    const outcome = await find('#outcome-cursor-user');
    expect(text(outcome)).toContain('Imported github and postgres.');
    await waitFor(() => expect(text(el('.state', fileOf('cursor')))).toBe('Registered'));
  });

  it('when planning again fails too, the review closes and says both', async () => {
    const backend = backendWith();
    show(backend);
    await loaded();
    await fireEvent.click(button('cursor', 'import'));
    await ready('cursor');
    backend.editClientFile({ client: 'cursor', scope: 'user', project: null });
    vi.spyOn(backend, 'planClientImport').mockRejectedValueOnce(new ApiError('Io', 'permission denied (os error 13)'));
    await fireEvent.click(el('#review-cursor-user .action-confirm'));
    const outcome = await find('#outcome-cursor-user');
    expect(outcome.getAttribute('data-tone')).toBe('bad');
    expect(text(outcome)).toContain('Couldn’t import.');
    expect(text(outcome)).toContain('changed since the change was prepared');
    expect(text(outcome)).toContain('permission denied (os error 13)');
    expect(document.querySelector('#review-cursor-user')).toBeNull();
  });

  it('a failed import stays open and says why', async () => {
    const backend = backendWith();
    vi.spyOn(backend, 'applyClientImport').mockRejectedValueOnce(new ApiError('Keyring', 'the keyring is locked'));
    show(backend);
    await loaded();
    await fireEvent.click(button('cursor', 'import'));
    await fireEvent.click(await ready('cursor'));
    const notice = await find('#review-cursor-user .notice');
    expect(text(notice)).toBe('Couldn’t import: the keyring is locked');
    expect(notice.getAttribute('data-tone')).toBe('bad');
  });
});

describe('clients: project', () => {
  it('a chosen project adds the project files, and plans with the project', async () => {
    const backend = backendWith();
    const list = vi.spyOn(backend, 'listClients');
    const plan = vi.spyOn(backend, 'planClientChange');
    show(backend);
    await loaded();
    expect(list).toHaveBeenCalledWith(null);
    expect(text(el('.project .value'))).toBe('none');
    expect(document.querySelector('[data-scope="project"]')).toBeNull();
    expect(document.querySelector('.action-clear-project')).toBeNull();

    await fireEvent.click(el('.action-choose-project'));
    await waitFor(() => expect(list).toHaveBeenLastCalledWith(MOCK_PROJECT));
    await find('[data-client="claude-code"] [data-scope="project"]');
    expect(text(el('.project .value'))).toBe(MOCK_PROJECT);
    expect(el('.project .path').getAttribute('title')).toBe(MOCK_PROJECT);

    const project = fileOf('claude-code', 'project');
    expect(text(el('.path', project))).toBe(`${MOCK_PROJECT}/.mcp.json`);
    expect(text(el('.scope', project))).toBe('Project file');
    expect(text(el('.form', project))).toBe('gatehouse bridge');
    expect(text(button('claude-code', 'import', 'project'))).toBe('Import 1 server');
    expect(text(el('.no-project', card('claude-desktop')))).toBe(
      'Claude Desktop has no project file; it reads only your user-wide settings.',
    );

    await fireEvent.click(button('claude-code', 'register', 'project'));
    await ready('claude-code', 'project');
    expect(plan).toHaveBeenCalledWith({
      client: 'claude-code',
      scope: 'project',
      project: MOCK_PROJECT,
      action: 'register',
      server: null,
    });
    const panel = review('claude-code', 'project');
    expect(text(el('.review-title', panel))).toBe('Register Gatehouse with Claude Code’s project file');
    expect(text(panel)).toContain('"command": "gatehouse"');
    await fireEvent.click(el('.action-confirm', panel));
    await find('#outcome-claude-code-project');
    await waitFor(() => expect(text(el('.state', fileOf('claude-code', 'project')))).toBe('Registered'));
    // The user file is another file, untouched.
    expect(text(el('.state', fileOf('claude-code')))).toBe('Outdated');

    // User-scope requests still carry no project.
    await fireEvent.click(button('claude-code', 'update'));
    await ready('claude-code');
    expect(plan).toHaveBeenLastCalledWith(expect.objectContaining({ scope: 'user', project: null }));

    await fireEvent.click(el('.action-clear-project'));
    await waitFor(() => expect(document.querySelector('[data-scope="project"]')).toBeNull());
    expect(list).toHaveBeenLastCalledWith(null);
    expect(text(el('.project .value'))).toBe('none');
    expect(document.querySelector('.review')).toBeNull();
  });

  it('a cancelled picker changes nothing', async () => {
    const backend = backendWith();
    backend.setProjectPick(null);
    const list = vi.spyOn(backend, 'listClients');
    show(backend);
    await loaded();
    const calls = list.mock.calls.length;
    await fireEvent.click(el('.action-choose-project'));
    await waitFor(() => expect(el<HTMLButtonElement>('.action-choose-project').disabled).toBe(false));
    expect(list.mock.calls.length).toBe(calls);
    expect(text(el('.project .value'))).toBe('none');
  });

  it('a failing picker is reported', async () => {
    const backend = backendWith();
    vi.spyOn(backend, 'pickProjectDir').mockRejectedValueOnce(new ApiError('Dialog', 'no display'));
    const { onerror } = show(backend);
    await loaded();
    await fireEvent.click(el('.action-choose-project'));
    await waitFor(() => expect(onerror).toHaveBeenCalledTimes(1));
    expect(onerror.mock.calls[0]![0].message).toBe('Couldn’t open the folder picker: no display');
    expect(onerror.mock.calls[0]![0].kind).toBe('Dialog');
  });
});

describe('clients: errors and the app', () => {
  it('a failed list shows the error banner and a retry', async () => {
    history.replaceState(null, '', '#/clients');
    const backend = backendWith('error');
    render(App, { props: { backend, pollMs: 0, logPollMs: 0 } });

    const banner = await screen.findByRole('alert');
    expect(text(banner)).toContain('Couldn’t load the clients: /home/ada/.config: permission denied (os error 13)');
    expect(text(banner)).toContain('Io');
    const failed = await find('#clients-load-failed');
    expect(document.querySelector('#clients [data-client]')).toBeNull();

    backend.failClientsWith(null);
    await fireEvent.click(within(failed).getByRole('button', { name: 'Try again' }));
    await loaded();
    expect(document.querySelector('#clients-load-failed')).toBeNull();
  });

  it('is a tab of the app, loaded on its first visit and kept while away', async () => {
    const backend = backendWith();
    const list = vi.spyOn(backend, 'listClients');
    render(App, { props: { backend, pollMs: 0, logPollMs: 0 } });
    await find('#servers [data-server="notes"]');
    expect(list).not.toHaveBeenCalled();

    await fireEvent.click(el('[role="tab"][data-view="clients"]'));
    expect(location.hash).toBe('#/clients');
    await loaded();
    expect(el('#panel-clients').hidden).toBe(false);
    expect(el('#panel-clients').contains(el('#clients'))).toBe(true);
    await fireEvent.click(el('.action-choose-project'));
    await find('[data-scope="project"]');

    await fireEvent.click(el('[role="tab"][data-view="servers"]'));
    expect(el('#panel-clients').hidden).toBe(true);
    const calls = list.mock.calls.length;
    await fireEvent.click(el('[role="tab"][data-view="clients"]'));
    // Looked at again on return, with the project still chosen.
    await waitFor(() => expect(list.mock.calls.length).toBe(calls + 1));
    expect(list).toHaveBeenLastCalledWith(MOCK_PROJECT);
    expect(text(el('.project .value'))).toBe(MOCK_PROJECT);
  });
});
