/**
 * The expressions of pipeline files, as in GitHub Actions: `${{ steps.train.outputs.f1 }}` inside
 * a string, and `if:` conditions. A small grammar, parsed once when the file is validated:
 *
 *   or   := and ('||' and)*        and := not ('&&' not)*       not := '!' not | cmp
 *   cmp  := atom (('=='|'!='|'<'|'<='|'>'|'>=') atom)?
 *   atom := number | 'text' | "text" | true | false | null | ref | '(' or ')'
 *   ref  := name ('.' name)*       (params.C, steps.train.outputs.f1, steps.train.status, run.id)
 *
 * Written here because it is this small and the file's references must be checked against the
 * DAG (a step may only read the outputs of steps it needs, directly or not).
 */
export type Expr =
  | { kind: 'lit'; value: unknown }
  | { kind: 'ref'; path: string[]; at: number }
  | { kind: 'not'; arg: Expr }
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'cmp'; op: '==' | '!=' | '<' | '<=' | '>' | '>='; left: Expr; right: Expr };

export class ExpressionError extends Error {
  constructor(
    message: string,
    /** Offset in the expression's text. */
    readonly at: number,
  ) {
    super(message);
  }
}

interface Token {
  t: 'num' | 'str' | 'name' | 'op' | 'end';
  v: string;
  at: number;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
    const name = /^[A-Za-z_][\w-]*/.exec(rest);
    const op = /^(==|!=|<=|>=|&&|\|\||[<>!().])/.exec(rest);
    if (num !== null && (c !== '-' || out.length === 0 || out.at(-1)!.t === 'op')) {
      out.push({ t: 'num', v: num[0], at: i });
      i += num[0].length;
    } else if (name !== null) {
      out.push({ t: 'name', v: name[0], at: i });
      i += name[0].length;
    } else if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionError('a quoted text is not closed', i);
      out.push({ t: 'str', v: src.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (op !== null) {
      out.push({ t: 'op', v: op[0], at: i });
      i += op[0].length;
    } else {
      throw new ExpressionError(`unexpected '${c}'`, i);
    }
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

export function parseExpression(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p]!;
  const take = () => toks[p++]!;
  const isOp = (v: string) => peek().t === 'op' && peek().v === v;
  const or = (): Expr => {
    let left = and();
    while (isOp('||')) {
      take();
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): Expr => {
    let left = not();
    while (isOp('&&')) {
      take();
      left = { kind: 'and', left, right: not() };
    }
    return left;
  };
  const not = (): Expr => {
    if (isOp('!')) {
      take();
      return { kind: 'not', arg: not() };
    }
    const left = atom();
    const t = peek();
    if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      take();
      return { kind: 'cmp', op: t.v as '==', left, right: atom() };
    }
    return left;
  };
  const atom = (): Expr => {
    const t = take();
    if (t.t === 'num') return { kind: 'lit', value: Number(t.v) };
    if (t.t === 'str') return { kind: 'lit', value: t.v };
    if (t.t === 'op' && t.v === '(') {
      const e = or();
      if (!isOp(')')) throw new ExpressionError("a '(' is not closed", peek().at);
      take();
      return e;
    }
    if (t.t === 'name') {
      if (t.v === 'true' || t.v === 'false') return { kind: 'lit', value: t.v === 'true' };
      if (t.v === 'null') return { kind: 'lit', value: null };
      const path = [t.v];
      while (isOp('.')) {
        take();
        const n = take();
        if (n.t !== 'name' && n.t !== 'num') throw new ExpressionError(`a name must follow '.'`, n.at);
        path.push(n.v);
      }
      return { kind: 'ref', path, at: t.at };
    }
    throw new ExpressionError(t.t === 'end' ? 'the expression ends too early' : `unexpected '${t.v}'`, t.at);
  };
  const e = or();
  if (peek().t !== 'end') throw new ExpressionError(`unexpected '${peek().v}'`, peek().at);
  return e;
}

/** Every reference an expression makes. */
export function referencesOf(e: Expr): Array<{ path: string[]; at: number }> {
  switch (e.kind) {
    case 'lit':
      return [];
    case 'ref':
      return [{ path: e.path, at: e.at }];
    case 'not':
      return referencesOf(e.arg);
    case 'and':
    case 'or':
    case 'cmp':
      return [...referencesOf(e.left), ...referencesOf(e.right)];
  }
}

export type Scope = Record<string, unknown>;

function lookup(scope: Scope, path: string[]): unknown {
  let v: unknown = scope;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return null;
    v = (v as Record<string, unknown>)[k];
  }
  return v ?? null;
}

export function truthy(v: unknown): boolean {
  return !(v === false || v === null || v === undefined || v === 0 || v === '' || (typeof v === 'number' && Number.isNaN(v)));
}

export function evaluate(e: Expr, scope: Scope): unknown {
  switch (e.kind) {
    case 'lit':
      return e.value;
    case 'ref':
      return lookup(scope, e.path);
    case 'not':
      return !truthy(evaluate(e.arg, scope));
    case 'and':
      return truthy(evaluate(e.left, scope)) && truthy(evaluate(e.right, scope));
    case 'or':
      return truthy(evaluate(e.left, scope)) || truthy(evaluate(e.right, scope));
    case 'cmp': {
      const a = evaluate(e.left, scope);
      const b = evaluate(e.right, scope);
      if (e.op === '==') return a === b || (typeof a === 'number' && String(a) === b) || (typeof b === 'number' && String(b) === a);
      if (e.op === '!=') return !(a === b || (typeof a === 'number' && String(a) === b) || (typeof b === 'number' && String(b) === a));
      const x = Number(a);
      const y = Number(b);
      if (Number.isNaN(x) || Number.isNaN(y) || a === null || b === null) return false;
      return e.op === '<' ? x < y : e.op === '<=' ? x <= y : e.op === '>' ? x > y : x >= y;
    }
  }
}

const TEMPLATE = /\$\{\{([\s\S]*?)\}\}/g;

/** The `${{ … }}` parts of a string, with their offsets (of the expression inside). */
export function templatesIn(text: string): Array<{ src: string; at: number }> {
  return [...text.matchAll(TEMPLATE)].map((m) => ({ src: m[1]!, at: m.index + 3 }));
}

/**
 * Fills a value's `${{ … }}` parts from the scope, deep: a string that is one whole template
 * keeps the value's type (a number stays a number), any other string gets the values as text.
 */
export function interpolate(value: unknown, scope: Scope, keepRoot?: string): unknown {
  // Templates reading `keepRoot` (a sweep's `trial.*`) stay as written, for a later fill.
  const kept = (src: string) => keepRoot !== undefined && referencesOf(parseExpression(src)).some((r) => r.path[0] === keepRoot);
  if (typeof value === 'string') {
    const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(value);
    if (whole !== null && templatesIn(value).length === 1) return kept(whole[1]!) ? value : evaluate(parseExpression(whole[1]!), scope);
    return value.replace(TEMPLATE, (all: string, src: string) => {
      if (kept(src)) return all;
      const v = evaluate(parseExpression(src), scope);
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null || v === undefined ? '' : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, scope, keepRoot));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, scope, keepRoot)]));
  return value;
}

/** An `if:` condition: written bare or as one `${{ … }}`. */
export function conditionSource(text: string): string {
  const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(text);
  return whole !== null ? whole[1]! : text;
}
