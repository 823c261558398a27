import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { profileCategorical, profileNumeric, type NumericProfile } from '../../src/monitoring/column-profile.js';
import {
  chiSquared,
  columnDrift,
  datasetDrift,
  jensenShannon,
  kolmogorovSurvival,
  ksAgainstProfile,
  psiBand,
  psiCategorical,
  psiNumeric,
  upperRegularizedGamma,
  wassersteinNormalised,
  type ColumnDriftResult,
} from '../../src/monitoring/drift-stats.js';

/*
 * Golden numbers were computed once with Python 3, numpy and scipy 1.17 (not needed to run these
 * tests), on the same data: mulberry32 below ported to Python (uint32 arithmetic, identical
 * draws), the profile's type-7 quantiles (checked equal to np.quantile), then
 *   KS D:        scipy.stats.kstest(live, lambda x: np.interp(x, q, np.arange(101) / 100)).statistic
 *   KS p:        scipy.stats.kstwobign.sf((√nₑ + 0.12 + 0.11/√nₑ) · D), nₑ = n·m / (n + m)
 *   raw KS:      scipy.stats.ks_2samp(ref, live) (statistic, exact p-value) on the raw samples
 *   Wasserstein: scipy.stats.wasserstein_distance(np.interp((k + 0.5) / 4e6, p, knots) for k < 4e6, live) / np.std(ref),
 *                knots = q with q[0] = 2·(mean of the bottom 1 %) − q[1] and q[100] likewise at the top
 *   Q(a, x):     scipy.special.gammaincc(a, x); Kolmogorov: scipy.stats.kstwobign.sf(z)
 *   chi-squared: scipy.stats.chisquare(f_obs, f_exp = reference share × live size)
 *   JS:          scipy.spatial.distance.jensenshannon(p, q, base=2)
 *   PSI:         Σ (l − r) ln(l / r) over shares with zeros replaced by 1e-4, bins by np.searchsorted(edges, x, 'left')
 */

/** mulberry32: a tiny seeded PRNG, so the samples are the same on every run (and in the Python port). */
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

const draws = (seed: number, n: number, f: (u: number) => number): number[] => {
  const u = mulberry32(seed);
  return Array.from({ length: n }, () => f(u()));
};

function normals(seed: number, n: number, mean = 0, sd = 1): number[] {
  const u = mulberry32(seed);
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

/** Categories drawn with the given weights. */
function categories(seed: number, n: number, weights: Record<string, number>): string[] {
  const u = mulberry32(seed);
  const entries = Object.entries(weights);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  return Array.from({ length: n }, () => {
    let r = u() * total;
    for (const [c, w] of entries) if ((r -= w) < 0) return c;
    return entries[entries.length - 1]![0];
  });
}

/** W₁ between two raw samples, ∫ |F_a − F_b| dx over the merged values: the check of the profile's approximation. */
function rawWasserstein(a: readonly number[], b: readonly number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  const all = [...x, ...y].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let sum = 0;
  for (let k = 0; k + 1 < all.length; k++) {
    const v = all[k]!;
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    sum += Math.abs(i / x.length - j / y.length) * (all[k + 1]! - v);
  }
  return sum;
}

const repeat = (counts: Record<string, number>): string[] => Object.entries(counts).flatMap(([c, n]) => new Array<string>(n).fill(c));

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

const closeRel = (actual: number, expected: number, rel: number): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
};

