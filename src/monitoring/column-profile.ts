import { FluxError } from '../core/index.js';

/**
 * The reference profile of a column: what drift detection keeps of a model version's training
 * data. It is computed once, stored as JSON beside the version and must stay small (a few KB per
 * column), so it holds summaries — a quantile function, a histogram, category frequencies — and
 * never the raw values. Everything in drift-stats.ts runs from these summaries and a live window.
 */

/** Points of the stored quantile function: p = i / 100 for i = 0 … 100 (the ends are the min and max). */
export const QUANTILE_POINTS = 101;
/** Categories a categorical profile keeps by name; the rest are pooled in one "other" bucket. */
export const MAX_CATEGORIES = 100;

export interface NumericProfile {
  kind: 'numeric';
  /** Finite values. */
  count: number;
  /** NaN, ±Infinity, null and undefined (Evidently drops infinities with the NaNs). */
  missing: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (divisor n): what Evidently's normed Wasserstein divides by. */
  std: number;
  /**
   * The empirical quantile function at p = i / (length − 1), interpolated linearly between order
   * statistics (numpy's default, Hyndman–Fan type 7); non-decreasing. Read as a piecewise-linear
   * CDF it stands in for the reference sample in KS and Wasserstein.
   */
  quantiles: number[];
  /**
   * Means of the lowest and the highest step of the quantile function (the bottom and top 1 % of
   * the values). Between the min and the 1 % quantile a straight line would spread 1 % of the mass
   * evenly up to a lone outlier, so the statistics shape the two outer steps by these means instead.
   */
  tailMeans: [number, number];
  /**
   * Strictly increasing inner edges of the histogram: the reference deciles without repeats.
   * Bin 0 is (−∞, edges[0]], bin i is (edges[i−1], edges[i]], the last is (edges[last], ∞). When
   * the lowest decile is the minimum (an atom of at least 10 % there), an edge just below the
   * minimum is added so that values under it get a bin of their own, as values above an atom at
   * the maximum already do.
   */
  binEdges: number[];
  /** Reference values per bin: binEdges.length + 1 counts. */
  binCounts: number[];
}

export interface CategoricalProfile {
  kind: 'categorical';
  /** Values that are not missing. */
  count: number;
  /** null, undefined, NaN and empty strings (an empty cell of a CSV text column). */
  missing: number;
  /** The most frequent categories (at most MAX_CATEGORIES), most frequent first, ties in code-unit order. */
  categories: string[];
  /** Values of each kept category, in the order of `categories`. */
  counts: number[];
  /** Values of every category that was not kept, pooled. */
  otherCount: number;
  /** Distinct categories seen, the pooled ones included. */
  distinct: number;
}

export type ColumnProfile = NumericProfile | CategoricalProfile;

export interface DatasetProfile {
  /** Format version of the stored JSON. */
  version: 1;
  rows: number;
  columns: Record<string, ColumnProfile>;
}

const refuse = (message: string, field: string): FluxError => new FluxError('INVALID_PARAMETER_VALUE', message, { field });

/**
 * The finite values of a numeric column, sorted, and how many were missing: the one reading of a
 * numeric column that profiles and live windows share. Anything but a number, null or undefined is
 * refused rather than counted as missing, since it means the column is not numeric at all.
 */
export function sortedFinite(values: ArrayLike<number>, field: string): { sorted: Float64Array; missing: number } {
  checkArrayLike(values, field);
  const out = new Float64Array(values.length);
  let k = 0;
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as unknown;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) out[k++] = v;
      else missing++;
    } else if (v === null || v === undefined) {
      missing++;
    } else {
      throw refuse(`${field}[${i}] is a ${typeof v}; a numeric column takes numbers (NaN or null for a missing value)`, field);
    }
  }
  if (k === 0) throw refuse(`${field} has no finite value (${missing} missing)`, field);
  return { sorted: out.subarray(0, k).sort(), missing };
}

/**
 * One cell of a categorical column as a category, or null when missing. Numbers and booleans are
 * taken as their text, since JSON inference inputs often carry a coded category as a number.
 */
export function readCategory(value: unknown, field: string, index: number): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isNaN(value) ? null : String(value);
  if (typeof value === 'boolean') return String(value);
  throw refuse(`${field}[${index}] is a ${typeof value}; a categorical column takes strings`, field);
}

