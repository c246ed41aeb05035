import { describe, expect, it } from 'vitest';
import type { ClientInfo, ClientTarget } from './api';
import {
  canImport,
  canRegister,
  canUnregister,
  changeOutcome,
  changeTitle,
  clientsSummary,
  detailSentence,
  diffStats,
  groupClients,
  importLabel,
  importOutcome,
  isChangedSince,
  listText,
  parseDiff,
  registerVerb,
  registrationLabel,
  registrationTone,
  splitPath,
  targetsOf,
} from './clients';

function target(partial: Partial<ClientTarget> = {}): ClientTarget {
  return {
    scope: 'user',
    path: '/home/ada/.cursor/mcp.json',
    state: 'absent',
    form: 'http',
    detail: null,
    otherServers: [],
    serverEntries: [],
    canUndo: false,
    ...partial,
  };
}

function client(id: string, installed: boolean, partial: Partial<ClientInfo> = {}): ClientInfo {
  return {
    id,
    name: id,
    installed,
    user: target(),
    project: null,
    supportsProject: true,
    nextStep: 'Restart it.',
    note: null,
    ...partial,
  };
}

describe('states', () => {
  it('labels and tones each state', () => {
    expect(
      (['registered', 'outdated', 'absent', 'unreadable'] as const).map((s) => [registrationLabel(s), registrationTone(s)]),
    ).toEqual([
      ['Registered', 'ok'],
      ['Outdated', 'pending'],
      ['Not registered', 'idle'],
      ['Can’t read file', 'bad'],
    ]);
  });

  it('offers Register, Update, Unregister and Import by state', () => {
    expect(registerVerb(target({ state: 'absent' }))).toBe('register');
    expect(registerVerb(target({ state: 'outdated' }))).toBe('update');
    expect(registerVerb(target({ state: 'registered' }))).toBeNull();
    // Shown, but refused: Gatehouse does not write a file it cannot read.
    expect(registerVerb(target({ state: 'unreadable' }))).toBe('register');
    expect(canRegister(target({ state: 'unreadable' }))).toBe(false);

    expect(canUnregister(target({ state: 'registered' }))).toBe(true);
    expect(canUnregister(target({ state: 'outdated' }))).toBe(true);
    expect(canUnregister(target({ state: 'absent' }))).toBe(false);
    expect(canUnregister(target({ state: 'unreadable' }))).toBe(false);

    expect(canImport(target({ otherServers: ['github'] }))).toBe(true);
    expect(canImport(target({ otherServers: [] }))).toBe(false);
    expect(canImport(target({ state: 'unreadable', otherServers: ['github'] }))).toBe(false);
    expect(importLabel(1)).toBe('Import 1 server');
    expect(importLabel(3)).toBe('Import 3 servers');
  });

  it('makes the Rust side’s clause about an outdated entry a sentence', () => {
    expect(
      detailSentence(
        target({
          state: 'outdated',
          detail: 'points at http://127.0.0.1:8700/mcp; Gatehouse now listens on http://127.0.0.1:8737/mcp',
        }),
      ),
    ).toBe('Gatehouse’s entry points at http://127.0.0.1:8700/mcp; Gatehouse now listens on http://127.0.0.1:8737/mcp.');
    expect(detailSentence(target({ state: 'outdated', detail: 'The token changed.' }))).toBe('The token changed.');
    expect(detailSentence(target({ state: 'unreadable', detail: 'line 12, column 5: unexpected token' }))).toBe(
      'line 12, column 5: unexpected token.',
    );
    expect(detailSentence(target({ detail: null }))).toBeNull();
    expect(detailSentence(target({ detail: '  ' }))).toBeNull();
  });
});