describe('Kolmogorov–Smirnov against a profile', () => {
  const ref = draws(11, 400, (u) => u * u);
  const profile = profileNumeric(ref);

  it('matches scipy on a shifted window', () => {
    const live = draws(12, 150, (u) => 0.05 + u * u);
    const ks = ksAgainstProfile(profile, live);
    expect(ks.statistic).toBeCloseTo(0.24073405629246242, 12);
    closeRel(ks.pValue, 4.6944196138080815e-6, 1e-9);
    // The raw samples' ks_2samp gives D = 0.24: within one quantile step. The raw p-value is 5.38e-6: the same verdict at 0.05.
    expect(Math.abs(ks.statistic - 0.24)).toBeLessThan(0.01);
    expect(ks.pValue).toBeLessThan(0.05);
  });

  it('matches scipy on a window of the same distribution', () => {
    const live = draws(13, 150, (u) => u * u);
    const ks = ksAgainstProfile(profile, live);
    expect(ks.statistic).toBeCloseTo(0.09810332038611291, 12);
    closeRel(ks.pValue, 0.23198695320352994, 1e-9);
    expect(Math.abs(ks.statistic - 0.09916666666666667)).toBeLessThan(0.01);
    expect(Math.abs(ks.pValue - 0.21956413986283094)).toBeLessThan(0.03);
  });

  it('computes the Kolmogorov survival function on both sides of its switch of series', () => {
    const golden: [number, number][] = [
      [0.2, 0.999999999999495], [0.5, 0.9639452436648751], [0.8, 0.5441424115741981], [1.0, 0.26999967167735456],
      [1.17, 0.12939004218561884], [1.19, 0.11774229287977166], [1.5, 0.022217962616525127],
      [2.0, 0.0006709252557796953], [3.0, 3.045995948942526e-8],
    ];
    for (const [z, sf] of golden) closeRel(kolmogorovSurvival(z), sf, 1e-12);
    expect(kolmogorovSurvival(0)).toBe(1);
  });

  it('reads the steps of a discrete reference: a window equal to the reference has D within 0.01', () => {
    const values = draws(3, 600, (u) => Math.floor(u * 6));
    const ks = ksAgainstProfile(profileNumeric(values), values);
    expect(ks.statistic).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(ks.pValue).toBeGreaterThan(0.5);
  });
});

describe('normalised Wasserstein', () => {
  const profile = profileNumeric(draws(11, 400, (u) => u * u));

  it('matches scipy on the reference quantile function', () => {
    expect(wassersteinNormalised(profile, draws(12, 150, (u) => 0.05 + u * u))).toBeCloseTo(0.09419445463006844, 6);
    expect(wassersteinNormalised(profile, draws(13, 150, (u) => u * u))).toBeCloseTo(0.09515116565179797, 6);
    // And stays close to the distance between the raw samples.
    expect(wassersteinNormalised(profile, draws(12, 150, (u) => 0.05 + u * u))).toBeCloseTo(0.09442217281164816, 2);
  });

  it('is the shift in standard deviations for a shifted copy of the reference', () => {
    const ref = normals(5, 20_000);
    const p = profileNumeric(ref);
    expect(wassersteinNormalised(p, ref.map((x) => x + 0.5 * p.std))).toBeCloseTo(0.5, 2);
    expect(wassersteinNormalised(p, ref)).toBeLessThan(0.005);
  });

  it('stays within 0.005 of the raw samples\' distance, a lone outlier in the reference included', () => {
    for (const n of [500, 2000, 20_000]) {
      const ref = normals(8, n);
      const live = normals(9, 1000);
      const p = profileNumeric(ref);
      expect(Math.abs(wassersteinNormalised(p, live) - rawWasserstein(ref, live) / p.std)).toBeLessThan(0.005);
    }
    // Were the top 1 % spread evenly up to the outlier, this window would look 0.2 std away.
    const ref = [...normals(6, 9999), 60];
    const live = normals(7, 500);
    const p = profileNumeric(ref);
    expect(Math.abs(wassersteinNormalised(p, live) - rawWasserstein(ref, live) / p.std)).toBeLessThan(0.005);
    expect(columnDrift(p, live).drifted).toBe(false);
  });
});

describe('PSI', () => {
  it('matches the formula on hand-made numeric data over the reference deciles', () => {
    const p = profileNumeric(Array.from({ length: 100 }, (_, i) => i + 1));
    // Live bins [2 2 1 2 2 1 4 0 1 5]: bin 8 is empty and takes the 1e-4 share.
    const live = [-3, 5, 15, 15, 25, 33, 35, 45, 47, 55, 65, 65, 65, 66, 85, 95, 95, 99, 120, 130];
    expect(psiNumeric(p, live)).toBeCloseTo(1.0008151572914252, 12);
  });

  it('matches the formula on hand-made categories', () => {
    const p = profileCategorical(repeat({ a: 50, b: 30, c: 15, d: 5 }));
    expect(psiCategorical(p, repeat({ a: 40, b: 35, c: 15, d: 10 }))).toBeCloseTo(0.06467924815078115, 12);
  });

  it('reads the usual bands', () => {
    expect(psiBand(0)).toBe('none');
    expect(psiBand(0.0999)).toBe('none');
    expect(psiBand(0.1)).toBe('moderate');
    expect(psiBand(0.25)).toBe('moderate');
    expect(psiBand(0.2501)).toBe('significant');
    expect(psiBand(3)).toBe('significant');
    refusal(() => psiBand(NaN));
    refusal(() => psiBand(-1));
  });
});

