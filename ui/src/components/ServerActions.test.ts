// Regression: the button group unmounting (no action possible, e.g. while
// `stopping`) left `group` null, and the focus effect threw, which froze the
// whole expanded row in the real app.

import { describe, expect, it } from 'vitest';
import { render } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import ServerActions from './ServerActions.svelte';

describe('ServerActions', () => {
  it('survives its buttons disappearing and coming back', () => {
    const errors: unknown[] = [];
    const onError = (e: ErrorEvent) => errors.push(e.error);
    window.addEventListener('error', onError);
    const props = { name: 'demo', serverState: 'running' as const, busy: null, onaction: () => {} };
    const view = render(ServerActions, { props });
    view.container.querySelector<HTMLButtonElement>('.action-stop')?.focus();

    flushSync(() => view.rerender({ ...props, serverState: 'stopping' }));
    expect(view.container.querySelector('button')).toBeNull();
    flushSync(() => view.rerender({ ...props, serverState: 'stopped' }));
    expect(view.container.querySelector('.action-start')).not.toBeNull();

    window.removeEventListener('error', onError);
    expect(errors).toEqual([]);
  });
});
