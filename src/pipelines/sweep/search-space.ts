import { FluxError } from '../../core/index.js';
import type { Rng } from './rng.js';

/**
 * The search space of a sweep, with Azure ML's parameter expressions (choice, uniform, loguniform,
 * quniform, randint). Two deliberate differences from Azure: loguniform takes its bounds as real
 * values (Optuna's `suggest_float(log=True)`), not as exponents, and the keys are `min`/`max`.
 */
export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface ChoiceSpec {
  type: 'choice';
  values: ParamValue[];
}
export interface UniformSpec {
  type: 'uniform';
  min: number;
  max: number;
}
/** exp(uniform(ln min, ln max)): min and max are the values themselves, min > 0. */
export interface LogUniformSpec {
  type: 'loguniform';
  min: number;
  max: number;
}
/** round(uniform(min, max) / q) · q. */
export interface QUniformSpec {
  type: 'quniform';
  min: number;
  max: number;
  q: number;
}
/** An integer in [min, max): min inclusive, max exclusive, as numpy's and Azure's randint. */
export interface RandIntSpec {
  type: 'randint';
  min: number;
  max: number;
}
export type ParamSpec = ChoiceSpec | UniformSpec | LogUniformSpec | QUniformSpec | RandIntSpec;
export type ParamType = ParamSpec['type'];

/**
 * Parameter name → distribution, in the order the parameters were declared (object keys keep
 * insertion order, except names that are plain integers, which JavaScript always lists first).
 */
export type SearchSpace = Record<string, ParamSpec>;

export const PARAM_TYPES: readonly ParamType[] = ['choice', 'uniform', 'loguniform', 'quniform', 'randint'];

/** The keys of each type's object form, which are also its positional arguments in the compact form. */
const ARGS: Record<ParamType, readonly string[]> = {
  choice: ['values'],
  uniform: ['min', 'max'],
  loguniform: ['min', 'max'],
  quniform: ['min', 'max', 'q'],
  randint: ['min', 'max'],
};

/** A value as a refusal quotes it: JSON, except that numbers JSON cannot hold read as themselves. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v) ?? typeof v;
}

function refuse(field: string, message: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message, { field });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isParamType(v: unknown): v is ParamType {
  return typeof v === 'string' && (PARAM_TYPES as readonly string[]).includes(v);
}

export function parseSearchSpace(raw: unknown, field = 'search_space'): SearchSpace {
  if (!isRecord(raw)) {
    throw refuse(field, `${field} must be a mapping of parameter names to distributions such as choice(0.1, 1) or { type: uniform, min: 0, max: 1 }.`);
  }
  const entries = Object.entries(raw);
  if (entries.length === 0) throw refuse(field, `${field} must define at least one parameter.`);
  const space: SearchSpace = {};
  for (const [name, spec] of entries) {
    if (name.trim() === '') throw refuse(field, `${field} has a parameter with an empty name.`);
    space[name] = parseParamSpec(spec, `${field}.${name}`);
  }
  return space;
}

/** One parameter, in its object form (`{ type: uniform, min: 0, max: 1 }`) or compact one (`uniform(0, 1)`). */
export function parseParamSpec(raw: unknown, field: string): ParamSpec {
  if (typeof raw === 'string') return parseCompact(raw, field);
  if (!isRecord(raw)) {
    throw refuse(field, `${field} must be a distribution such as choice(0.1, 1) or { type: uniform, min: 0, max: 1 }; got ${showValue(raw)}.`);
  }
  const type = raw.type;
  if (!isParamType(type)) throw refuse(`${field}.type`, `${field}.type must be one of ${PARAM_TYPES.join(', ')}; got ${showValue(type)}.`);
  for (const key of Object.keys(raw)) {
    if (key !== 'type' && !ARGS[type].includes(key)) {
      throw refuse(`${field}.${key}`, `${field} has an unknown key '${key}' (a ${type} parameter takes ${ARGS[type].join(', ')}).`);
    }
  }
  return build(type, raw, field);
}

function build(type: ParamType, args: Record<string, unknown>, field: string): ParamSpec {
  switch (type) {
    case 'choice':
      return { type, values: choiceValues(args.values, `${field}.values`) };
    case 'uniform':
      return { type, ...bounds(args, field) };
    case 'loguniform': {
      const b = bounds(args, field);
      if (b.min <= 0) throw refuse(`${field}.min`, `${field}.min must be greater than 0 for loguniform (its bounds are the values themselves, not exponents); got ${b.min}.`);
      return { type, ...b };
    }
    case 'quniform': {
      const b = bounds(args, field);
      const q = finite(args.q, `${field}.q`);
      if (q <= 0) throw refuse(`${field}.q`, `${field}.q must be greater than 0; got ${q}.`);
      return { type, ...b, q };
    }
    case 'randint': {
      const b = bounds(args, field);
      for (const k of ['min', 'max'] as const) {
        if (!Number.isSafeInteger(b[k])) throw refuse(`${field}.${k}`, `${field}.${k} must be an integer for randint; got ${b[k]}.`);
      }
      return { type, ...b };
    }
  }
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw refuse(field, `${field} must be a finite number; got ${showValue(v)}.`);
  return v;
}