describe('categorical tests', () => {
  const profile = profileCategorical(repeat({ a: 50, b: 30, c: 15, d: 5 }));
  const live = repeat({ a: 40, b: 35, c: 15, d: 10 });

  it('matches scipy: chi-squared statistic, degrees of freedom and p-value', () => {
    const chi = chiSquared(profile, live);
    expect(chi.statistic).toBeCloseTo(7.833333333333334, 12);
    expect(chi.df).toBe(3);
    closeRel(chi.pValue, 0.04958475966922681, 1e-10);
  });

  it('matches scipy: Jensen–Shannon distance in base 2', () => {
    expect(jensenShannon(profile, live)).toBeCloseTo(0.10738791175505989, 12);
    expect(jensenShannon(profile, repeat({ a: 5, b: 3, c: 1, d: 1 }))).toBeLessThan(0.1);
    expect(jensenShannon(profileCategorical(['x']), ['y'])).toBeCloseTo(1, 12);
  });

  it('computes the regularised upper incomplete gamma function on both sides of its switch', () => {
    const golden: [number, number, number][] = [
      [0.5, 0.1, 0.6547208460185768], [1, 2, 0.1353352832366127], [2.5, 1, 0.8491450360846096],
      [5, 3, 0.8152632445237722], [5, 12, 0.007600390681066992], [50, 40, 0.9296649333406051],
      [50, 70, 0.0051405024585059085], [0.5, 30, 9.485737571073857e-15], [10, 10.5, 0.3971325993508109],
      [1.5, 1e-3, 0.999976225946348],
    ];
    for (const [a, x, q] of golden) closeRel(upperRegularizedGamma(a, x), q, 1e-11);
    expect(upperRegularizedGamma(3, 0)).toBe(1);
  });

  it('finds a category the reference never had infinitely unlikely', () => {
    const chi = chiSquared(profile, [...live, 'e']);
    expect(chi).toEqual({ statistic: Infinity, df: 4, pValue: 0 });
    expect(columnDrift(profile, [...live, 'e']).drifted).toBe(true);
  });

  it('pools unkept categories with the reference\'s "other" bucket', () => {
    const ref: string[] = [];
    for (let k = 0; k < 120; k++) for (let i = 0; i < 130 - k; i++) ref.push(`c${k}`);
    const p = profileCategorical(ref);
    // c110 was pooled, new-one never seen: both count as "other", which the reference has.
    const chi = chiSquared(p, [...ref.slice(0, 5000), 'c110', 'new-one']);
    expect(Number.isFinite(chi.statistic)).toBe(true);
    expect(chi.df).toBe(100);
  });

  it('has nothing to compare when every value falls in one bin on both sides', () => {
    expect(chiSquared(profileCategorical(['x', 'x']), ['x'])).toEqual({ statistic: 0, df: 0, pValue: 1 });
  });
});

