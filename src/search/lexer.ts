import { FluxError } from '../core/index.js';

/**
 * The lexer of MLflow's search grammar, shared by run, experiment, registry and logged-model
 * searches (each has its own parser of fields and values on top of it).
 */
export type SearchToken =
  | { t: 'ident'; v: string; quoted: boolean }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: '(' | ')' | ',' | '.' };

export type SearchComparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';
export type SearchValue = string | number | Array<string | number>;

export function filterError(message: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', `invalid filter: ${message}`);
}

export function tokenizeSearch(input: string): SearchToken[] {
  const tokens: SearchToken[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const prev = tokens.at(-1);
    const afterDot = prev?.t === 'punct' && prev.v === '.';
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let v = '';
      while (j < input.length && input[j] !== c) {
        if (input[j] === '\\' && j + 1 < input.length) j++;
        v += input[j];
        j++;
      }
      if (j >= input.length) throw filterError(`unterminated quote starting at position ${i}`);
      // A backtick always quotes a key; a double quote quotes a key right after a dot, else a value.
      tokens.push(c === '`' || (c === '"' && afterDot) ? { t: 'ident', v, quoted: true } : { t: 'string', v });
      i = j + 1;
      continue;
    }
    const two = input.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=' || two === '==' || two === '<>') {
      tokens.push({ t: 'op', v: two === '==' ? '=' : two === '<>' ? '!=' : two });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      tokens.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '.') {
      // `.5` is a number unless it follows an identifier (then the dot separates key segments).
      const num = c === '.' ? /^\.\d+(e[+-]?\d+)?/i.exec(input.slice(i)) : null;
      if (num !== null && prev?.t !== 'ident') {
        tokens.push({ t: 'number', v: Number(num[0]) });
        i += num[0].length;
        continue;
      }
      tokens.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    const num = /^-?\d+(\.\d*)?(e[+-]?\d+)?/i.exec(input.slice(i));
    if (num !== null && !afterDot) {
      tokens.push({ t: 'number', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    // Identifiers; a key segment after a dot may start with a digit (metrics.1st_loss).
    const id = (afterDot ? /^[A-Za-z0-9_\-:/]+/ : /^[A-Za-z_][A-Za-z0-9_\-:/]*/).exec(input.slice(i));
    if (id !== null) {
      tokens.push({ t: 'ident', v: id[0], quoted: false });
      i += id[0].length;
      continue;
    }
    throw filterError(`unexpected character '${c}' at position ${i}`);
  }
  return tokens;
}

export class TokenCursor {
  private i = 0;
  constructor(private readonly tokens: SearchToken[]) {}
  peek(): SearchToken | undefined {
    return this.tokens[this.i];
  }
  next(): SearchToken | undefined {
    return this.tokens[this.i++];
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
}

export function describeToken(t: SearchToken | undefined): string {
  return t === undefined ? 'end of filter' : `'${String(t.v)}'`;
}

export function readComparator(cur: TokenCursor): SearchComparator {
  const t = cur.next();
  if (t?.t === 'op') return t.v as SearchComparator;
  if (t?.t === 'ident') {
    const up = t.v.toUpperCase();
    if (up === 'LIKE' || up === 'ILIKE' || up === 'IN') return up;
    if (up === 'NOT') {
      const n = cur.next();
      if (n?.t === 'ident' && n.v.toUpperCase() === 'IN') return 'NOT IN';
      throw filterError('expected IN after NOT');
    }
  }
  throw filterError(`expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN), found ${describeToken(t)}`);
}

/** A quoted string or a number, or for IN / NOT IN a parenthesised list of them. */
export function readValue(cur: TokenCursor, comparator: SearchComparator): SearchValue {
  if (comparator === 'IN' || comparator === 'NOT IN') {
    const open = cur.next();
    if (open?.t !== 'punct' || open.v !== '(') throw filterError(`expected '(' after ${comparator}`);
    const values: Array<string | number> = [];
    for (;;) {
      const v = cur.next();
      if (v?.t === 'string' || v?.t === 'number') values.push(v.v);
      else throw filterError(`expected a value in the ${comparator} list, found ${describeToken(v)}`);
      const sep = cur.next();
      if (sep?.t === 'punct' && sep.v === ')') break;
      if (sep?.t !== 'punct' || sep.v !== ',') throw filterError(`expected ',' or ')' in the ${comparator} list`);
    }
    return values;
  }
  const v = cur.next();
  if (v?.t === 'string' || v?.t === 'number') return v.v;
  throw filterError(`expected a quoted value or a number, found ${describeToken(v)}`);
}

/** The optional ASC/DESC that ends an `order_by` entry (ascending when absent); nothing may follow it. */
export function readOrderDirection(cur: TokenCursor, entry: string): boolean {
  let ascending = true;
  const dir = cur.next();
  if (dir !== undefined) {
    if (dir.t !== 'ident' || !['ASC', 'DESC'].includes(dir.v.toUpperCase())) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `invalid order_by '${entry}': expected ASC or DESC after the field`);
    }
    ascending = dir.v.toUpperCase() === 'ASC';
  }
  if (!cur.done()) throw new FluxError('INVALID_PARAMETER_VALUE', `invalid order_by '${entry}': unexpected text after the direction`);
  return ascending;
}

/**
 * The key after `<entity>.` (the dot already read): quoted, or unquoted with dots of its own
 * (`metrics.val.loss` names the key `val.loss`).
 */
export function readEntityKey(cur: TokenCursor, entity: string): string {
  const k = cur.next();
  if (k === undefined || (k.t !== 'ident' && k.t !== 'string' && k.t !== 'number')) throw filterError(`expected a key after '${entity}.'`);
  let key = String(k.v);
  for (let p = cur.peek(); p?.t === 'punct' && p.v === '.'; p = cur.peek()) {
    cur.next();
    const more = cur.next();
    if (more === undefined || (more.t !== 'ident' && more.t !== 'number')) throw filterError(`expected a key segment after '.'`);
    key += `.${String(more.v)}`;
  }
  return key;
}
