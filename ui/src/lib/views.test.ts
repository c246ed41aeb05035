import { describe, expect, it } from 'vitest';
import { DEFAULT_VIEW, hashOfView, isView, VIEWS, viewFromHash } from './views';

describe('views', () => {
  it('lists Servers first, and it is the default', () => {
    expect(VIEWS.map((v) => v.id)).toEqual(['servers', 'clients', 'activity', 'settings']);
    expect(VIEWS.map((v) => v.label)).toEqual(['Servers', 'Clients', 'Activity', 'Settings']);
    expect(DEFAULT_VIEW).toBe('servers');
  });

  it('reads the view from the URL fragment', () => {
    expect(viewFromHash('#settings')).toBe('settings');
    expect(viewFromHash('#/settings')).toBe('settings');
    expect(viewFromHash('#servers')).toBe('servers');
    expect(viewFromHash('#/activity')).toBe('activity');
    expect(viewFromHash('#clients')).toBe('clients');
    expect(viewFromHash('#/clients')).toBe('clients');
  });

  it('falls back to the default for anything else', () => {
    for (const hash of ['', '#', '#Settings', '#Clients', '#client', '#settings/x', 'settings?']) {
      expect(viewFromHash(hash)).toBe('servers');
    }
  });

  it('round-trips every view through its fragment', () => {
    for (const { id } of VIEWS) expect(viewFromHash(hashOfView(id))).toBe(id);
    expect(hashOfView('servers')).toBe('');
    expect(hashOfView('settings')).toBe('#/settings');
    expect(hashOfView('clients')).toBe('#/clients');
  });

  it('knows its own ids only', () => {
    expect(isView('settings')).toBe(true);
    expect(isView('activity')).toBe(true);
    expect(isView('clients')).toBe(true);
    expect(isView('client')).toBe(false);
  });
});
