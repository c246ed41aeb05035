// The views of the main window, in tab order. Adding one means adding it
// here and giving it a panel in App.svelte.

export const VIEWS = [
  { id: 'servers', label: 'Servers' },
  { id: 'clients', label: 'Clients' },
  { id: 'activity', label: 'Activity' },
  { id: 'settings', label: 'Settings' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export const DEFAULT_VIEW: ViewId = 'servers';

export function isView(value: string): value is ViewId {
  return VIEWS.some((v) => v.id === value);
}

/** The view a URL fragment names (`#settings`, `#/settings`); anything else is the default. */
export function viewFromHash(hash: string): ViewId {
  const wanted = hash.replace(/^#\/?/, '');
  return isView(wanted) ? wanted : DEFAULT_VIEW;
}

/**
 * The fragment that reopens a view: empty for the default one. `#/settings`
 * rather than `#settings`, which would also name the panel's element and make
 * the browser move the focus starting point into it.
 */
export function hashOfView(view: ViewId): string {
  return view === DEFAULT_VIEW ? '' : `#/${view}`;
}
