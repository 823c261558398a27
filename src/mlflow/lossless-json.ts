/**
 * A JSON reader that keeps what JSON.parse loses: whether a number was written as a float
 * (`9.0`, `1e3`) or an int (of any size), as Python's `json.loads` tells them apart, and the text
 * of each top-level member as sent. MLflow's refusal messages print values as Python parsed them.
 */

/**
 * A JSON value as Python's `json.loads` gives it: numbers with a fraction or exponent are floats,
 * others ints of any size; objects keep their keys in the order sent.
 */
export type PyValue =
  | { t: 'str'; v: string }
  | { t: 'int'; text: string }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'list'; items: PyValue[] }
  | { t: 'dict'; entries: Map<string, PyValue> };

/** Deeper than this, values print as `...` (Python's own repr gives up far sooner than JSON does). */
export const PY_DEPTH_MAX = 100;

/** The members of the top-level object of a JSON text, each as its value's text; the last wins. */
export function topLevelMembers(text: string): Map<string, string> | undefined {
  try {
    const r = new JsonScanner(text);
    r.ws();
    r.expect('{');
    const out = new Map<string, string>();
    r.ws();
    if (r.peek() === '}') return out;
    for (;;) {
      r.ws();
      const key = r.string();
      r.ws();
      r.expect(':');
      r.ws();
      const start = r.pos;
      r.value(0);
      out.set(key, text.slice(start, r.pos));
      r.ws();
      if (r.peek() === ',') {
        r.pos++;
        continue;
      }
      r.expect('}');
      return out;
    }
  } catch {
    return undefined;
  }
}

/** A JSON text as Python's json.loads reads it, or undefined when it is not one JSON value. */
export function parseLossless(text: string): PyValue | undefined {
  try {
    const r = new JsonScanner(text);
    r.ws();
    const v = r.value(0);
    r.ws();
    return r.pos === text.length ? v : undefined;
  } catch {
    return undefined;
  }
}

// Sticky: it matches at `lastIndex` only, so scanning never copies the rest of the text.
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

class JsonScanner {
  pos = 0;
  constructor(private readonly text: string) {}

  private match(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.pos;
    return re.exec(this.text);
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  ws(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos]!)) this.pos++;
  }

  expect(ch: string): void {
    if (this.text[this.pos] !== ch) throw new Error(`expected ${ch} at ${this.pos}`);
    this.pos++;
  }

  /** A string token, decoded by JSON.parse (the text was valid JSON: JSON.parse read it first). */
  string(): string {
    const start = this.pos;
    this.expect('"');
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) throw new Error('unterminated string');
      this.pos += ch === '\\' ? 2 : 1;
      if (ch === '"') break;
    }
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  value(depth: number): PyValue {
    if (depth > PY_DEPTH_MAX) throw new Error('too deep');
    const ch = this.peek();
    if (ch === '"') return { t: 'str', v: this.string() };
    if (ch === '{') {
      this.pos++;
      const entries = new Map<string, PyValue>();
      this.ws();
      if (this.peek() === '}') {
        this.pos++;
        return { t: 'dict', entries };
      }
      for (;;) {
        this.ws();
        const key = this.string();
        this.ws();
        this.expect(':');
        this.ws();
        entries.set(key, this.value(depth + 1));
        this.ws();
        if (this.peek() === ',') {
          this.pos++;
          continue;
        }
        this.expect('}');
        return { t: 'dict', entries };
      }
    }
    if (ch === '[') {
      this.pos++;
      const items: PyValue[] = [];
      this.ws();
      if (this.peek() === ']') {
        this.pos++;
        return { t: 'list', items };
      }
      for (;;) {
        this.ws();
        items.push(this.value(depth + 1));
        this.ws();
        if (this.peek() === ',') {
          this.pos++;
          continue;
        }
        this.expect(']');
        return { t: 'list', items };
      }
    }
    for (const [word, v] of [['true', { t: 'bool', v: true }], ['false', { t: 'bool', v: false }], ['null', { t: 'none' }]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    const m = this.match(JSON_NUMBER);
    if (m === null || m[0] === '' || m[0] === '-') throw new Error(`unexpected character at ${this.pos}`);
    this.pos += m[0].length;
    if (m[1] !== undefined || m[2] !== undefined) return { t: 'float', v: Number(m[0]) };
    return { t: 'int', text: BigInt(m[0]).toString() };
  }
}

