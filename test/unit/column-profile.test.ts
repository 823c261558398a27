import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import {
  MAX_CATEGORIES,
  QUANTILE_POINTS,
  parseColumnProfile,
  profileCategorical,
  profileDataset,
  profileNumeric,
} from '../../src/monitoring/column-profile.js';

/** mulberry32: a tiny seeded PRNG, so the samples are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(seed: number, n: number, mean = 0, sd = 1): number[] {
  const u = mulberry32(seed);
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

function refusal(fn: () => unknown): FluxError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FluxError);
    expect((e as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
    return e as FluxError;
  }
  throw new Error('expected a refusal');
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('numeric column profile', () => {
  it('summarises 1 … 100 as numpy does (type-7 quantiles, deciles as bin edges)', () => {
    const p = profileNumeric(range(1, 100));
    expect(p).toMatchObject({ kind: 'numeric', count: 100, missing: 0, min: 1, max: 100, mean: 50.5 });
    // Population std of 1 … n is √((n² − 1) / 12).
    expect(p.std).toBeCloseTo(Math.sqrt((100 * 100 - 1) / 12), 12);
    expect(p.quantiles).toHaveLength(QUANTILE_POINTS);
    expect(p.quantiles[0]).toBe(1);
    expect(p.quantiles[100]).toBe(100);
    // np.quantile(np.arange(1, 101), [0.1, 0.5, 0.99]) = [10.9, 50.5, 99.01]
    expect(p.quantiles[10]).toBeCloseTo(10.9, 12);
    expect(p.quantiles[50]).toBeCloseTo(50.5, 12);
    expect(p.quantiles[99]).toBeCloseTo(99.01, 12);
    expect(p.binEdges).toHaveLength(9);
    p.binEdges.forEach((e, i) => expect(e).toBeCloseTo(10.9 + 9.9 * i, 9));
    expect(p.binCounts).toEqual(new Array(10).fill(10));
  });

  it('counts NaN, ±Infinity and null as missing and leaves them out of the summary', () => {
    const p = profileNumeric([3, NaN, 1, Infinity, null as unknown as number, 2, -Infinity]);
    expect(p).toMatchObject({ count: 3, missing: 4, min: 1, max: 3, mean: 2 });
    expect(p.binCounts.reduce((s, n) => s + n, 0)).toBe(3);
  });

  it('reads typed arrays', () => {
    const p = profileNumeric(Float64Array.from([4, 2, 8, 6]));
    expect(p).toMatchObject({ count: 4, min: 2, max: 8, mean: 5 });
  });

  it('gives an atom at the minimum a bin of its own, with one below it for smaller values', () => {
    const values = [...new Array<number>(30).fill(0), ...range(1, 70)];
    const p = profileNumeric(values);
    expect(p.binEdges[0]).toBeLessThan(0);
    expect(p.binEdges[1]).toBe(0);
    expect(p.binCounts[0]).toBe(0);
    expect(p.binCounts[1]).toBe(30);
    expect(p.binEdges.every((e, i) => i === 0 || e > p.binEdges[i - 1]!)).toBe(true);
  });

  it('splits a constant column into below, at and above its value', () => {
    const p = profileNumeric([5, 5, 5, 5]);
    expect(p.std).toBe(0);
    expect(p.binEdges).toHaveLength(2);
    expect(p.binEdges[1]).toBe(5);
    expect(p.binCounts).toEqual([0, 4, 0]);
    expect(new Set(p.quantiles)).toEqual(new Set([5]));
  });

  it('refuses empty input, input with no finite value and values that are not numbers', () => {
    expect(refusal(() => profileNumeric([])).details).toEqual({ field: 'values' });
    expect(refusal(() => profileNumeric([NaN, Infinity])).message).toMatch(/no finite value/);
    expect(refusal(() => profileNumeric([1, '2' as unknown as number])).message).toMatch(/values\[1\] is a string/);
    expect(refusal(() => profileNumeric('123' as unknown as number[])).message).toMatch(/must be an array/);
  });

  it('stays small and round-trips through JSON', () => {
    const p = profileNumeric(normals(1, 10_000, 100, 15));
    const json = JSON.stringify(p);
    expect(json.length).toBeLessThan(3 * 1024);
    const back = parseColumnProfile(JSON.parse(json));
    expect(back).toEqual(p);
  });
});

describe('categorical column profile', () => {
  it('keeps frequencies most frequent first, ties in code-unit order, and counts missing cells', () => {
    const p = profileCategorical(['b', 'a', 'c', 'a', '', 'b', null as unknown as string, 'a', 'd', 'c']);
    expect(p).toEqual({
      kind: 'categorical', count: 8, missing: 2, categories: ['a', 'b', 'c', 'd'], counts: [3, 2, 2, 1], otherCount: 0, distinct: 4,
    });
  });

  it('takes coded categories given as numbers or booleans as their text', () => {
    const p = profileCategorical([1, 2, 1, true] as unknown as string[]);
    expect(p.categories).toEqual(['1', '2', 'true']);
  });

  it(`keeps the top ${MAX_CATEGORIES} categories and pools the rest as "other"`, () => {
    const values: string[] = [];
    // Category k appears 200 − k times, so the ranking is known: c0 … c99 are kept.
    for (let k = 0; k < 150; k++) for (let i = 0; i < 200 - k; i++) values.push(`c${k}`);
    const p = profileCategorical(values);
    expect(p.categories).toHaveLength(MAX_CATEGORIES);
    expect(p.categories[0]).toBe('c0');
    expect(p.categories[99]).toBe('c99');
    expect(p.distinct).toBe(150);
    expect(p.otherCount).toBe(range(100, 149).reduce((s, k) => s + 200 - k, 0));
    expect(p.counts.reduce((s, n) => s + n, 0) + p.otherCount).toBe(values.length);
    const json = JSON.stringify(p);
    expect(json.length).toBeLessThan(2 * 1024);
    expect(parseColumnProfile(JSON.parse(json))).toEqual(p);
  });

  it('refuses empty input and input where every value is missing', () => {
    expect(refusal(() => profileCategorical([])).message).toMatch(/values is empty/);
    expect(refusal(() => profileCategorical(['', null as unknown as string])).message).toMatch(/no value that is not missing/);
    expect(refusal(() => profileCategorical([{}] as unknown as string[])).message).toMatch(/values\[0\] is a object/);
  });
});

describe('dataset profile', () => {
  it('profiles numeric and text columns by their values', () => {
    const d = profileDataset({
      age: Float64Array.from([30, 40, NaN, 50]),
      bmi: [20.5, 31, 25, null as unknown as number],
      sex: ['f', 'm', 'f', ''],
    });
    expect(d.version).toBe(1);
    expect(d.rows).toBe(4);
    expect(Object.keys(d.columns)).toEqual(['age', 'bmi', 'sex']);
    expect(d.columns['age']).toMatchObject({ kind: 'numeric', count: 3, missing: 1 });
    expect(d.columns['bmi']).toMatchObject({ kind: 'numeric', count: 3, missing: 1 });
    expect(d.columns['sex']).toMatchObject({ kind: 'categorical', count: 3, missing: 1, categories: ['f', 'm'] });
    const back = JSON.parse(JSON.stringify(d)) as typeof d;
    for (const [name, p] of Object.entries(back.columns)) expect(parseColumnProfile(p, name)).toEqual(d.columns[name]);
  });

  it('keeps a column whatever its name', () => {
    const d = profileDataset(JSON.parse('{"__proto__": [1, 2, 3]}') as Record<string, number[]>);
    expect(Object.keys(d.columns)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(d.columns)).toBe(Object.prototype);
  });

  it('refuses no columns, columns of different lengths, mixed columns and empty ones, naming the column', () => {
    expect(refusal(() => profileDataset({})).details).toEqual({ field: 'columns' });
    expect(refusal(() => profileDataset({ a: [1, 2], b: [1] })).details).toEqual({ field: 'columns.b' });
    expect(refusal(() => profileDataset({ a: [1, 'x'] as unknown as number[] })).message).toMatch(/mixes numbers and strings/);
    expect(refusal(() => profileDataset({ a: [] })).details).toEqual({ field: 'columns.a' });
    expect(refusal(() => profileDataset({ a: [NaN, NaN] })).details).toEqual({ field: 'columns.a' });
  });
});

describe('stored profiles read back', () => {
  it('refuses a profile whose parts do not agree', () => {
    const p = profileNumeric(range(1, 50));
    refusal(() => parseColumnProfile({ ...p, binCounts: p.binCounts.slice(1) }));
    refusal(() => parseColumnProfile({ ...p, binCounts: p.binCounts.map((n) => n + 1) }));
    refusal(() => parseColumnProfile({ ...p, quantiles: [...p.quantiles].reverse() }));
    refusal(() => parseColumnProfile({ ...p, kind: 'text' }));
    const c = profileCategorical(['a', 'b', 'b']);
    refusal(() => parseColumnProfile({ ...c, categories: ['a', 'a'] }));
    refusal(() => parseColumnProfile({ ...c, otherCount: 5 }));
    expect(refusal(() => parseColumnProfile(null, 'columns.age')).details).toEqual({ field: 'columns.age' });
  });
});
