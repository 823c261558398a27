import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { toErrorResponse, type RouteAuth } from '../http/index.js';
import { FluxError, RUN_ID_PATTERN } from '../core/index.js';
import { safeRelativePath } from '../storage/artifacts/index.js';

/**
 * Reading MLflow requests. MLflow's clients send GET fields in the query string (a list as the
 * same key repeated: `experiment_ids=1&experiment_ids=2`) and every other method's fields as a
 * JSON body. Protobuf's JSON mapping lets an int64 arrive as a number or as a decimal string, and
 * a double as a number, a numeric string or "NaN"/"Infinity"/"-Infinity"; the readers below accept
 * exactly those spellings for the fields declared so, and nothing looser: a string field (ids
 * included) must be a JSON string, as MLflow's server requires.
 */
export class MlflowFields {
  private constructor(
    private readonly fields: Record<string, unknown>,
    /** Query-string fields are all text; a JSON body keeps its types. */
    private readonly fromQuery: boolean,
    /** The body as sent, when the request had a JSON body (see `keepRawJsonBodies`). */
    private readonly rawBody?: string,
  ) {}

  static of(req: FastifyRequest): MlflowFields {
    if (req.method === 'GET' || req.method === 'HEAD') return new MlflowFields((req.query ?? {}) as Record<string, unknown>, true);
    const body = req.body;
    if (body === undefined || body === null) return new MlflowFields({}, false);
    if (typeof body !== 'object' || Array.isArray(body)) throw invalid('the request body must be a JSON object');
    return new MlflowFields(body as Record<string, unknown>, false, rawBodies.get(req));
  }

  /**
   * The JSON text of a top-level body field exactly as the client wrote it (undefined for query
   * strings, or when the body text is not at hand). Error messages print a value from it, since
   * JSON.parse loses what Python keeps: `9.0` is a float there, `9` an int.
   */
  rawToken(name: string): string | undefined {
    if (this.fromQuery || this.rawBody === undefined) return undefined;
    return topLevelMembers(this.rawBody)?.get(name);
  }

  /** MLflow's refusal of this field's value, printed from the text the client sent. */
  invalid(name: string): FluxError {
    return invalidValue(name, this.raw(name), this.rawToken(name));
  }

  /** The raw value; for a query field given several times, the first (scalar fields). */
  private raw(name: string): unknown {
    const v = this.fields[name];
    if (this.fromQuery && Array.isArray(v)) return v[0];
    return v;
  }

  /** A field as sent (the first, for a query key given several times). */
  value(name: string): unknown {
    return this.raw(name);
  }

  has(name: string): boolean {
    const v = this.fields[name];
    return v !== undefined && v !== null;
  }

  string(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw this.invalid(name);
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw missing(name);
    return v;
  }

  /**
   * A string field that some clients send as a number (model versions): a JSON string, or a
   * safe integer written as its decimal text. Tracking ids use `string` and stay strict.
   */
  idString(name: string): string | undefined {
    const v = this.raw(name);
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    return this.string(name);
  }

  int64(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d{1,16}$/.test(v.trim()) && Number.isSafeInteger(Number(v))) return Number(v);
    throw this.invalid(name);
  }

  requiredInt64(name: string): number {
    const v = this.int64(name);
    if (v === undefined) throw missing(name);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'True') return true;
    if (v === 'false' || v === 'False') return false;
    throw this.invalid(name);
  }

  /** A repeated string field: an array in JSON, the key repeated (or given once) in a query. */
  stringList(name: string): string[] {
    const v = this.fields[name];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? (v as unknown[]) : this.fromQuery ? [v] : undefined;
    if (list === undefined) throw this.invalid(name);
    return list.map((item, i) => {
      if (typeof item === 'string') return item;
      throw invalidValue(`${name}[${i}]`, item);
    });
  }

  /** A repeated message field (JSON bodies only): a list of objects. */
  objectList(name: string): Array<Record<string, unknown>> {
    const v = this.fields[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.invalid(name);
    return v.map((item: unknown, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidValue(`${name}[${i}]`, item);
      return item as Record<string, unknown>;
    });
  }

  /** The run a request names: `run_id`, or the legacy `run_uuid` older clients send. */
  runId(): string {
    const id = this.string('run_id') || this.string('run_uuid');
    if (!id) throw missing('run_id');
    return checkRunId(id);
  }
}

