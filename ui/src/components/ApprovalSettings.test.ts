// The Approvals section of the Settings view.

import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import ApprovalSettings from './ApprovalSettings.svelte';
import { ApiError } from '../lib/api';
import { createMockBackend, MOCK_APPROVAL_SETTINGS } from '../lib/api.mock';
import type { MockBackend } from '../lib/api.mock';

function text(el: Element | null): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function el<T extends Element = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`${selector} not rendered`);
  return found;
}

async function show(backend: MockBackend = createMockBackend('demo')) {
  const onerror = vi.fn<(err: ApiError) => void>();
  render(ApprovalSettings, { props: { backend, onerror } });
  await waitFor(() => el('#approval-timeout'));
  return { backend, onerror };
}

const timeout = () => el<HTMLInputElement>('#approval-timeout');
const ask = () => el<HTMLInputElement>('#approval-ask-non-read-only');
const retention = () => el<HTMLInputElement>('#approval-retention');
const save = () => el<HTMLButtonElement>('.action-save-approvals');

describe('approval settings', () => {
  it('shows the current settings', async () => {
    await show();
    expect(text(el('#approvals-title'))).toBe('Approvals');
    expect(timeout().value).toBe(String(MOCK_APPROVAL_SETTINGS.timeoutSecs));
    expect(timeout().min).toBe('10');
    expect(timeout().max).toBe('3600');
    expect(ask().checked).toBe(false);
    expect(text(ask().closest('label'))).toBe('Ask before every call that is not read-only');
    expect(retention().value).toBe('90');
    expect(text(el('#approval-retention-note'))).toContain('0 keeps them forever');
  });

  it('saves all three values', async () => {
    const { backend } = await show();
    const set = vi.spyOn(backend, 'setApprovalSettings');
    await fireEvent.input(timeout(), { target: { value: '300' } });
    await fireEvent.click(ask());
    await fireEvent.input(retention(), { target: { value: '0' } });
    await fireEvent.click(save());

    expect(set).toHaveBeenCalledWith({ timeoutSecs: 300, askNonReadOnly: true, retentionDays: 0 });
    await waitFor(() => expect(text(el('.saved'))).toBe('Saved'));
    await expect(backend.approvalSettings()).resolves.toEqual({
      timeoutSecs: 300,
      askNonReadOnly: true,
      retentionDays: 0,
    });
    // Editing again takes the confirmation away.
    await fireEvent.input(timeout(), { target: { value: '301' } });
    expect(text(el('.saved'))).toBe('');
  });

  it.each([
    ['5', 'timeout'],
    ['3601', 'timeout'],
    ['12.5', 'timeout'],
    ['', 'timeout'],
    ['-1', 'retention'],
  ])('refuses %j for the %s before asking the backend', async (value, field) => {
    const { backend } = await show();
    const set = vi.spyOn(backend, 'setApprovalSettings');
    const input = field === 'timeout' ? timeout() : retention();
    await fireEvent.input(input, { target: { value } });
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(el(`#${input.getAttribute('aria-describedby')}`).classList.contains('bad')).toBe(true);
    expect(save().disabled).toBe(true);
    await fireEvent.submit(save().form!);
    expect(set).not.toHaveBeenCalled();
  });

  it('shows a refusal from the backend inline', async () => {
    const { backend, onerror } = await show();
    vi.spyOn(backend, 'setApprovalSettings').mockRejectedValueOnce(
      new ApiError('InvalidSettings', 'the config file is not writable'),
    );
    await fireEvent.click(save());
    await waitFor(() =>
      expect(text(el('.approval-settings-error'))).toBe('Couldn’t save: the config file is not writable'),
    );
    expect(onerror).not.toHaveBeenCalled();
    expect(text(el('.saved'))).toBe('');
    expect(save().disabled).toBe(false);
  });

  it('reports a failed load and retries', async () => {
    const backend = createMockBackend('demo');
    vi.spyOn(backend, 'approvalSettings').mockRejectedValueOnce(new ApiError('Internal', 'core gone'));
    const onerror = vi.fn<(err: ApiError) => void>();
    render(ApprovalSettings, { props: { backend, onerror } });
    await waitFor(() => expect(onerror).toHaveBeenCalledTimes(1));
    expect(onerror.mock.calls[0]![0].message).toBe('Couldn’t load the approval settings: core gone');
    await fireEvent.click(await waitFor(() => el('.approvals .placeholder button')));
    await waitFor(() => el('#approval-timeout'));
  });

  it('asking before every non-read-only call changes what Default means for writers', async () => {
    const { backend } = await show();
    const moveFile = async () =>
      (await backend.listServers()).find((s) => s.name === 'filesystem')?.tools.find((t) => t.name === 'move_file');
    expect((await moveFile())?.defaultRule).toBe('allow');
    await fireEvent.click(ask());
    await fireEvent.click(save());
    await waitFor(async () => expect((await moveFile())?.defaultRule).toBe('ask'));
  });
});
