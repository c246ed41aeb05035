// Pure helpers of the Clients view: labels, tones, which buttons a file
// gets, path splitting, diff parsing and the messages after a change. No
// DOM, no Tauri.

import type {
  ClientChangeRequest,
  ClientChangeResult,
  ClientFileRef,
  ClientInfo,
  ClientPlan,
  ClientScope,
  ClientTarget,
  EntryForm,
  ImportCandidate,
  ImportResult,
  RegistrationState,
} from './api';
import type { Tone } from './format';
import { plural } from './format';

/** The pill of a file's state. */
export function registrationLabel(state: RegistrationState): string {
  switch (state) {
    case 'registered':
      return 'Registered';
    case 'outdated':
      return 'Outdated';
    case 'absent':
      return 'Not registered';
    case 'unreadable':
      return 'Can’t read file';
  }
}

/** Colour family of a state: registered green, outdated amber, unreadable red, absent grey. */
export function registrationTone(state: RegistrationState): Tone {
  switch (state) {
    case 'registered':
      return 'ok';
    case 'outdated':
      return 'pending';
    case 'absent':
      return 'idle';
    case 'unreadable':
      return 'bad';
  }
}

/** One-line explanation of a state, for tooltips. */
export function registrationDescription(state: RegistrationState): string {
  switch (state) {
    case 'registered':
      return 'Gatehouse’s entry is in this file and up to date';
    case 'outdated':
      return 'Gatehouse’s entry is in this file but out of date; Update rewrites it';
    case 'absent':
      return 'This file has no Gatehouse entry';
    case 'unreadable':
      return 'This file does not parse, so Gatehouse leaves it alone';
  }
}

export function formLabel(form: EntryForm): string {
  return form === 'http' ? 'HTTP endpoint' : 'gatehouse bridge';
}

export function formDescription(form: EntryForm): string {
  return form === 'http'
    ? 'The entry points at Gatehouse’s local HTTP endpoint and sends the token in a header'
    : 'The entry runs `gatehouse bridge`, which relays to Gatehouse; the file holds no token';
}

export function scopeLabel(scope: ClientScope): string {
  return scope === 'user' ? 'User' : 'Project';
}

export function scopeDescription(scope: ClientScope): string {
  return scope === 'user' ? 'Your user-wide settings, for every project' : 'The project’s own file, which may be committed';
}

/** What the Register button says for a file: Update when the entry is out of date, none when current. */
export type RegisterVerb = 'register' | 'update';

export function registerVerb(target: ClientTarget): RegisterVerb | null {
  switch (target.state) {
    case 'registered':
      return null;
    case 'outdated':
      return 'update';
    case 'absent':
    case 'unreadable':
      return 'register';
  }
}

/** Gatehouse writes only files it can read. */
export function canRegister(target: ClientTarget): boolean {
  return target.state !== 'unreadable';
}

export function canUnregister(target: ClientTarget): boolean {
  return target.state === 'registered' || target.state === 'outdated';
}

export function canImport(target: ClientTarget): boolean {
  return target.state !== 'unreadable' && target.otherServers.length > 0;
}

/** Why Register is off for an unreadable file. */
export const UNREADABLE_HINT = 'Fix the file first; Gatehouse will not overwrite a file it cannot read.';

export function importLabel(count: number): string {
  return `Import ${plural(count, 'server')}`;
}

/** Every action a file can offer. */
export type TargetAction = RegisterVerb | 'unregister' | 'undo' | 'import';

/** The files of a client, user first. */
export function targetsOf(client: ClientInfo): ClientTarget[] {
  return [client.user, client.project].filter((t): t is ClientTarget => t !== null);
}

export function targetOf(client: ClientInfo, scope: ClientScope): ClientTarget | null {
  return scope === 'user' ? client.user : client.project;
}

/** Installed clients first, then the others, each in the order given (the Rust side's). */
export function groupClients(clients: readonly ClientInfo[]): { installed: ClientInfo[]; missing: ClientInfo[] } {
  return {
    installed: clients.filter((c) => c.installed),
    missing: clients.filter((c) => !c.installed),
  };
}

