import { parseLossless, PY_DEPTH_MAX, type PyValue } from './lossless-json.js';

/**
 * `repr(value)` as Python writes it for the value `json.loads` would give: strings single-quoted
 * (double-quoted when they hold a `'` and no `"`) with Python's escapes, `True`/`False`/`None`,
 * floats in Python's shortest form (`9.0`, `1e+16`, `1e-05`), lists as `[a, b]` and dicts as
 * `{'k': v}`. JSON.parse cannot tell `9.0` from `9`; pass the field's JSON text as `rawToken` and
 * the value is printed from it instead.
 */
export function pythonRepr(value: unknown, rawToken?: string): string {
  return reprPy(pythonValue(value, rawToken));
}

/** `str(value)`: as `pythonRepr`, except that a string prints as it is, unquoted. */
export function pythonStr(value: unknown, rawToken?: string): string {
  return pythonStrOf(pythonValue(value, rawToken));
}

/** The value Python would hold: parsed from the field's JSON text when given, else from the JS value. */
export function pythonValue(value: unknown, rawToken?: string): PyValue {
  if (rawToken !== undefined) {
    const parsed = parseLossless(rawToken);
    if (parsed !== undefined) return parsed;
  }
  return fromJs(value, 0);
}

function fromJs(v: unknown, depth: number): PyValue {
  if (v === null || v === undefined) return { t: 'none' };
  if (typeof v === 'string') return { t: 'str', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { t: 'int', text: String(v) } : { t: 'float', v };
  if (typeof v === 'bigint') return { t: 'int', text: v.toString() };
  if (depth >= PY_DEPTH_MAX) return { t: 'list', items: [] };
  if (Array.isArray(v)) return { t: 'list', items: v.map((x: unknown) => fromJs(x, depth + 1)) };
  if (typeof v === 'object') return { t: 'dict', entries: new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromJs(x, depth + 1)])) };
  return { t: 'none' }; // functions and symbols: never in a parsed body
}

/** `str()` of a Python value: a string unquoted, anything else as its repr. */
export function pythonStrOf(p: PyValue): string {
  return p.t === 'str' ? p.v : reprPy(p);
}

function reprPy(p: PyValue, depth = 0): string {
  switch (p.t) {
    case 'str':
      return reprString(p.v);
    case 'int':
      return p.text;
    case 'float':
      return reprFloat(p.v);
    case 'bool':
      return p.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'list':
      if (depth >= PY_DEPTH_MAX) return '[...]';
      return `[${p.items.map((x) => reprPy(x, depth + 1)).join(', ')}]`;
    case 'dict': {
      if (depth >= PY_DEPTH_MAX) return '{...}';
      const parts: string[] = [];
      for (const [k, x] of p.entries) parts.push(`${reprString(k)}: ${reprPy(x, depth + 1)}`);
      return `{${parts.join(', ')}}`;
    }
  }
}

/** `type(value).__name__`. */
export function pythonTypeName(p: PyValue): string {
  return { str: 'str', int: 'int', float: 'float', bool: 'bool', none: 'NoneType', list: 'list', dict: 'dict' }[p.t];
}

/** Python's float repr: the shortest digits that round-trip, positional for 1e-4 ≤ |x| < 1e16. */
function reprFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest round-trip digits, as Python's repr.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fraction = digits.slice(exp + 1);
  return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
}

/** Python's str repr: printable characters as they are, the rest as \t \n \r \xNN \uNNNN \UNNNNNNNN. */
function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp >= 0x7f && !NOT_PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + quote;
}

/** Python's str.isprintable() is false for the Unicode categories C* and Z* (space excepted). */
const NOT_PRINTABLE = /^[\p{C}\p{Z}]$/u;
