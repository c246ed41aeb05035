import { describe, expect, it } from 'vitest';
import { changeValueText, jsonLines, parseJson } from './json';
import type { JsonLine, JsonToken } from './json';

/** A line as JSON.stringify(value, null, 2) would print it. */
function render(line: JsonLine): string {
  const tok = (t: JsonToken) =>
    t.kind === 'string' ? JSON.stringify(t.value) : t.kind === 'masked' ? '"****"' : t.text;
  return '  '.repeat(line.depth) + line.tokens.map(tok).join('');
}

describe('jsonLines', () => {
  it.each([
    ['an object', { id: 7, tags: ['a', 'b'], nested: { ok: true, none: null }, empty: {}, list: [] }],
    ['an array', [1, 'two', [3], { four: 4 }]],
    ['a string', 'plain'],
    ['a number', 42],
    ['null', null],
    ['escapes', { 'we"ird': 'line\nbreak\ttab "quoted"' }],
  ])('lays out %s exactly like JSON.stringify(v, null, 2)', (_label, value) => {
    expect(jsonLines(value).map(render).join('\n')).toBe(JSON.stringify(value, null, 2));
  });

  it('turns the mask into its own token, and only the exact mask', () => {
    const lines = jsonLines({ apiKey: '****', note: '*****' });
    expect(lines[1]!.tokens).toEqual([{ kind: 'key', text: '"apiKey"' }, { kind: 'punct', text: ': ' }, { kind: 'masked' }, { kind: 'punct', text: ',' }]);
    expect(lines[2]!.tokens[2]).toEqual({ kind: 'string', value: '*****' });
  });

  it('keeps long strings whole (the view folds them)', () => {
    const long = 'x'.repeat(1000);
    expect(jsonLines({ long })[1]!.tokens[2]).toEqual({ kind: 'string', value: long });
  });

  it('shows undefined as (none), skips undefined members, and survives cycles', () => {
    expect(jsonLines(undefined)).toEqual([{ depth: 0, tokens: [{ kind: 'null', text: '(none)' }] }]);
    expect(jsonLines({ a: undefined, b: 1 }).map(render)).toEqual(['{', '  "b": 1', '}']);
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    expect(jsonLines(loop).map(render)).toContain('  "self": (circular)');
  });
});

describe('parseJson', () => {
  it('parses JSON text and leaves anything else as text', () => {
    expect(parseJson('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(parseJson('not json {')).toBe('not json {');
  });
});

describe('changeValueText', () => {
  it('is compact JSON, or (none) when absent', () => {
    expect(changeValueText(undefined)).toBe('(none)');
    expect(changeValueText(null)).toBe('null');
    expect(changeValueText('Create a file.')).toBe('"Create a file."');
    expect(changeValueText({ type: 'string', enum: ['a', 'b'] })).toBe('{"type":"string","enum":["a","b"]}');
    expect(changeValueText(true)).toBe('true');
  });
});
