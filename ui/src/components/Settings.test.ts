// Navigation between views and the Settings view's Endpoint section,
// exercised through the whole app with the mock backend.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '../App.svelte';
import { ApiError } from '../lib/api';
import { createMockBackend, GATEWAY_PORT_IN_USE, MOCK_GATEWAY } from '../lib/api.mock';
import type { GatewayScenario, MockBackend } from '../lib/api.mock';

const FAST = { startupMs: 30, shutdownMs: 30 };

function renderApp(backend: MockBackend) {
  return render(App, { props: { backend, pollMs: 0, logPollMs: 0 } });
}

function backendWith(gateway: GatewayScenario = 'running', scenario: 'demo' | 'many' = 'demo') {
  return createMockBackend(scenario, { ...FAST, gateway });
}

function text(el: Element | null): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function el<T extends Element = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`${selector} not rendered`);
  return found;
}

/** Waits until `selector` is rendered. */
function find<T extends Element = HTMLElement>(selector: string): Promise<T> {
  return waitFor(() => el<T>(selector));
}

const tab = (view: string) => el<HTMLButtonElement>(`[role="tab"][data-view="${view}"]`);
const panel = (view: string) => el(`#panel-${view}`);

async function openSettings(): Promise<HTMLElement> {
  await fireEvent.click(tab('settings'));
  return find('#settings');
}

/** Opens Settings and waits for the gateway's state to be shown. */
async function loadedSettings(): Promise<HTMLElement> {
  const settings = await openSettings();
  await find('#settings .token-hint');
  return settings;
}