/** e.g. "3 registered · 1 outdated · 1 can’t read", over every file listed; empty when nothing is registered or wrong. */
export function clientsSummary(clients: readonly ClientInfo[]): string {
  const targets = clients.flatMap(targetsOf);
  const count = (state: RegistrationState) => targets.filter((t) => t.state === state).length;
  const parts: string[] = [];
  const registered = count('registered');
  const outdated = count('outdated');
  const unreadable = count('unreadable');
  if (registered > 0) parts.push(`${registered} registered`);
  if (outdated > 0) parts.push(`${outdated} outdated`);
  if (unreadable > 0) parts.push(`${unreadable} can’t read`);
  return parts.join(' · ');
}

/**
 * The detail of an outdated or unreadable file as a sentence. The Rust side
 * says what is wrong with the entry as a clause ("points at …; Gatehouse now
 * listens on …"), so the entry becomes its subject.
 */
export function detailSentence(target: ClientTarget): string | null {
  const detail = target.detail?.trim();
  if (!detail) return null;
  const clause = /^[a-z]/.test(detail) && target.state === 'outdated';
  const text = clause ? `Gatehouse’s entry ${detail}` : detail;
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * A path split before its last two segments (the last one when those are
 * long), so the middle can give way and the file's name stays in view:
 * `/home/ada/.config/` + `Claude/claude_desktop_config.json`.
 */
export function splitPath(path: string): { head: string; tail: string } {
  const parts = path.split(/(?<=[\\/])/);
  if (parts.length <= 2) return { head: '', tail: path };
  const two = parts.slice(-2).join('');
  const tail = two.length <= 40 ? two : (parts.at(-1) ?? '');
  return { head: path.slice(0, path.length - tail.length), tail };
}

export type DiffLineKind = 'file' | 'hunk' | 'add' | 'del' | 'context' | 'note';

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/**
 * The lines of a unified diff, each with what it is. A hunk's header gives
 * how many lines it spans, so a removed line that starts with `--` is not
 * taken for the next file's header.
 */
export function parseDiff(diff: string): DiffLine[] {
  if (diff === '') return [];
  const lines = diff.replace(/\r?\n$/, '').split(/\r?\n/);
  const out: DiffLine[] = [];
  let oldLeft = 0;
  let newLeft = 0;
  for (const text of lines) {
    const inHunk = oldLeft > 0 || newLeft > 0;
    if (inHunk && text.startsWith('+')) {
      newLeft--;
      out.push({ kind: 'add', text });
    } else if (inHunk && text.startsWith('-')) {
      oldLeft--;
      out.push({ kind: 'del', text });
    } else if (inHunk && (text.startsWith(' ') || text === '')) {
      oldLeft--;
      newLeft--;
      out.push({ kind: 'context', text });
    } else if (text.startsWith('\\')) {
      out.push({ kind: 'note', text });
    } else {
      const hunk = HUNK.exec(text);
      if (hunk) {
        oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
        newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
        out.push({ kind: 'hunk', text });
      } else if (text.startsWith('+') && !inHunk) {
        out.push({ kind: 'file', text });
      } else if (text.startsWith('-') && !inHunk) {
        out.push({ kind: 'file', text });
      } else {
        out.push({ kind: inHunk ? 'context' : 'file', text });
      }
    }
  }
  return out;
}

export function diffStats(lines: readonly DiffLine[]): { added: number; removed: number } {
  return {
    added: lines.filter((l) => l.kind === 'add').length,
    removed: lines.filter((l) => l.kind === 'del').length,
  };
}

/** What a change review is about: the button that opened it. */
export type ChangeVerb = RegisterVerb | 'unregister';

export function changeTitle(verb: ChangeVerb, client: string, scope: ClientScope, server: string | null = null): string {
  const where = scope === 'user' ? `${client}` : `${client}’s project file`;
  if (server !== null) {
    return verb === 'unregister'
      ? `Remove the ${server} entry from ${where}`
      : `Give ${server} its own entry in ${where}`;
  }
  switch (verb) {
    case 'register':
      return `Register Gatehouse with ${where}`;
    case 'update':
      return `Update Gatehouse’s entry in ${where}`;
    case 'unregister':
      return `Remove Gatehouse from ${where}`;
  }
}

export function confirmLabel(verb: ChangeVerb): string {
  switch (verb) {
    case 'register':
      return 'Register';
    case 'update':
      return 'Update';
    case 'unregister':
      return 'Unregister';
  }
}

/** A message after a request, shown in the card it concerns. */
export interface Outcome {
  tone: 'ok' | 'bad';
  /** The first sentence, bold. */
  title: string;
  /** Sentences after it, each its own line. */
  lines: string[];
  /** Paths to show in monospace, after the lines. */
  paths?: { label: string; path: string }[];
}

const DONE: Record<ChangeVerb | 'undo', string> = {
  register: 'Registered.',
  update: 'Updated.',
  unregister: 'Unregistered.',
  undo: 'Restored the previous version.',
};

export function changeOutcome(verb: ChangeVerb | 'undo', result: ClientChangeResult): Outcome {
  return {
    tone: 'ok',
    title: DONE[verb],
    lines: [result.nextStep],
    paths: result.backup === null ? [] : [{ label: 'Backup', path: result.backup }],
  };
}

/** What an import did, e.g. "Imported github and postgres." */
export function importOutcome(result: ImportResult, client: string): Outcome {
  const lines: string[] = [];
  if (result.movedSecrets.length > 0) {
    lines.push(
      `Moved ${plural(result.movedSecrets.length, 'secret')} to the keyring: ${result.movedSecrets.join(', ')}.`,
    );
  }
  if (result.replaced) lines.push(`${client} now reaches them through Gatehouse.`);
  lines.push(result.nextStep);
  return {
    tone: 'ok',
    title:
      result.imported.length === 0 ? 'Nothing was imported.' : `Imported ${listText(result.imported)}.`,
    lines,
  };
}

/** "a", "a and b", "a, b and c". */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

export function importable(candidates: readonly ImportCandidate[]): ImportCandidate[] {
  return candidates.filter((c) => c.skip === null);
}

/** The error of a stale base: the file changed between the plan and the apply. */
export function isChangedSince(err: { kind: string; message: string }): boolean {
  return err.kind === 'ChangedSince' || /changed since/i.test(err.message);
}

/** Shown in a review above its buttons. */
export interface ReviewNotice {
  tone: 'pending' | 'bad';
  text: string;
}

/** Shown when an apply found the file changed since its plan, over the plan made again. */
export const CHANGED_SINCE_NOTICE: ReviewNotice = {
  tone: 'pending',
  text: 'The file changed since this change was prepared. Below is the change against the file as it is now; review it again.',
};

/** The review panel open in the view (one at a time), under the file it is about. */
export type Review =
  | {
      kind: 'change';
      /** Tells this review from a later one of the same file. */
      id: number;
      client: string;
      clientName: string;
      scope: ClientScope;
      verb: ChangeVerb;
      req: ClientChangeRequest;
      /** null while it loads. */
      plan: ClientPlan | null;
      notice: ReviewNotice | null;
    }
  | {
      kind: 'import';
      id: number;
      client: string;
      clientName: string;
      scope: ClientScope;
      ref: ClientFileRef;
      /** null while they load. */
      candidates: ImportCandidate[] | null;
      /** The change to the file if the importable servers are replaced by Gatehouse's entry; null while it loads or when nothing can be imported. */
      replacement: ClientPlan | null;
      replace: boolean;
      notice: ReviewNotice | null;
    };

/** The request in flight: which file, and the button (or the review's Confirm) that sent it. */
export interface Busy {
  client: string;
  scope: ClientScope;
  action: TargetAction | 'confirm';
}

/** An outcome and the file it is about. */
export interface PlacedOutcome extends Outcome {
  id: number;
  client: string;
  scope: ClientScope;
}