/** The histogram bin of a value: how many edges lie strictly below it (bins are closed on the right). */
export function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function profileNumeric(values: ArrayLike<number>, field = 'values'): NumericProfile {
  const { sorted, missing } = sortedFinite(values, field);
  const n = sorted.length;
  const last = QUANTILE_POINTS - 1;
  const quantiles: number[] = [];
  for (let i = 0; i <= last; i++) {
    // (n − 1)·i is an exact integer, so h is exact whenever the point falls on an order statistic.
    const h = ((n - 1) * i) / last;
    const lo = Math.floor(h);
    const frac = h - lo;
    const a = sorted[lo]!;
    const q = frac === 0 || lo + 1 >= n ? a : a + frac * (sorted[lo + 1]! - a);
    // Rounding must not make the function decrease: the CDF read from it assumes it never does.
    quantiles.push(i === 0 ? q : Math.max(q, quantiles[i - 1]!));
  }
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  quantiles[last] = max;
  const tailMeans: [number, number] = [tailMean(sorted, last, false), tailMean(sorted, last, true)];

  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of sorted) ss += (v - mean) * (v - mean);
  const std = Math.sqrt(ss / n);

  const binEdges: number[] = [];
  for (let d = 1; d < 10; d++) {
    const e = quantiles[(d * last) / 10]!;
    if (binEdges.length === 0 || e > binEdges[binEdges.length - 1]!) binEdges.push(e);
  }
  if (binEdges[0] === min) binEdges.unshift(nextDown(min));
  const binCounts: number[] = new Array<number>(binEdges.length + 1).fill(0);
  for (const v of sorted) binCounts[binOf(binEdges, v)]!++;

  return { kind: 'numeric', count: n, missing, min, max, mean, std, quantiles, tailMeans, binEdges, binCounts };
}

export function profileCategorical(values: ArrayLike<string>, field = 'values'): CategoricalProfile {
  checkArrayLike(values, field);
  const freq = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const c = readCategory(values[i], field, i);
    if (c === null) missing++;
    else freq.set(c, (freq.get(c) ?? 0) + 1);
  }
  const count = values.length - missing;
  if (count === 0) throw refuse(`${field} has no value that is not missing (${missing} missing)`, field);
  const ranked = [...freq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const kept = ranked.slice(0, MAX_CATEGORIES);
  const keptCount = kept.reduce((s, [, n]) => s + n, 0);
  return {
    kind: 'categorical',
    count,
    missing,
    categories: kept.map(([c]) => c),
    counts: kept.map(([, n]) => n),
    otherCount: count - keptCount,
    distinct: freq.size,
  };
}

/**
 * Profiles every column of a table. A typed array or a column whose present values are all numbers
 * is numeric; one whose present values are all strings is categorical. Columns must have one
 * length (they are the columns of one table).
 */
export function profileDataset(columns: Record<string, ArrayLike<number> | ArrayLike<string>>): DatasetProfile {
  if (typeof columns !== 'object' || columns === null) throw refuse('columns must be an object of column name → values', 'columns');
  const names = Object.keys(columns);
  if (names.length === 0) throw refuse('columns is empty: a dataset profile needs at least one column', 'columns');
  let rows: number | undefined;
  const out: Record<string, ColumnProfile> = {};
  for (const name of names) {
    const field = `columns.${name}`;
    const values = columns[name]!;
    checkArrayLike(values, field);
    if (rows === undefined) rows = values.length;
    else if (values.length !== rows) {
      throw refuse(`${field} has ${values.length} values where the first column has ${rows}; columns of one table have one length`, field);
    }
    const profile = isNumericColumn(values, field)
      ? profileNumeric(values as ArrayLike<number>, field)
      : profileCategorical(values as ArrayLike<string>, field);
    Object.defineProperty(out, name, { value: profile, enumerable: true, writable: true, configurable: true });
  }
  return { version: 1, rows: rows!, columns: out };
}

/**
 * A stored profile read back: checks what the statistics rely on (lengths, order, counts that add
 * up), so a damaged or hand-edited profile is refused by name instead of giving wrong numbers.
 */