describe('clients', () => {
  it('puts installed clients first, each group in the given order', () => {
    const list = [client('a', false), client('b', true), client('c', false), client('d', true)];
    const { installed, missing } = groupClients(list);
    expect(installed.map((c) => c.id)).toEqual(['b', 'd']);
    expect(missing.map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('lists the user file, then the project file', () => {
    const both = client('x', true, { project: target({ scope: 'project', path: '/p/.mcp.json' }) });
    expect(targetsOf(both).map((t) => t.scope)).toEqual(['user', 'project']);
    expect(targetsOf(client('y', true, { user: null }))).toEqual([]);
  });

  it('sums up the states of every file', () => {
    const list = [
      client('a', true, { user: target({ state: 'registered' }) }),
      client('b', true, { user: target({ state: 'outdated' }), project: target({ scope: 'project', state: 'registered' }) }),
      client('c', false, { user: target({ state: 'unreadable' }) }),
      client('d', false),
    ];
    expect(clientsSummary(list)).toBe('2 registered · 1 outdated · 1 can’t read');
    expect(clientsSummary([client('d', false)])).toBe('');
  });
});

describe('splitPath', () => {
  it('keeps the last two segments together', () => {
    expect(splitPath('/home/ada/.config/Claude/claude_desktop_config.json')).toEqual({
      head: '/home/ada/.config/',
      tail: 'Claude/claude_desktop_config.json',
    });
    expect(splitPath('/home/ada/.claude.json')).toEqual({ head: '/home/', tail: 'ada/.claude.json' });
    expect(splitPath('C:\\Users\\ada\\.cursor\\mcp.json')).toEqual({ head: 'C:\\Users\\ada\\', tail: '.cursor\\mcp.json' });
  });

  it('keeps only the last segment when the two are long', () => {
    const dir = '/home/ada/projects/acme-customer-support-knowledge-base-connector';
    expect(splitPath(dir)).toEqual({
      head: '/home/ada/projects/',
      tail: 'acme-customer-support-knowledge-base-connector',
    });
  });

  it('leaves short paths whole', () => {
    expect(splitPath('mcp.json')).toEqual({ head: '', tail: 'mcp.json' });
    expect(splitPath('/mcp.json')).toEqual({ head: '', tail: '/mcp.json' });
  });

  it('always joins back to the path', () => {
    for (const p of ['/a/b/c/d.json', '/x', 'rel/a/b', '/home/ada/.config/Code/User/globalStorage/x/settings/mcp_settings.json']) {
      const { head, tail } = splitPath(p);
      expect(head + tail).toBe(p);
    }
  });
});

describe('parseDiff', () => {
  const DIFF = [
    '--- /home/ada/.cursor/mcp.json',
    '+++ /home/ada/.cursor/mcp.json',
    '@@ -1,4 +1,5 @@',
    ' {',
    '-  "a": 1',
    '--- not a header, a removed line',
    '+  "a": 1,',
    '+  "gatehouse": {}',
    ' }',
    '\\ No newline at end of file',
    '',
  ].join('\n');

  it('tells headers, hunks, additions, removals and context apart', () => {
    const lines = parseDiff(DIFF);
    expect(lines.map((l) => l.kind)).toEqual(['file', 'file', 'hunk', 'context', 'del', 'del', 'add', 'add', 'context', 'note']);
    expect(lines[5]?.text).toBe('--- not a header, a removed line');
    expect(diffStats(lines)).toEqual({ added: 2, removed: 2 });
  });

  it('handles a new file, several hunks and CRLF', () => {
    const created = '--- /dev/null\r\n+++ /p/.mcp.json\r\n@@ -0,0 +1,2 @@\r\n+{\r\n+}\r\n';
    expect(parseDiff(created).map((l) => l.kind)).toEqual(['file', 'file', 'hunk', 'add', 'add']);
    const two = '@@ -1 +1 @@\n-a\n+b\n@@ -9,2 +9,2 @@\n x\n-c\n+d\n';
    expect(parseDiff(two).map((l) => l.kind)).toEqual(['hunk', 'del', 'add', 'hunk', 'context', 'del', 'add']);
  });

  it('is empty for an empty diff', () => {
    expect(parseDiff('')).toEqual([]);
  });
});

describe('messages', () => {
  it('titles the review by what it does', () => {
    expect(changeTitle('register', 'Cursor', 'user')).toBe('Register Gatehouse with Cursor');
    expect(changeTitle('update', 'Cursor', 'project')).toBe('Update Gatehouse’s entry in Cursor’s project file');
    expect(changeTitle('unregister', 'Zed', 'user')).toBe('Remove Gatehouse from Zed');
  });

  it('says what a change did and what to do next', () => {
    const outcome = changeOutcome('register', {
      path: '/p',
      backup: '/b/1.json',
      nextStep: 'Quit Claude Desktop completely and open it again.',
    });
    expect([outcome.title, ...outcome.lines].join(' ')).toBe(
      'Registered. Quit Claude Desktop completely and open it again.',
    );
    expect(outcome.paths).toEqual([{ label: 'Backup', path: '/b/1.json' }]);
    expect(changeOutcome('undo', { path: '/p', backup: null, nextStep: 'x' }).paths).toEqual([]);
  });

  it('says what an import did', () => {
    const outcome = importOutcome(
      {
        imported: ['github', 'postgres'],
        movedSecrets: ['github/GITHUB_TOKEN'],
        replaced: true,
        path: '/p',
        nextStep: 'Restart Cursor.',
      },
      'Cursor',
    );
    expect(outcome.title).toBe('Imported github and postgres.');
    expect(outcome.lines).toEqual([
      'Moved 1 secret to the keyring: github/GITHUB_TOKEN.',
      'Cursor now reaches them through Gatehouse.',
      'Restart Cursor.',
    ]);
    expect(listText(['a', 'b', 'c'])).toBe('a, b and c');
    expect(listText(['a'])).toBe('a');
  });

  it('recognises the error of a file that changed since the plan', () => {
    expect(isChangedSince({ kind: 'ChangedSince', message: 'x' })).toBe(true);
    expect(isChangedSince({ kind: 'Unknown', message: '/p changed since the change was prepared' })).toBe(true);
    expect(isChangedSince({ kind: 'Io', message: 'permission denied' })).toBe(false);
  });
});