describe('column drift with Evidently\'s defaults', () => {
  const small = profileNumeric(normals(1, 800));
  const large = profileNumeric(normals(2, 5000));
  const weights = { red: 5, green: 3, blue: 2, white: 1 };
  const smallCat = profileCategorical(categories(3, 800, weights));
  const largeCat = profileCategorical(categories(4, 5000, weights));

  it('chooses the method by kind and reference size', () => {
    const live = normals(10, 500);
    expect(columnDrift(small, live)).toMatchObject({ method: 'ks', threshold: 0.05 });
    expect(columnDrift(large, live)).toMatchObject({ method: 'wasserstein', threshold: 0.1 });
    const liveCat = categories(11, 500, weights);
    expect(columnDrift(smallCat, liveCat)).toMatchObject({ method: 'chisquare', threshold: 0.05 });
    expect(columnDrift(largeCat, liveCat)).toMatchObject({ method: 'jensenshannon', threshold: 0.1 });
  });

  it('finds no drift in windows of the reference distribution', () => {
    for (const seed of [20, 21, 22]) {
      const live = normals(seed, 500);
      for (const p of [small, large]) {
        const r = columnDrift(p, live);
        expect(r.drifted, `${r.method} seed ${seed}: ${r.statistic}`).toBe(false);
        expect(r.psiBand).toBe('none');
      }
      const liveCat = categories(seed, 500, weights);
      for (const p of [smallCat, largeCat]) {
        const r = columnDrift(p, liveCat);
        expect(r.drifted, `${r.method} seed ${seed}: ${r.statistic}`).toBe(false);
        expect(r.psiBand).toBe('none');
      }
    }
  });

  it('finds drift when the mean moves by half a standard deviation', () => {
    const live = normals(30, 500, 0.5);
    const ks = columnDrift(small, live);
    expect(ks.drifted).toBe(true);
    expect(ks.pValue).toBeLessThan(1e-6);
    const w = columnDrift(large, live);
    expect(w.drifted).toBe(true);
    expect(w.statistic).toBeGreaterThan(0.4);
    expect(w.pValue).toBeUndefined();
    expect(w.psiBand).not.toBe('none');
  });

  it('finds drift when category shares move', () => {
    const liveCat = categories(31, 500, { red: 3, green: 3, blue: 3, white: 1 });
    expect(columnDrift(smallCat, liveCat).drifted).toBe(true);
    expect(columnDrift(largeCat, liveCat).drifted).toBe(true);
  });

  it('takes a method and threshold per column', () => {
    const live = normals(30, 500, 0.5);
    const r = columnDrift(large, live, { method: 'ks' });
    expect(r).toMatchObject({ method: 'ks', threshold: 0.05, drifted: true });
    const psi = columnDrift(large, live, { method: 'psi', threshold: 5 });
    expect(psi).toMatchObject({ method: 'psi', threshold: 5, drifted: false });
    expect(psi.statistic).toBe(psi.psi);
    expect(columnDrift(large, live, { threshold: 2 }).drifted).toBe(false);
    expect(columnDrift(smallCat, categories(11, 500, weights), { method: 'psi' }).method).toBe('psi');
  });

  it('reports the live window it compared, missing values left out', () => {
    const r = columnDrift(small, [...normals(10, 100), NaN, null as unknown as number]);
    expect(r).toMatchObject({ liveCount: 100, liveMissing: 2 });
    expect(columnDrift(smallCat, ['red', '', 'blue'])).toMatchObject({ liveCount: 2, liveMissing: 1 });
  });

  it('refuses a method of the other kind, a bad threshold and empty windows', () => {
    expect(refusal(() => columnDrift(small, [1], { method: 'chisquare' })).details).toEqual({ field: 'method' });
    expect(refusal(() => columnDrift(smallCat, ['red'], { method: 'ks' })).details).toEqual({ field: 'method' });
    expect(refusal(() => columnDrift(small, [1], { threshold: 1.5 })).details).toEqual({ field: 'threshold' });
    expect(refusal(() => columnDrift(large, [1], { threshold: -0.1 })).details).toEqual({ field: 'threshold' });
    expect(refusal(() => columnDrift(small, [])).details).toEqual({ field: 'live' });
    expect(refusal(() => columnDrift(small, [NaN])).details).toEqual({ field: 'live' });
    expect(refusal(() => columnDrift(smallCat, [])).details).toEqual({ field: 'live' });
    expect(refusal(() => columnDrift(smallCat, ['', ''])).details).toEqual({ field: 'live' });
    refusal(() => ksAgainstProfile(small, []));
    refusal(() => wassersteinNormalised(small, ['a'] as unknown as number[]));
    refusal(() => psiNumeric(small, []));
    refusal(() => jensenShannon(smallCat, []));
    refusal(() => chiSquared(smallCat, []));
    refusal(() => psiCategorical(smallCat, []));
  });

  it('carries the histogram PSI used: reference counts sum to the profile count, live ones to liveCount', () => {
    const sum = (xs: number[]): number => xs.reduce((s, n) => s + n, 0);
    for (const [p, live] of [[small, normals(30, 500, 0.5)], [smallCat, categories(31, 500, { red: 3, green: 3, blue: 3, white: 1 })]] as const) {
      const r = columnDrift(p, live);
      expect(r.histogram.labels).toHaveLength(r.histogram.reference.length);
      expect(r.histogram.live).toHaveLength(r.histogram.reference.length);
      expect(sum(r.histogram.reference)).toBe(p.count);
      expect(sum(r.histogram.live)).toBe(r.liveCount);
    }
    expect(columnDrift(smallCat, ['red', 'blue']).histogram.labels).toEqual(smallCat.categories);
    expect(columnDrift(small, [0]).histogram.labels[0]).toMatch(/^\(−∞, -?[\d.e+-]+\]$/);
  });

  it('gives a result that round-trips through JSON', () => {
    const r = columnDrift(small, normals(10, 100));
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('dataset drift', () => {
  const result = (drifted: boolean): Pick<ColumnDriftResult, 'drifted'> => ({ drifted });

  it('is drift when the share of drifted columns reaches the share', () => {
    const results = { a: result(true), b: result(true), c: result(false), d: result(false) };
    expect(datasetDrift(results)).toEqual({ drifted: true, share: 0.5, driftedShare: 0.5, driftedColumns: ['a', 'b'], columnCount: 4 });
    expect(datasetDrift(results, 0.75).drifted).toBe(false);
    expect(datasetDrift({ ...results, b: result(false) }).drifted).toBe(false);
    expect(datasetDrift({ ...results, b: result(false) }, 0.25).drifted).toBe(true);
  });

  it('refuses no columns and a share outside (0, 1]', () => {
    expect(refusal(() => datasetDrift({})).details).toEqual({ field: 'results' });
    expect(refusal(() => datasetDrift({ a: result(true) }, 0)).details).toEqual({ field: 'share' });
    expect(refusal(() => datasetDrift({ a: result(true) }, 1.5)).details).toEqual({ field: 'share' });
  });
});

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataPath = path.resolve(projectRoot, '../shared/data/diabetes.csv');
const haveData = existsSync(dataPath);
const SKIP_MESSAGE = '../shared/data/diabetes.csv not found: diabetes drift scenario skipped';
if (!haveData) console.warn(SKIP_MESSAGE);

describe.skipIf(!haveData)(haveData ? 'the diabetes drift scenario' : SKIP_MESSAGE, () => {
  const lines = haveData ? readFileSync(dataPath, 'utf8').trim().split('\n') : [''];
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => l.split(',').map(Number));
  const features = header.slice(1, -1); // PatientID and the label Diabetic left out
  const column = (from: number, to: number, name: string): number[] => rows.slice(from, to).map((r) => r[header.indexOf(name)]!);
  const profiles: Record<string, NumericProfile> = Object.fromEntries(features.map((f) => [f, profileNumeric(column(0, 7000, f))]));

  it('finds no drift in held-out rows, then drift on shifted PlasmaGlucose and BMI', () => {
    const calm = Object.fromEntries(features.map((f) => [f, columnDrift(profiles[f]!, column(9000, 10_000, f))]));
    for (const [f, r] of Object.entries(calm)) expect(r.drifted, `${f}: ${r.method} ${r.statistic}`).toBe(false);
    expect(datasetDrift(calm).drifted).toBe(false);

    const shift: Record<string, number> = { PlasmaGlucose: 10, BMI: 3 };
    const shifted = Object.fromEntries(features.map((f) => [f, columnDrift(profiles[f]!, column(9000, 10_000, f).map((x) => x + (shift[f] ?? 0)))]));
    const dataset = datasetDrift(shifted);
    expect(dataset.driftedColumns).toEqual(['PlasmaGlucose', 'BMI']);
    // Two of eight columns: dataset drift only with a share of at most 0.25, not at the default 0.5.
    expect(dataset.drifted).toBe(false);
    expect(datasetDrift(shifted, 0.25).drifted).toBe(true);
  });

  it('agrees with KS on a small reference', () => {
    const small = profileNumeric(column(0, 1000, 'PlasmaGlucose'));
    expect(columnDrift(small, column(8000, 8500, 'PlasmaGlucose'))).toMatchObject({ method: 'ks', drifted: false });
    expect(columnDrift(small, column(8000, 8500, 'PlasmaGlucose').map((x) => x + 10))).toMatchObject({ method: 'ks', drifted: true });
  });
});