function bounds(args: Record<string, unknown>, field: string): { min: number; max: number } {
  const min = finite(args.min, `${field}.min`);
  const max = finite(args.max, `${field}.max`);
  if (max <= min) throw refuse(`${field}.max`, `${field}.max must be greater than min (${min}); got ${max}.`);
  return { min, max };
}

function choiceValues(v: unknown, field: string): ParamValue[] {
  if (!Array.isArray(v) || v.length === 0) throw refuse(field, `${field} must be a non-empty list.`);
  const seen = new Set<ParamValue>();
  return v.map((x: unknown, i) => {
    const ok = typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));
    if (!ok) throw refuse(`${field}[${i}]`, `${field}[${i}] must be a finite number, a string or a boolean; got ${showValue(x)}.`);
    // A repeated value would silently weigh that value double in random and TPE sampling.
    if (seen.has(x)) throw refuse(field, `${field} lists ${showValue(x)} more than once.`);
    seen.add(x);
    return x;
  });
}

const COMPACT = /^\s*([A-Za-z]+)\s*\(([\s\S]*)\)\s*$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BARE_WORD = /^[^\s'"(),]+$/;

/** `choice(0.01, 0.1, 1)`, `choice(liblinear, 'saga')`, `uniform(0, 1)`, `quniform(0, 10, 2)` … */
function parseCompact(text: string, field: string): ParamSpec {
  const m = COMPACT.exec(text);
  const type = m?.[1]?.toLowerCase();
  if (m === null || !isParamType(type)) {
    throw refuse(field, `${field} must be a distribution such as choice(0.1, 1), uniform(0, 1), loguniform(1e-4, 1), quniform(0, 10, 2) or randint(1, 10); got '${text}'.`);
  }
  const args = splitArgs(m[2] ?? '', field, text).map((token, i) => compactValue(token, field, i, text));
  if (type === 'choice') return build(type, { values: args }, field);
  const names = ARGS[type];
  if (args.length !== names.length) {
    throw refuse(field, `${field}: ${type} takes ${names.length} arguments (${names.join(', ')}); got ${args.length} in '${text}'.`);
  }
  return build(type, Object.fromEntries(names.map((n, i) => [n, args[i]])), field);
}

/** Splits on commas outside quotes; quoted strings run to the next matching quote (no escapes). */
function splitArgs(body: string, field: string, text: string): string[] {
  if (body.trim() === '') return [];
  const tokens: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (const ch of body) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      current += ch;
    } else if (ch === ',') {
      tokens.push(current.trim());
      current = '';
    } else {
      if (ch === '"' || ch === "'") quote = ch;
      current += ch;
    }
  }
  if (quote !== null) throw refuse(field, `${field} has an unterminated ${quote} quote in '${text}'.`);
  tokens.push(current.trim());
  return tokens;
}