/** Let pending promise callbacks run (for use with fake timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => queueMicrotask(r));
  await tick();
}

function stubClipboard() {
  const writeText = vi.fn<(text: string) => Promise<void>>().mockResolvedValue(undefined);
  Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText } });
  return writeText;
}

afterEach(() => {
  vi.useRealTimers();
  history.replaceState(null, '', location.pathname);
  delete (navigator as { clipboard?: unknown }).clipboard;
});

describe('navigation', () => {
  it('shows the servers view first, with tabs for Servers, Clients, Activity and Settings', async () => {
    renderApp(backendWith());
    await find('#servers [data-server="notes"]');

    const tablist = screen.getByRole('tablist', { name: 'Views' });
    const tabs = within(tablist).getAllByRole('tab');
    expect(tabs.map((t) => [t.textContent?.trim(), t.getAttribute('data-view')])).toEqual([
      ['Servers', 'servers'],
      ['Clients', 'clients'],
      ['Activity', 'activity'],
      ['Settings', 'settings'],
    ]);
    expect(tab('servers').getAttribute('aria-selected')).toBe('true');
    expect(tab('clients').getAttribute('aria-selected')).toBe('false');
    expect(tab('activity').getAttribute('aria-selected')).toBe('false');
    expect(tab('settings').getAttribute('aria-selected')).toBe('false');
    expect(tab('servers').tabIndex).toBe(0);
    expect(tab('clients').tabIndex).toBe(-1);
    expect(tab('activity').tabIndex).toBe(-1);
    expect(tab('settings').tabIndex).toBe(-1);

    expect(screen.getByRole('tabpanel')).toBe(panel('servers'));
    expect(panel('servers').getAttribute('aria-labelledby')).toBe('tab-servers');
    expect(tab('servers').getAttribute('aria-controls')).toBe('panel-servers');
    expect(panel('settings').hidden).toBe(true);
    expect(panel('activity').hidden).toBe(true);
    expect(panel('clients').hidden).toBe(true);
    expect(document.querySelector('#settings')).toBeNull();
    // Activity and Clients load nothing until they are visited.
    expect(document.querySelector('#activity')).toBeNull();
    expect(document.querySelector('#clients')).toBeNull();
  });

  it('switches to Settings and back on click', async () => {
    renderApp(backendWith());
    await find('#servers [data-server="notes"]');

    const settings = await openSettings();
    expect(tab('settings').getAttribute('aria-selected')).toBe('true');
    expect(panel('servers').hidden).toBe(true);
    expect(panel('settings').hidden).toBe(false);
    expect(panel('settings').contains(settings)).toBe(true);
    expect(screen.getByRole('tabpanel')).toBe(panel('settings'));
    expect(location.hash).toBe('#/settings');

    await fireEvent.click(tab('servers'));
    expect(panel('servers').hidden).toBe(false);
    expect(document.querySelector('#settings')).toBeNull();
    expect(location.hash).toBe('');
  });

  it('keeps the servers view working across a visit to Settings', async () => {
    renderApp(backendWith());
    const notes = await find('[data-server="notes"]');
    await fireEvent.click(el('[data-server="notes"] button.row'));
    await find('[data-server="notes"] [data-tool="delete_note"]');

    await openSettings();
    await fireEvent.click(tab('servers'));

    // Still the same row, still open, and its actions still work.
    expect(el('[data-server="notes"]')).toBe(notes);
    expect(el('[data-server="notes"] button.row').getAttribute('aria-expanded')).toBe('true');
    expect(notes.querySelector('.logs')).not.toBeNull();
    expect(text(notes.querySelector('.tool-count'))).toBe('4 tools');
    await fireEvent.click(el('[data-server="notes"] .action-stop'));
    await waitFor(() => expect(text(notes.querySelector('.state'))).toBe('stopped'));
    await fireEvent.click(el('[data-server="notes"] .action-start'));
    await waitFor(() => expect(text(notes.querySelector('.state'))).toBe('running'));
  });

  it('moves between tabs with the arrow keys, Home and End', async () => {
    renderApp(backendWith());
    await find('[data-server="notes"]');
    tab('servers').focus();

    await fireEvent.keyDown(tab('servers'), { key: 'ArrowRight' });
    expect(tab('clients').getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(tab('clients'));
    expect(tab('clients').tabIndex).toBe(0);
    expect(tab('servers').tabIndex).toBe(-1);
    await find('#clients');

    await fireEvent.keyDown(tab('clients'), { key: 'ArrowRight' });
    expect(tab('activity').getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(tab('activity'));
    await find('#activity');

    await fireEvent.keyDown(tab('activity'), { key: 'ArrowRight' });
    expect(tab('settings').getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(tab('settings'));
    await find('#settings');

    await fireEvent.keyDown(tab('settings'), { key: 'ArrowRight' }); // wraps
    expect(document.activeElement).toBe(tab('servers'));
    expect(panel('servers').hidden).toBe(false);

    await fireEvent.keyDown(tab('servers'), { key: 'End' });
    expect(document.activeElement).toBe(tab('settings'));
    await fireEvent.keyDown(tab('settings'), { key: 'Home' });
    expect(document.activeElement).toBe(tab('servers'));
    await fireEvent.keyDown(tab('servers'), { key: 'ArrowLeft' }); // wraps
    expect(document.activeElement).toBe(tab('settings'));

    // Other keys are left alone.
    await fireEvent.keyDown(tab('settings'), { key: 'ArrowDown' });
    expect(document.activeElement).toBe(tab('settings'));
  });

  it.each(['#settings', '#/settings'])('opens the view the URL fragment names (%s)', async (hash) => {
    history.replaceState(null, '', hash);
    renderApp(backendWith());
    await find('#settings .gateway-url');
    expect(tab('settings').getAttribute('aria-selected')).toBe('true');
    expect(panel('servers').hidden).toBe(true);
  });

  it('offers the server filter only in the servers view', async () => {
    renderApp(backendWith('running', 'many'));
    await waitFor(() => expect(document.querySelectorAll('#servers [data-server]')).toHaveLength(50));
    expect(screen.getByRole('searchbox', { name: 'Filter servers' })).toBeDefined();

    await openSettings();
    expect(screen.queryByRole('searchbox')).toBeNull();
    // The "/" shortcut has nothing to focus and must not throw.
    await fireEvent.keyDown(document.body, { key: '/' });

    await fireEvent.click(tab('servers'));
    expect(screen.getByRole('searchbox', { name: 'Filter servers' })).toBeDefined();
  });

  it('loads the gateway state afresh on every visit', async () => {
    const backend = backendWith();
    const info = vi.spyOn(backend, 'gatewayInfo');
    renderApp(backend);
    await find('[data-server="notes"]');
    expect(info).not.toHaveBeenCalled();

    await loadedSettings();
    expect(info).toHaveBeenCalledTimes(1);
    await fireEvent.click(tab('servers'));
    backend.setGateway({ ...MOCK_GATEWAY, tokenHint: 'aaaa…bbbb' });
    await loadedSettings();
    expect(info).toHaveBeenCalledTimes(2);
    await waitFor(() => expect(text(el('.token-hint'))).toBe('aaaa…bbbb'));
  });
});

describe('settings: endpoint', () => {
  it('shows the URL, the per-server template, the masked token and the header', async () => {
    renderApp(backendWith());
    const settings = await loadedSettings();

    expect(within(settings).getByRole('heading', { name: 'Endpoint' })).toBeDefined();
    expect(text(settings.querySelector('.status'))).toBe('running');
    expect(text(settings.querySelector('.gateway-url'))).toBe('http://127.0.0.1:8737/mcp');
    expect(settings.querySelector('.gateway-url')?.classList.contains('selectable')).toBe(true);
    expect(text(settings.querySelector('.gateway-template'))).toBe('http://127.0.0.1:8737/mcp/{server}');
    expect(text(settings.querySelector('.token-hint'))).toBe('3f9a…c21b');
    expect(text(settings.querySelector('.token-source'))).toContain('keyring');
    expect(text(settings.querySelector('.snippet'))).toBe('Authorization: Bearer 3f9a…c21b');
    expect(settings.querySelector('.gateway-error')).toBeNull();

    const rotate = el<HTMLButtonElement>('.action-rotate-token');
    expect(rotate.disabled).toBe(false);
    expect(text(rotate)).toBe('Rotate token…');
  });

  it('shows why the endpoint is not running, and no URLs', async () => {
    const backend = backendWith('stopped');
    renderApp(backend);
    const settings = await loadedSettings();

    expect(text(settings.querySelector('.status'))).toBe('not running');
    const error = el('.gateway-error');
    expect(text(error)).toContain('The endpoint is not running');
    expect(text(error)).toContain(GATEWAY_PORT_IN_USE);
    expect(text(error)).toContain('restart Gatehouse');
    expect(settings.querySelector('.gateway-url')).toBeNull();
    expect(settings.querySelector('.gateway-template')).toBeNull();
    expect(settings.querySelector('.action-copy-url')).toBeNull();
    expect(text(settings)).toContain('127.0.0.1:8737');
    // The token is still there: it lives in the keyring, not in the gateway.
    expect(text(settings.querySelector('.token-hint'))).toBe('3f9a…c21b');

    // Once the cause is gone, "Check again" shows it running.
    backend.setGateway(MOCK_GATEWAY);
    await fireEvent.click(el('.action-refresh-gateway'));
    await find('#settings .gateway-url');
    expect(settings.querySelector('.gateway-error')).toBeNull();
    expect(text(settings.querySelector('.status'))).toBe('running');
  });

  it('copies the URL with the clipboard API and says so', async () => {
    const writeText = stubClipboard();
    renderApp(backendWith());
    await loadedSettings();

    const copy = el<HTMLButtonElement>('.action-copy-url');
    expect(text(copy)).toBe('Copy URL');
    await fireEvent.click(copy);
    expect(writeText).toHaveBeenCalledWith('http://127.0.0.1:8737/mcp');
    await waitFor(() => expect(text(copy)).toBe('Copied'));
    expect(text(screen.getByRole('status'))).toBe('Endpoint URL copied');
  });

  it('shows an error when the clipboard refuses the URL', async () => {
    const writeText = stubClipboard();
    writeText.mockRejectedValueOnce(new Error('Document is not focused.'));
    renderApp(backendWith());
    await loadedSettings();
    await fireEvent.click(el('.action-copy-url'));
    const banner = await screen.findByRole('alert');
    expect(text(banner)).toContain('Couldn’t copy the URL');
    expect(text(banner)).toContain('Document is not focused.');
  });

  it('copies the token through the backend and confirms briefly', async () => {
    const backend = backendWith();
    const copyToken = vi.spyOn(backend, 'copyToken');
    const writeText = stubClipboard();
    renderApp(backend);
    await loadedSettings();

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const copy = el<HTMLButtonElement>('.action-copy-token');
    expect(text(copy)).toBe('Copy token');
    await fireEvent.click(copy);
    await flush();
    expect(copyToken).toHaveBeenCalledTimes(1);
    expect(backend.tokenCopies).toBe(1);
    // The token never passes through the web view.
    expect(writeText).not.toHaveBeenCalled();
    expect(text(copy)).toBe('Copied');
    expect(text(screen.getByRole('status'))).toBe('Token copied to the clipboard');

    vi.advanceTimersByTime(1500);
    await flush();
    expect(text(copy)).toBe('Copy token');
    expect(text(screen.getByRole('status'))).toBe('');
  });

  it('rotates the token only after confirmation, then shows the new hint', async () => {
    const backend = backendWith();
    const rotateToken = vi.spyOn(backend, 'rotateToken');
    renderApp(backend);
    const settings = await loadedSettings();

    const rotate = el<HTMLButtonElement>('.action-rotate-token');
    await fireEvent.click(rotate);
    const confirm = await find('#rotate-confirm');
    expect(rotateToken).not.toHaveBeenCalled();
    expect(rotate.getAttribute('aria-expanded')).toBe('true');
    expect(text(confirm)).toContain(
      'Clients configured with the old token stop working until they are updated; clients using gatehouse bridge pick up the new token automatically.',
    );
    expect(screen.getByRole('group', { name: 'Rotate the token?' })).toBe(confirm);
    expect(document.activeElement).toBe(el('.action-cancel-rotate'));

    await fireEvent.click(el('.action-confirm-rotate'));
    await waitFor(() => expect(document.querySelector('#rotate-confirm')).toBeNull());
    expect(rotateToken).toHaveBeenCalledTimes(1);

    const hint = text(settings.querySelector('.token-hint'));
    expect(hint).not.toBe('3f9a…c21b');
    expect(hint).toMatch(/^[0-9a-f]{4}…[0-9a-f]{4}$/);
    expect(text(settings.querySelector('.snippet'))).toBe(`Authorization: Bearer ${hint}`);
    expect(text(settings.querySelector('.rotated'))).toContain('New token in use');
    expect(text(screen.getByRole('status'))).toContain(hint.slice(-4));
    await waitFor(() => expect(document.activeElement).toBe(rotate));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('cancelling (button or Escape) rotates nothing', async () => {
    const backend = backendWith();
    const rotateToken = vi.spyOn(backend, 'rotateToken');
    renderApp(backend);
    await loadedSettings();
    const rotate = el<HTMLButtonElement>('.action-rotate-token');

    await fireEvent.click(rotate);
    await fireEvent.click(await find('.action-cancel-rotate'));
    expect(document.querySelector('#rotate-confirm')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(rotate));

    await fireEvent.click(rotate);
    await fireEvent.keyDown(await find('.action-cancel-rotate'), { key: 'Escape' });
    expect(document.querySelector('#rotate-confirm')).toBeNull();

    expect(rotateToken).not.toHaveBeenCalled();
    expect(text(el('.token-hint'))).toBe('3f9a…c21b');
  });

  it.each([
    ['flag', '--token'],
    ['env', '$GATEHOUSE_TOKEN'],
  ] as const)('disables Rotate for a token from %s and says why', async (gateway, origin) => {
    const backend = backendWith(gateway);
    const rotateToken = vi.spyOn(backend, 'rotateToken');
    renderApp(backend);
    const settings = await loadedSettings();

    const rotate = el<HTMLButtonElement>('.action-rotate-token');
    expect(rotate.disabled).toBe(true);
    const why = el('.token-source');
    expect(text(why)).toContain(origin);
    expect(text(why)).toContain('can’t rotate');
    expect(rotate.getAttribute('aria-describedby')).toBe(why.id);
    await fireEvent.click(rotate);
    expect(settings.querySelector('#rotate-confirm')).toBeNull();
    expect(rotateToken).not.toHaveBeenCalled();
    // Copying still works.
    expect(el<HTMLButtonElement>('.action-copy-token').disabled).toBe(false);
  });
});

describe('settings: errors', () => {
  it('shows a failed load in the banner and retries on request', async () => {
    const backend = backendWith('error');
    renderApp(backend);
    await openSettings();

    const banner = await screen.findByRole('alert');
    expect(text(banner)).toContain('Couldn’t load the endpoint settings');
    expect(text(banner)).toContain('Internal');
    const failed = await find('#gateway-load-failed');
    expect(document.querySelector('#settings .token-hint')).toBeNull();

    backend.failGatewayWith(null);
    await fireEvent.click(within(failed).getByRole('button', { name: 'Try again' }));
    await find('#settings .gateway-url');
    expect(document.querySelector('#gateway-load-failed')).toBeNull();
  });

  it('shows a failed copy in the banner', async () => {
    const backend = backendWith();
    vi.spyOn(backend, 'copyToken').mockRejectedValueOnce(new ApiError('Clipboard', 'no clipboard on this display'));
    renderApp(backend);
    await loadedSettings();
    await fireEvent.click(el('.action-copy-token'));

    const banner = await screen.findByRole('alert');
    expect(text(banner)).toContain('Couldn’t copy the token: no clipboard on this display');
    expect(banner.getAttribute('data-kind')).toBe('Clipboard');
    expect(text(el('.action-copy-token'))).toBe('Copy token');
  });

  it('shows a failed rotation in the banner and keeps the old hint', async () => {
    const backend = backendWith();
    renderApp(backend);
    await loadedSettings();
    backend.failGatewayWith(new ApiError('Keyring', 'the keyring is locked; unlock it and try again'));

    await fireEvent.click(el('.action-rotate-token'));
    await fireEvent.click(await find('.action-confirm-rotate'));

    const banner = await screen.findByRole('alert');
    expect(text(banner)).toContain('Couldn’t rotate the token: the keyring is locked; unlock it and try again');
    expect(document.querySelector('#rotate-confirm')).toBeNull();
    expect(document.querySelector('.rotated')).toBeNull();
    expect(text(el('.token-hint'))).toBe('3f9a…c21b');

    await fireEvent.click(within(banner).getByRole('button', { name: 'Dismiss error' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
