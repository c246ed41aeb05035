import { describe, expect, it } from 'vitest';
import { isFiltered, NO_FILTER, SINCE_OPTIONS, toLogFilter } from './activity';

const NOW = 1_700_000_000_000;

describe('toLogFilter', () => {
  it('leaves out everything set to "any", and never pages', () => {
    expect(toLogFilter(NO_FILTER, NOW)).toEqual({});
    expect(isFiltered(NO_FILTER)).toBe(false);
  });

  it('maps each control', () => {
    expect(
      toLogFilter({ server: 'notes', tool: ' delete_note ', decision: 'denied', since: 'hour', search: 'id' }, NOW),
    ).toEqual({ server: 'notes', tool: 'delete_note', decision: 'denied', sinceMs: NOW - 3_600_000, search: 'id' });
  });

  it.each([
    ['any', undefined],
    ['hour', NOW - 3_600_000],
    ['day', NOW - 86_400_000],
    ['week', NOW - 7 * 86_400_000],
  ] as const)('since %s counts back from now', (since, sinceMs) => {
    expect(toLogFilter({ ...NO_FILTER, since }, NOW).sinceMs).toBe(sinceMs);
  });

  it('keeps the search as typed, but a blank tool means any', () => {
    expect(toLogFilter({ ...NO_FILTER, search: ' two words ' }, NOW)).toEqual({ search: ' two words ' });
    expect(toLogFilter({ ...NO_FILTER, tool: '   ' }, NOW)).toEqual({});
    expect(isFiltered({ ...NO_FILTER, tool: '   ' })).toBe(false);
    expect(isFiltered({ ...NO_FILTER, since: 'week' })).toBe(true);
  });

  it('offers any, an hour, a day and a week, in that order', () => {
    expect(SINCE_OPTIONS.map((o) => o.label)).toEqual(['Any time', 'Last hour', 'Last 24 hours', 'Last 7 days']);
  });
});