/**
 * MLflow accepts any id of letters, digits, `_` and `-` and answers 404 for one it does not know;
 * FluxOps' ids are 32 hex characters, so any other well-formed id is simply not found.
 */
export function checkRunId(id: string): string {
  if (RUN_ID_PATTERN.test(id)) return id;
  if (/^[a-zA-Z0-9][\w-]{0,255}$/.test(id)) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`);
  throw invalidValue('run_id', id);
}

/** An int64 field inside a nested object (metrics of a batch): number or decimal string. */
export function int64Of(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,16}$/.test(v.trim()) && Number.isSafeInteger(Number(v))) return Number(v);
  throw invalidValue(field, v);
}

/** A double as protobuf's JSON mapping writes it: a number, a numeric string, or NaN/±Infinity as strings. */
export function doubleOf(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
    const t = v.trim();
    if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return Number(t);
  }
  throw invalidValue(field, v);
}

/** A string field inside a nested object. */
export function stringOf(v: unknown, field: string, required = false): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw missing(field);
    return undefined;
  }
  if (typeof v !== 'string') throw invalidValue(field, v);
  return v;
}

export function missing(name: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`, { field: name });
}

/** Longest rendering of a refused value an error message carries. */
const SHOWN_MAX = 1000;

/**
 * MLflow's refusal of a field's value: `Invalid value <str(value)> for parameter '<name>'
 * supplied. Hint: Value was of type '<type>'.`, the value printed as Python prints the parsed
 * JSON (see `pythonRepr`). `rawToken` is the field's JSON text as sent, when at hand.
 */
export function invalidValue(name: string, v: unknown, rawToken?: string): FluxError {
  const py = toPy(v, rawToken);
  const full = strPy(py);
  const shown = full.length > SHOWN_MAX ? `${full.slice(0, SHOWN_MAX)}…` : full;
  return new FluxError(
    'INVALID_PARAMETER_VALUE',
    `Invalid value ${shown} for parameter '${name}' supplied. Hint: Value was of type '${pyTypeName(py)}'. See the API docs for more information about request parameters.`,
    { field: name },
  );
}

/**
 * An artifact path of an MLflow request (`artifacts/list`, the UI download routes), as MLflow
 * checks it: refused with exactly `Invalid path` when it, or any percent-decoding of it, holds a
 * `..` segment, is absolute, has a backslash, a control character or a `#`. Returns the segments.
 */
export function mlflowArtifactPath(path: string): string[] {
  const refuse = (): FluxError => new FluxError('INVALID_PARAMETER_VALUE', 'Invalid path', { field: 'path' });
  const check = (p: string): void => {
    if (p.includes('#')) throw refuse();
    try {
      safeRelativePath(p);
    } catch {
      throw refuse();
    }
  };
  // Clients may encode a path more than once: look through every layer (a bounded number).
  let current = path;
  for (let layer = 0; ; layer++) {
    check(current);
    if (layer === 5) throw refuse();
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break; // a '%' that starts no escape: the text is what it is
    }
    if (next === current) break;
    current = next;
  }
  try {
    return safeRelativePath(path);
  } catch {
    throw refuse();
  }
}

export function invalid(message: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message);
}

/**
 * The error handler of the MLflow routes: the project's one mapping to `{error_code, message}`,
 * except that a request on a deleted run or experiment is INVALID_PARAMETER_VALUE, the code
 * MLflow's stores use for it (FluxOps' own API says INVALID_STATE).
 */
