import { describe, expect, it } from 'vitest';
import type { ServerState, ServerView } from './api';
import { server } from './api.mock';
import {
  actionLabel,
  availableActions,
  canRun,
  codeSpans,
  commandLine,
  formatClock,
  formatCountdown,
  formatLogTime,
  formatMillis,
  isoTime,
  formatDuration,
  formatSince,
  formatSummary,
  shellQuote,
  stateLabel,
  stateTone,
  summaryParts,
  toolBadge,
  toolCountLabel,
} from './format';

function srv(name: string, state: ServerState): ServerView {
  return server({ name, state });
}

describe('formatSummary', () => {
  it('matches the header example', () => {
    const servers = [srv('a', 'running'), srv('b', 'running'), srv('c', 'failed')];
    expect(formatSummary(servers)).toBe('3 servers · 2 running · 1 failed');
  });

  it('says so when there are no servers', () => {
    expect(formatSummary([])).toBe('No servers');
  });

  it('uses the singular for one server', () => {
    expect(formatSummary([srv('a', 'running')])).toBe('1 server · 1 running');
  });

  it('says "none running" when everything is idle', () => {
    expect(formatSummary([srv('a', 'stopped'), srv('b', 'disabled')])).toBe(
      '2 servers · none running',
    );
  });

  it('counts every transitional state separately, in a stable order', () => {
    const servers = [
      srv('f', 'failed'),
      srv('s', 'starting'),
      srv('b', 'backing_off'),
      srv('b2', 'backing_off'),
      srv('x', 'stopping'),
      srv('r', 'running'),
      srv('d', 'disabled'),
    ];
    expect(formatSummary(servers)).toBe(
      '7 servers · 1 running · 1 starting · 2 retrying · 1 stopping · 1 failed',
    );
  });

  it('tags each part with the tone used for its dot', () => {
    const parts = summaryParts([srv('a', 'running'), srv('b', 'failed'), srv('c', 'starting')]);
    expect(parts).toEqual([
      { text: '3 servers', tone: null },
      { text: '1 running', tone: 'ok' },
      { text: '1 starting', tone: 'pending' },
      { text: '1 failed', tone: 'bad' },
    ]);
  });
});

describe('stateTone', () => {
  it.each<[ServerState, string]>([
    ['running', 'ok'],
    ['starting', 'pending'],
    ['backing_off', 'pending'],
    ['stopping', 'pending'],
    ['failed', 'bad'],
    ['stopped', 'idle'],
    ['disabled', 'idle'],
  ])('%s is %s', (state, tone) => {
    expect(stateTone(state)).toBe(tone);
  });
});

