import { invalid } from '../core/index.js';
import { Random } from '../core/index.js';

export interface Split {
  /** Row indices of the training set, ascending. */
  train: Uint32Array;
  /** Row indices of the test set, ascending. */
  test: Uint32Array;
}

/**
 * Stratified train/test split: the rows of each class are shuffled with the seed and
 * round(testFraction × classCount) of them go to the test set, so both sets keep the class
 * balance. The same labels, fraction and seed always give the same split.
 */
export function stratifiedSplit(y: Float64Array, testFraction: number, seed: number, field = 'test_size'): Split {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw invalid(`${field} must be a fraction strictly between 0 and 1, got ${testFraction}`);
  }
  if (!Number.isInteger(seed)) throw invalid(`seed must be an integer, got ${seed}`);
  const n = y.length;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const label = y[i]!;
    let rows = byClass.get(label);
    if (!rows) byClass.set(label, (rows = []));
    rows.push(i);
  }
  const rng = new Random(seed);
  const isTest = new Uint8Array(n);
  let testCount = 0;
  // Classes in ascending order so the split does not depend on which class appears first.
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = rng.shuffle(byClass.get(label)!);
    const k = Math.round(testFraction * rows.length);
    for (let j = 0; j < k; j++) isTest[rows[j]!] = 1;
    testCount += k;
  }
  if (testCount === 0 || testCount === n) {
    throw invalid(`${field} ${testFraction} leaves ${testCount === 0 ? (field === 'test_size' ? 'the test' : 'the validation') : 'the training'} set empty with ${n} rows`);
  }
  const train = new Uint32Array(n - testCount);
  const test = new Uint32Array(testCount);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (isTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}

/** Copy the given rows of a row-major n×d matrix into a new matrix. */
export function takeRows(X: Float64Array, d: number, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r]! * d;
    out.set(X.subarray(src, src + d), r * d);
  }
  return out;
}

/** Copy the given entries of a vector. */
export function takeValues(v: Float64Array, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) out[r] = v[rows[r]!]!;
  return out;
}

/** A seeded random train/test split of n rows (for regression, where there are no classes to stratify). */
export function randomSplit(n: number, testFraction: number, seed: number, field = 'test_size'): Split {
  if (!(testFraction > 0 && testFraction < 1)) throw invalid(`${field} must be a fraction strictly between 0 and 1, got ${testFraction}`);
  const order = new Random(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const k = Math.round(testFraction * n);
  if (k === 0 || k === n) throw invalid(`${field} ${testFraction} leaves ${k === 0 ? (field === 'test_size' ? 'the test' : 'the validation') : 'the training'} set empty with ${n} rows`);
  const isTest = new Uint8Array(n);
  for (let j = 0; j < k; j++) isTest[order[j]!] = 1;
  const train = new Uint32Array(n - k);
  const test = new Uint32Array(k);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (isTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}