export function mlflowErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const { status, body, internal } = toErrorResponse(err);
  if (body.error_code === 'INVALID_STATE') body.error_code = 'INVALID_PARAMETER_VALUE';
  if (internal) req.log.error({ err }, 'request failed');
  else req.log.debug({ code: body.error_code, msg: body.message }, 'request rejected');
  void reply.status(status).send(body);
}

// ---- the request body as sent ----

/** JSON bodies of MLflow requests as text, for error messages that must print a value as sent. */
const rawBodies = new WeakMap<FastifyRequest, string>();

/**
 * Replaces the scope's JSON parser by Fastify's own default one (same limits, same refusal of
 * `__proto__` and `constructor` keys, same errors) that also keeps the body text.
 */
export function keepRawJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    rawBodies.set(req, text);
    void parse(req, text, done);
  });
}

// ---- values as Python prints them ----

/**
 * A JSON value as Python's `json.loads` gives it: numbers with a fraction or exponent are floats,
 * others ints of any size; objects keep their keys in the order sent.
 */
type Py =
  | { t: 'str'; v: string }
  | { t: 'int'; text: string }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'list'; items: Py[] }
  | { t: 'dict'; entries: Map<string, Py> };

/** Deeper than this, values print as `...` (Python's own repr gives up far sooner than JSON does). */
const PY_DEPTH_MAX = 100;

/**
 * `repr(value)` as Python writes it for the value `json.loads` would give: strings single-quoted
 * (double-quoted when they hold a `'` and no `"`) with Python's escapes, `True`/`False`/`None`,
 * floats in Python's shortest form (`9.0`, `1e+16`, `1e-05`), lists as `[a, b]` and dicts as
 * `{'k': v}`. JSON.parse cannot tell `9.0` from `9`; pass the field's JSON text as `rawToken` and
 * the value is printed from it instead.
 */
export function pythonRepr(value: unknown, rawToken?: string): string {
  return reprPy(toPy(value, rawToken));
}

/** `str(value)`: as `pythonRepr`, except that a string prints as it is, unquoted. */
export function pythonStr(value: unknown, rawToken?: string): string {
  return strPy(toPy(value, rawToken));
}

function toPy(value: unknown, rawToken?: string): Py {
  if (rawToken !== undefined) {
    const parsed = parseLossless(rawToken);
    if (parsed !== undefined) return parsed;
  }
  return fromJs(value, 0);
}

function fromJs(v: unknown, depth: number): Py {
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

function strPy(p: Py): string {
  return p.t === 'str' ? p.v : reprPy(p);
}

function reprPy(p: Py, depth = 0): string {
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

function pyTypeName(p: Py): string {
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

// ---- a JSON reader that keeps what JSON.parse loses ----

/** The members of the top-level object of a JSON text, each as its value's text; the last wins. */
function topLevelMembers(text: string): Map<string, string> | undefined {
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
function parseLossless(text: string): Py | undefined {
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

  value(depth: number): Py {
    if (depth > PY_DEPTH_MAX) throw new Error('too deep');
    const ch = this.peek();
    if (ch === '"') return { t: 'str', v: this.string() };
    if (ch === '{') {
      this.pos++;
      const entries = new Map<string, Py>();
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
      const items: Py[] = [];
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

export type MlflowHandler = (f: MlflowFields, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Sets MLflow's error handler on a route scope and returns its route registrar: each route gets
 * its fields read the MLflow way and is documented under the `mlflow` tag (hidden for /ajax-api).
 */
export function mlflowRouter(app: FastifyInstance, hidden: boolean) {
  app.setErrorHandler(mlflowErrorHandler);
  return (methods: HTTPMethods | HTTPMethods[], url: string, auth: RouteAuth, summary: string, description: string, handler: MlflowHandler): void => {
    app.route({
      method: methods,
      url,
      config: { auth },
      schema: { hide: hidden, tags: ['mlflow'], summary, description },
      handler: (req, reply) => handler(MlflowFields.of(req), req, reply),
    });
  };
}