export function parseColumnProfile(value: unknown, field = 'profile'): ColumnProfile {
  const bad = (what: string): FluxError => refuse(`${field} is not a column profile: ${what}`, field);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('expected an object');
  const o = value as Record<string, unknown>;
  const count = o['count'];
  const missing = o['missing'];
  if (!isCount(count) || count < 1) throw bad('count must be a positive integer');
  if (!isCount(missing)) throw bad('missing must be a non-negative integer');
  if (o['kind'] === 'numeric') {
    const { min, max, mean, std, quantiles, tailMeans, binEdges, binCounts } = o;
    for (const [k, v] of Object.entries({ min, max, mean, std })) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${k} must be a finite number`);
    }
    if ((std as number) < 0 || (min as number) > (max as number)) throw bad('std must be ≥ 0 and min ≤ max');
    if (!isNumberArray(quantiles) || quantiles.length < 3) throw bad('quantiles must be an array of at least 3 finite numbers');
    if (quantiles.some((q, i) => i > 0 && q < quantiles[i - 1]!)) throw bad('quantiles must not decrease');
    if (!isNumberArray(tailMeans) || tailMeans.length !== 2) throw bad('tailMeans must be 2 finite numbers');
    if (!isNumberArray(binEdges) || binEdges.some((e, i) => i > 0 && e <= binEdges[i - 1]!)) {
      throw bad('binEdges must be strictly increasing finite numbers');
    }
    if (!Array.isArray(binCounts) || binCounts.length !== binEdges.length + 1 || !binCounts.every(isCount)) {
      throw bad('binCounts must be binEdges.length + 1 non-negative integers');
    }
    if (binCounts.reduce((s, n) => s + n, 0) !== count) throw bad('binCounts must add up to count');
    return {
      kind: 'numeric', count, missing, min: min as number, max: max as number, mean: mean as number, std: std as number,
      quantiles: [...quantiles], tailMeans: [tailMeans[0]!, tailMeans[1]!], binEdges: [...binEdges], binCounts: [...binCounts],
    };
  }
  if (o['kind'] === 'categorical') {
    const { categories, counts, otherCount, distinct } = o;
    if (!Array.isArray(categories) || !categories.every((c): c is string => typeof c === 'string' && c !== '')) {
      throw bad('categories must be non-empty strings');
    }
    if (new Set(categories).size !== categories.length) throw bad('categories must not repeat');
    if (!Array.isArray(counts) || counts.length !== categories.length || !counts.every((n) => isCount(n) && n > 0)) {
      throw bad('counts must be one positive integer per category');
    }
    if (!isCount(otherCount) || !isCount(distinct) || distinct < categories.length) {
      throw bad('otherCount and distinct must be non-negative integers, distinct ≥ the kept categories');
    }
    if ((counts as number[]).reduce((s, n) => s + n, 0) + otherCount !== count) throw bad('counts and otherCount must add up to count');
    return { kind: 'categorical', count, missing, categories: [...categories], counts: [...(counts as number[])], otherCount, distinct };
  }
  throw bad(`kind must be "numeric" or "categorical"`);
}

/** Mean of the bottom (or top) 1 / steps of the values, a fraction of a value included where the share ends inside one. */
function tailMean(sorted: Float64Array, steps: number, top: boolean): number {
  const n = sorted.length;
  const mass = n / steps;
  const whole = Math.floor(mass);
  const at = (k: number): number => sorted[top ? n - 1 - k : k]!;
  let sum = 0;
  for (let k = 0; k < whole; k++) sum += at(k);
  if (mass > whole) sum += (mass - whole) * at(whole);
  return sum / mass;
}

function checkArrayLike(values: unknown, field: string): asserts values is ArrayLike<unknown> {
  if (typeof values === 'string' || typeof values !== 'object' || values === null || typeof (values as ArrayLike<unknown>).length !== 'number') {
    throw refuse(`${field} must be an array of values`, field);
  }
  if ((values as ArrayLike<unknown>).length === 0) throw refuse(`${field} is empty`, field);
}

function isNumericColumn(values: ArrayLike<unknown>, field: string): boolean {
  if (ArrayBuffer.isView(values)) return true;
  let numbers = false;
  let strings = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number') numbers ||= !Number.isNaN(v);
    else if (typeof v === 'string') strings ||= v !== '';
  }
  if (numbers && strings) throw refuse(`${field} mixes numbers and strings; a column is numeric or categorical`, field);
  return numbers;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** The largest double below x (x finite). */
function nextDown(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  bits[0] = x > 0 ? bits[0]! - 1n : bits[0]! + 1n;
  return f[0]!;
}
