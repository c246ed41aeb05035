// A JSON value as lines of tokens, so the view can fold long strings and show
// masked secrets as chips while keeping the pretty-printed layout.

/** What the Rust side puts in place of anything that looks like a secret. */
export const MASK = '****';

export type JsonToken =
  | { kind: 'punct'; text: string }
  | { kind: 'key'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'masked' }
  | { kind: 'number' | 'boolean' | 'null'; text: string };

export interface JsonLine {
  /** Nesting level, for indentation. */
  depth: number;
  tokens: JsonToken[];
}

function scalar(value: unknown): JsonToken {
  if (typeof value === 'string') return value === MASK ? { kind: 'masked' } : { kind: 'string', value };
  if (typeof value === 'number') return { kind: 'number', text: Number.isFinite(value) ? String(value) : 'null' };
  if (typeof value === 'boolean') return { kind: 'boolean', text: String(value) };
  if (value === undefined) return { kind: 'null', text: '(none)' };
  if (value === null) return { kind: 'null', text: 'null' };
  // Not JSON (a bigint, a function): show something rather than nothing.
  return { kind: 'string', value: String(value) };
}

const punct = (text: string): JsonToken => ({ kind: 'punct', text });

/** `value` pretty-printed like `JSON.stringify(value, null, 2)`, one entry per line. */
export function jsonLines(value: unknown): JsonLine[] {
  const lines: JsonLine[] = [];
  const seen = new Set<object>();

  const walk = (v: unknown, depth: number, lead: JsonToken[], trail: JsonToken[]) => {
    if (typeof v !== 'object' || v === null) {
      lines.push({ depth, tokens: [...lead, scalar(v), ...trail] });
      return;
    }
    if (seen.has(v)) {
      lines.push({ depth, tokens: [...lead, { kind: 'null', text: '(circular)' }, ...trail] });
      return;
    }
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    const entries: [string | null, unknown][] = Array.isArray(v)
      ? v.map((item): [null, unknown] => [null, item])
      : Object.entries(v).filter(([, item]) => item !== undefined);
    if (entries.length === 0) {
      lines.push({ depth, tokens: [...lead, punct(open + close), ...trail] });
      return;
    }
    seen.add(v);
    lines.push({ depth, tokens: [...lead, punct(open)] });
    entries.forEach(([key, item], i) => {
      const keyTokens: JsonToken[] = key === null ? [] : [{ kind: 'key', text: JSON.stringify(key) }, punct(': ')];
      walk(item, depth + 1, keyTokens, i < entries.length - 1 ? [punct(',')] : []);
    });
    lines.push({ depth, tokens: [punct(close), ...trail] });
    seen.delete(v);
  };

  walk(value, 0, [], []);
  return lines;
}

/** Parse JSON text, or return it unchanged when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** One side of a definition change, for display: JSON text, or "(none)" when absent. */
export function changeValueText(value: unknown): string {
  if (value === undefined) return '(none)';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