function compactValue(token: string, field: string, i: number, text: string): ParamValue {
  const quoted = /^(['"])([\s\S]*)\1$/.exec(token);
  if (quoted !== null) return quoted[2] ?? '';
  if (NUMBER.test(token)) return Number(token);
  if (token === 'true' || token === 'false') return token === 'true';
  if (token === '') throw refuse(field, `${field}: argument ${i + 1} of '${text}' is empty.`);
  if (!BARE_WORD.test(token)) {
    throw refuse(field, `${field}: argument ${i + 1} of '${text}' (${token}) must be a number, a bare word or a quoted string.`);
  }
  return token;
}

/** The compact form of a parameter, as parseParamSpec reads it back. */
export function formatParamSpec(spec: ParamSpec): string {
  switch (spec.type) {
    case 'choice':
      return `choice(${spec.values.map(compactLiteral).join(', ')})`;
    case 'quniform':
      return `quniform(${spec.min}, ${spec.max}, ${spec.q})`;
    case 'uniform':
    case 'loguniform':
    case 'randint':
      return `${spec.type}(${spec.min}, ${spec.max})`;
  }
}

/** A string that would read back as a number or boolean, or is not a bare word, is quoted. */
function compactLiteral(v: ParamValue): string {
  if (typeof v !== 'string') return String(v);
  const bare = BARE_WORD.test(v) && !NUMBER.test(v) && v !== 'true' && v !== 'false';
  if (bare) return v;
  return v.includes("'") ? `"${v}"` : `'${v}'`;
}

/**
 * The multiples of q that quniform can return: k·q for every k whose rounding interval
 * ((k − ½)q, (k + ½)q) overlaps (min, max) — the end points themselves have probability zero.
 */
export function quniformSteps(spec: QUniformSpec): { first: number; last: number } {
  return { first: Math.floor(spec.min / spec.q - 0.5) + 1, last: Math.ceil(spec.max / spec.q + 0.5) - 1 };
}

/** k·q without the binary noise of floating point (3 · 0.1 is 0.3, not 0.30000000000000004). */
export function quantum(k: number, q: number): number {
  return Number.parseFloat((k * q).toPrecision(12));
}

/** Whether a value (for example one from an earlier trial) is one the parameter could take. */
export function inSpec(spec: ParamSpec, value: ParamValue): boolean {
  if (spec.type === 'choice') return spec.values.includes(value);
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  switch (spec.type) {
    case 'uniform':
    case 'loguniform':
      return value >= spec.min && value <= spec.max;
    case 'randint':
      return Number.isInteger(value) && value >= spec.min && value < spec.max;
    case 'quniform': {
      const k = Math.round(value / spec.q);
      const { first, last } = quniformSteps(spec);
      return k >= first && k <= last && Math.abs(value - quantum(k, spec.q)) <= 1e-9 * Math.max(1, Math.abs(value));
    }
  }
}

/** One draw of a parameter from its own distribution. */
export function drawParam(spec: ParamSpec, rng: Rng): ParamValue {
  switch (spec.type) {
    case 'choice':
      return spec.values[rng.int(spec.values.length)]!;
    case 'uniform':
      return spec.min + (spec.max - spec.min) * rng.next();
    case 'loguniform': {
      const x = Math.exp(Math.log(spec.min) + (Math.log(spec.max) - Math.log(spec.min)) * rng.next());
      return Math.min(spec.max, Math.max(spec.min, x));
    }
    case 'quniform': {
      const { first, last } = quniformSteps(spec);
      const k = Math.round((spec.min + (spec.max - spec.min) * rng.next()) / spec.q);
      return quantum(Math.min(last, Math.max(first, k)), spec.q);
    }
    case 'randint':
      return spec.min + rng.int(spec.max - spec.min);
  }
}

/** Independent draws, one per parameter, in declaration order. */
export function sampleRandom(space: SearchSpace, rng: Rng): Params {
  const params: Params = {};
  for (const [name, spec] of Object.entries(space)) params[name] = drawParam(spec, rng);
  return params;
}

/** The identity of a point of the space, for telling whether a trial already has it. */
export function pointKey(names: readonly string[], params: Params): string {
  return JSON.stringify(names.map((name) => params[name] ?? null));
}

/** How many distinct values a parameter can take (Infinity for uniform and loguniform). */
export function specSize(spec: ParamSpec): number {
  switch (spec.type) {
    case 'choice':
      return spec.values.length;
    case 'randint':
      return spec.max - spec.min;
    case 'quniform': {
      const { first, last } = quniformSteps(spec);
      return last - first + 1;
    }
    case 'uniform':
    case 'loguniform':
      return Infinity;
  }
}

/** Every value of a finite parameter, in increasing order (choice: as listed); null if continuous. */
export function specValues(spec: ParamSpec): ParamValue[] | null {
  switch (spec.type) {
    case 'choice':
      return spec.values;
    case 'randint':
      return Array.from({ length: spec.max - spec.min }, (_, i) => spec.min + i);
    case 'quniform': {
      const { first, last } = quniformSteps(spec);
      return Array.from({ length: last - first + 1 }, (_, i) => quantum(first + i, spec.q));
    }
    case 'uniform':
    case 'loguniform':
      return null;
  }
}

/** The index-th point of the product of the axes, the first axis varying slowest. */
export function gridPoint(axes: ReadonlyArray<readonly [string, readonly ParamValue[]]>, index: number): Params {
  const values = new Array<ParamValue>(axes.length);
  let rest = index;
  for (let a = axes.length - 1; a >= 0; a--) {
    const axis = axes[a]![1];
    values[a] = axis[rest % axis.length]!;
    rest = Math.floor(rest / axis.length);
  }
  return Object.fromEntries(axes.map(([name], a) => [name, values[a]!]));
}