describe('commandLine', () => {
  it('joins command and args with spaces', () => {
    expect(commandLine('npx', ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'])).toBe(
      'npx -y @modelcontextprotocol/server-filesystem /tmp',
    );
  });

  it('shows a bare command when there are no args', () => {
    expect(commandLine('gatehouse', [])).toBe('gatehouse');
  });

  it('quotes arguments a shell would split or expand', () => {
    expect(commandLine('node', ['/home/me/My Servers/index.js', '$HOME', ''])).toBe(
      "node '/home/me/My Servers/index.js' '$HOME' ''",
    );
  });

  it('escapes embedded single quotes', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe('toolBadge', () => {
  it('labels read-only tools, even if also marked destructive', () => {
    expect(toolBadge({ readOnly: true, destructive: false })).toBe('read-only');
    expect(toolBadge({ readOnly: true, destructive: true })).toBe('read-only');
  });

  it('labels destructive writers', () => {
    expect(toolBadge({ readOnly: false, destructive: true })).toBe('destructive');
  });

  it('labels everything else as writes', () => {
    expect(toolBadge({ readOnly: false, destructive: false })).toBe('writes');
  });
});

describe('durations', () => {
  it.each([
    [0, 'now'],
    [4_999, 'now'],
    [42_000, '42s'],
    [5 * 60_000 + 10_000, '5m'],
    [3 * 3_600_000, '3h'],
    [3 * 3_600_000 + 4 * 60_000, '3h 4m'],
    [49 * 3_600_000, '2d 1h'],
    [48 * 3_600_000, '2d'],
    [-10_000, 'now'],
  ])('%i ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('formatSince returns null when the time is unknown', () => {
    expect(formatSince(null, 1_000)).toBeNull();
    expect(formatSince(1_000, 61_000)).toBe('1m');
  });

  it('pluralises the tool count', () => {
    expect(toolCountLabel(0)).toBe('0 tools');
    expect(toolCountLabel(1)).toBe('1 tool');
    expect(toolCountLabel(4)).toBe('4 tools');
  });
});

describe('stateLabel', () => {
  it('reads as words', () => {
    expect(stateLabel('backing_off')).toBe('backing off');
    expect(stateLabel('running')).toBe('running');
  });
});

describe('server actions', () => {
  it.each([
    ['stopped', ['start']],
    ['failed', ['start', 'restart']],
    ['disabled', ['start']],
    ['starting', ['stop']],
    ['running', ['stop', 'restart']],
    ['backing_off', ['stop', 'restart']],
    ['stopping', []],
  ] as const)('%s offers %j', (state, actions) => {
    expect(availableActions(state)).toEqual(actions);
  });

  it('canRun agrees with availableActions', () => {
    expect(canRun('restart', 'failed')).toBe(true);
    expect(canRun('start', 'running')).toBe(false);
    expect(canRun('stop', 'stopping')).toBe(false);
  });

  it('labels buttons, with a busy variant', () => {
    expect(actionLabel('stop')).toBe('Stop');
    expect(actionLabel('stop', true)).toBe('Stopping…');
    expect(actionLabel('restart', true)).toBe('Restarting…');
  });
});

describe('formatClock', () => {
  it('is local HH:MM:SS, zero-padded, 24 h', () => {
    expect(formatClock(new Date(2024, 10, 20, 9, 5, 7, 999).getTime())).toBe('09:05:07');
    expect(formatClock(new Date(2024, 10, 20, 23, 59, 0).getTime())).toBe('23:59:00');
  });

  it('does not throw on garbage', () => {
    expect(formatClock(Number.NaN)).toBe('--:--:--');
    expect(formatClock(8.64e15 + 1)).toBe('--:--:--');
    expect(isoTime(Number.NaN)).toBeUndefined();
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('formatCountdown', () => {
  it.each([
    [113_000, '1:53'],
    [112_001, '1:53'],
    [60_000, '1:00'],
    [14_200, '0:15'],
    [999, '0:01'],
    [0, '0:00'],
    [-5_000, '0:00'],
    [3_600_000, '60:00'],
  ])('%i ms -> %s', (ms, textOut) => {
    expect(formatCountdown(ms)).toBe(textOut);
  });
});

describe('formatMillis', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [1_000, '1.0 s'],
    [1_440, '1.4 s'],
    [59_949, '59.9 s'],
    [120_000, '2m 00s'],
    [125_400, '2m 05s'],
    [-3, '0 ms'],
  ])('%i ms -> %s', (ms, textOut) => {
    expect(formatMillis(ms)).toBe(textOut);
  });
});

describe('formatLogTime', () => {
  const now = new Date(2024, 10, 20, 15, 0, 0).getTime();

  it('is the clock time today, and month, day and minutes before', () => {
    expect(formatLogTime(new Date(2024, 10, 20, 9, 5, 7).getTime(), now)).toBe('09:05:07');
    expect(formatLogTime(new Date(2024, 10, 19, 23, 59, 30).getTime(), now)).toBe('Nov 19 23:59');
    expect(formatLogTime(new Date(2023, 0, 2, 8, 3).getTime(), now)).toBe('Jan 2 08:03');
    expect(formatLogTime(Number.NaN, now)).toBe('--:--:--');
  });
});

describe('codeSpans', () => {
  it('marks the backticked parts as code', () => {
    expect(codeSpans('`delete_note` is marked destructive.')).toEqual([
      { text: 'delete_note', code: true },
      { text: ' is marked destructive.', code: false },
    ]);
    expect(codeSpans('The definition of `write_file` changed.')).toEqual([
      { text: 'The definition of ', code: false },
      { text: 'write_file', code: true },
      { text: ' changed.', code: false },
    ]);
    expect(codeSpans('No code here.')).toEqual([{ text: 'No code here.', code: false }]);
  });
});
