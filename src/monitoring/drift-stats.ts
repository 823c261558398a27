import { FluxError } from '../core/index.js';
import {
  binOf,
  readCategory,
  sortedFinite,
  type CategoricalProfile,
  type ColumnProfile,
  type NumericProfile,
} from './column-profile.js';

/**
 * The statistics of drift detection: a live window of raw values against a column's reference
 * profile (column-profile.ts). The methods, their defaults and their thresholds are Evidently's
 * (and what Azure ML offers): Kolmogorov–Smirnov and normalised Wasserstein for numeric columns,
 * Pearson's chi-squared and Jensen–Shannon for categorical ones, PSI for both. Missing values of
 * the live window are left out, as Evidently drops them; `liveMissing` reports how many there were.
 */

/** Share given to an empty bin in PSI, so that ln(p/q) stays finite (Evidently's 0.0001). */
export const PSI_EPSILON = 1e-4;
/** Reference sizes up to this use a statistical test by default, larger ones a distance (Evidently). */
export const SMALL_REFERENCE = 1000;
/** Default threshold of the tests: drift when p < 0.05. */
export const DEFAULT_P_THRESHOLD = 0.05;
/** Default threshold of the distances and of PSI: drift when the value is ≥ 0.1. */
export const DEFAULT_DISTANCE_THRESHOLD = 0.1;
/** Evidently's floor under the reference std, so a constant column does not divide by zero. */
const MIN_NORM = 0.001;

export type DriftMethod = 'ks' | 'wasserstein' | 'psi' | 'chisquare' | 'jensenshannon';
export type PsiBand = 'none' | 'moderate' | 'significant';

export interface KsResult {
  /** sup |F_live − F_ref|, F_ref read off the profile's quantile function. */
  statistic: number;
  pValue: number;
}

export interface ChiSquaredResult {
  /** Pearson's statistic; Infinity when the live window has a category the reference never had. */
  statistic: number;
  df: number;
  pValue: number;
}

export interface ColumnDriftOptions {
  /** The method instead of the default one for the profile's kind and size. */
  method?: DriftMethod;
  /** A p-value bound for ks and chisquare (drift when p < it), a distance bound otherwise (drift when ≥ it). */
  threshold?: number;
}

export interface ColumnDriftResult {
  method: DriftMethod;
  /** The KS D, chi-squared statistic, normalised Wasserstein distance, JS distance or PSI. */
  statistic: number;
  /** Only for the tests (ks, chisquare). */
  pValue?: number;
  threshold: number;
  drifted: boolean;
  /** PSI over the profile's bins or categories, whatever the method, for the 0.1 / 0.25 bands. */
  psi: number;
  psiBand: PsiBand;
  /** Live values compared (missing ones left out). */
  liveCount: number;
  liveMissing: number;
  /** The bins PSI was computed over, with the reference and live counts of each. */
  histogram: DriftHistogram;
}

/**
 * The bins of a column's PSI: for a numeric column the profile's histogram, labelled by interval
 * ("(−∞, a]", "(a, b]", "(b, ∞)", edges to 4 significant digits; bins are closed on the right);
 * for a categorical one its kept categories and "other" (when either side has any).
 */
export interface DriftHistogram {
  labels: string[];
  reference: number[];
  live: number[];
}

export interface DatasetDriftResult {
  drifted: boolean;
  /** The share of drifted columns at which the dataset counts as drifted. */
  share: number;
  /** The share of columns that drifted. */
  driftedShare: number;
  driftedColumns: string[];
  columnCount: number;
}

const refuse = (message: string, field: string): FluxError => new FluxError('INVALID_PARAMETER_VALUE', message, { field });

// ---------------------------------------------------------------------------------------------
// Numeric columns

/**
 * Two-sample Kolmogorov–Smirnov against the profile. The reference's CDF is the inverse of its
 * piecewise-linear quantile function (see referenceKnots), so D is within about one quantile
 * step (0.01) of the D of the raw samples. The p-value is the Kolmogorov distribution's with the effective size
 * nₑ = n·m / (n + m) and Stephens' small-sample correction λ = (√nₑ + 0.12 + 0.11/√nₑ)·D.
 */
export function ksAgainstProfile(profile: NumericProfile, live: ArrayLike<number>): KsResult {
  return ksSorted(profile, sortedFinite(live, 'live').sorted);
}

/**
 * Wasserstein-1 distance between the reference (its piecewise-linear quantile function, see
 * referenceKnots) and the live empirical distribution, divided by the reference std (floored at
 * 0.001): Evidently's "normed" Wasserstein, whose default drift threshold is 0.1 (a tenth of a
 * standard deviation).
 */
export function wassersteinNormalised(profile: NumericProfile, live: ArrayLike<number>): number {
  return wassersteinSorted(profile, sortedFinite(live, 'live').sorted);
}

/** PSI over the profile's histogram bins; empty bins count as a share of PSI_EPSILON. */
export function psiNumeric(profile: NumericProfile, live: ArrayLike<number>): number {
  return psiNumericSorted(profile, sortedFinite(live, 'live').sorted);
}

/**
 * The knots the statistics read the reference from: the stored quantile function, its two outer
 * steps made straight lines from the 1 % (99 %) quantile whose mean is the tail's mean. A lone
 * outlier then weighs what it weighs in the raw sample, not as if 1 % of the values were spread
 * evenly up to it.
 */
function referenceKnots(profile: NumericProfile): number[] {
  const k = [...profile.quantiles];
  const last = k.length - 1;
  const [low, high] = profile.tailMeans;
  k[0] = Math.min(k[1]!, 2 * low - k[1]!);
  k[last] = Math.max(k[last - 1]!, 2 * high - k[last - 1]!);
  return k;
}

function ksSorted(profile: NumericProfile, sorted: Float64Array): KsResult {
  const q = referenceKnots(profile);
  const m = sorted.length;
  let d = 0;
  // Between two live values F_live is flat and F_ref rises, so the supremum is reached at a live
  // value or just below one; both sides of each distinct value are checked.
  for (let i = 0; i < m; ) {
    const x = sorted[i]!;
    let j = i + 1;
    while (j < m && sorted[j] === x) j++;
    d = Math.max(d, Math.abs(j / m - referenceCdf(q, x)), Math.abs(i / m - referenceCdfBelow(q, x)));
    i = j;
  }
  const ne = (profile.count * m) / (profile.count + m);
  const s = Math.sqrt(ne);
  return { statistic: d, pValue: kolmogorovSurvival((s + 0.12 + 0.11 / s) * d) };
}

/** F_ref(x): the largest p whose quantile is ≤ x. */
function referenceCdf(q: readonly number[], x: number): number {
  const last = q.length - 1;
  if (x < q[0]!) return 0;
  if (x >= q[last]!) return 1;
  let lo = 0;
  let hi = last; // invariant: q[lo] ≤ x < q[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (q[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return (lo + (x - q[lo]!) / (q[hi]! - q[lo]!)) / last;
}

/** F_ref(x−): differs from F_ref(x) where the reference has an atom (repeated quantiles). */
function referenceCdfBelow(q: readonly number[], x: number): number {
  const last = q.length - 1;
  if (x <= q[0]!) return 0;
  if (x > q[last]!) return 1;
  let lo = 0;
  let hi = last; // invariant: q[lo] < x ≤ q[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (q[mid]! < x) lo = mid;
    else hi = mid;
  }
  return (lo + (x - q[lo]!) / (q[hi]! - q[lo]!)) / last;
}

function wassersteinSorted(profile: NumericProfile, sorted: Float64Array): number {
  // W₁ = ∫₀¹ |Q_ref(u) − Q_live(u)| du. On the merged grid of the knots i/last and the steps j/m,
  // Q_live is constant and Q_ref linear, so each piece integrates exactly.
  const q = referenceKnots(profile);
  const last = q.length - 1;
  const m = sorted.length;
  let total = 0;
  let u = 0;
  let i = 0;
  let j = 0;
  while (i < last && j < m) {
    // Integer cross-multiplication decides which grid point comes first without rounding.
    const cmp = (i + 1) * m - (j + 1) * last;
    const next = cmp <= 0 ? (i + 1) / last : (j + 1) / m;
    const q0 = q[i]!;
    const slope = (q[i + 1]! - q0) * last;
    const v = sorted[j]!;
    const a = q0 + slope * (u - i / last) - v;
    const b = q0 + slope * (next - i / last) - v;
    const len = next - u;
    total += (a >= 0) === (b >= 0) || a === 0 || b === 0 ? (len * Math.abs(a + b)) / 2 : (len * (a * a + b * b)) / (2 * Math.abs(a - b));
    u = next;
    if (cmp <= 0) i++;
    if (cmp >= 0) j++;
  }
  return total / Math.max(profile.std, MIN_NORM);
}

function psiNumericSorted(profile: NumericProfile, sorted: Float64Array): number {
  return psiOf(profile.binCounts, numericLiveBins(profile, sorted));
}

/** Live values per bin of the profile's histogram. */
function numericLiveBins(profile: NumericProfile, sorted: Float64Array): number[] {
  const live = new Array<number>(profile.binCounts.length).fill(0);
  for (const x of sorted) live[binOf(profile.binEdges, x)]!++;
  return live;
}

/** Interval labels of the bins over `edges`: (−∞, e₀], (e₀, e₁], …, (eₗₐₛₜ, ∞). */
function binLabels(edges: readonly number[]): string[] {
  const f = (x: number): string => String(Number(x.toPrecision(4)));
  const labels: string[] = [];
  for (let i = 0; i <= edges.length; i++) {
    const lo = i === 0 ? '−∞' : f(edges[i - 1]!);
    const hi = i === edges.length ? '∞)' : `${f(edges[i]!)}]`;
    labels.push(`(${lo}, ${hi}`);
  }
  return labels;
}

// ---------------------------------------------------------------------------------------------
// Categorical columns

/** PSI over the profile's categories and its "other" bucket; empty bins count as a share of PSI_EPSILON. */
export function psiCategorical(profile: CategoricalProfile, live: ArrayLike<string>): number {
  const bins = categoricalBins(profile, live);
  return psiOf(bins.reference, bins.live);
}

/**
 * Pearson's chi-squared goodness of fit of the live counts to the reference proportions, as
 * Evidently runs it (scipy's chisquare with expected = reference share × live size), over the kept
 * categories and "other"; df = bins − 1, p = Q(df/2, χ²/2). A live category the reference never
 * had (it lands in an "other" bucket the reference left empty) makes χ² infinite and p 0.
 */
export function chiSquared(profile: CategoricalProfile, live: ArrayLike<string>): ChiSquaredResult {
  return chiSquaredOf(categoricalBins(profile, live));
}

function chiSquaredOf(bins: CategoricalBins): ChiSquaredResult {
  const nr = bins.reference.reduce((s, n) => s + n, 0);
  let statistic = 0;
  let used = 0;
  for (let k = 0; k < bins.reference.length; k++) {
    const expected = (bins.reference[k]! / nr) * bins.liveCount;
    const observed = bins.live[k]!;
    if (expected === 0 && observed === 0) continue;
    used++;
    statistic += expected === 0 ? Infinity : ((observed - expected) * (observed - expected)) / expected;
  }
  const df = used - 1;
  // One bin holds everything on both sides: nothing can differ.
  if (df < 1) return { statistic: 0, df: 0, pValue: 1 };
  return { statistic, df, pValue: statistic === Infinity ? 0 : upperRegularizedGamma(df / 2, statistic / 2) };
}

/**
 * Jensen–Shannon distance (the square root of the divergence, logarithms base 2, so in [0, 1])
 * between the reference and live category shares. Zero shares need no smoothing here.
 */
export function jensenShannon(profile: CategoricalProfile, live: ArrayLike<string>): number {
  const bins = categoricalBins(profile, live);
  return jsDistance(bins.reference, bins.live);
}

interface CategoricalBins {
  /** Counts per bin: the kept categories, then "other" when either side has any. */
  reference: number[];
  live: number[];
  liveCount: number;
  liveMissing: number;
}

function categoricalBins(profile: CategoricalProfile, values: ArrayLike<string>): CategoricalBins {
  if (typeof values !== 'object' || values === null || typeof values.length !== 'number') throw refuse('live must be an array of values', 'live');
  const k = profile.categories.length;
  const index = new Map(profile.categories.map((c, i) => [c, i]));
  const live = new Array<number>(k + 1).fill(0);
  let liveMissing = 0;
  for (let i = 0; i < values.length; i++) {
    const c = readCategory(values[i], 'live', i);
    if (c === null) liveMissing++;
    else live[index.get(c) ?? k]!++;
  }
  const liveCount = values.length - liveMissing;
  if (liveCount === 0) throw refuse(`live has no value that is not missing (${liveMissing} missing)`, 'live');
  const reference = [...profile.counts, profile.otherCount];
  if (profile.otherCount === 0 && live[k] === 0) {
    reference.pop();
    live.pop();
  }
  return { reference, live, liveCount, liveMissing };
}

// ---------------------------------------------------------------------------------------------
// Shared measures

/** Σ (live − ref) · ln(live / ref) over shares, an empty bin's share taken as PSI_EPSILON. */
function psiOf(reference: readonly number[], live: readonly number[]): number {
  const nr = reference.reduce((s, n) => s + n, 0);
  const nl = live.reduce((s, n) => s + n, 0);
  let sum = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k]! / nr || PSI_EPSILON;
    const l = live[k]! / nl || PSI_EPSILON;
    sum += (l - r) * Math.log(l / r);
  }
  return sum;
}

function jsDistance(reference: readonly number[], live: readonly number[]): number {
  const nr = reference.reduce((s, n) => s + n, 0);
  const nl = live.reduce((s, n) => s + n, 0);
  let divergence = 0;
  for (let k = 0; k < reference.length; k++) {
    const p = reference[k]! / nr;
    const q = live[k]! / nl;
    const mid = (p + q) / 2;
    if (p > 0) divergence += p * Math.log2(p / mid);
    if (q > 0) divergence += q * Math.log2(q / mid);
  }
  // Rounding can leave the divergence a hair outside [0, 1].
  return Math.sqrt(Math.min(1, Math.max(0, divergence / 2)));
}

/** The usual reading of a PSI: below 0.1 no shift, 0.1 to 0.25 a moderate one, above 0.25 a significant one. */
export function psiBand(value: number): PsiBand {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw refuse(`psi must be a number ≥ 0, got ${String(value)}`, 'psi');
  if (value < 0.1) return 'none';
  return value <= 0.25 ? 'moderate' : 'significant';
}

// ---------------------------------------------------------------------------------------------
// Decisions

const NUMERIC_METHODS: readonly DriftMethod[] = ['ks', 'wasserstein', 'psi'];
const CATEGORICAL_METHODS: readonly DriftMethod[] = ['chisquare', 'jensenshannon', 'psi'];

/**
 * Drift of one column. The default method is Evidently's for the reference size: KS (numeric) or
 * chi-squared (categorical) up to SMALL_REFERENCE reference values, normalised Wasserstein or
 * Jensen–Shannon beyond; `opts` overrides the method and threshold of this column. PSI is computed
 * in every case for its bands.
 */
export function columnDrift(
  profile: ColumnProfile,
  live: ArrayLike<number> | ArrayLike<string>,
  opts: ColumnDriftOptions = {},
): ColumnDriftResult {
  const small = profile.count <= SMALL_REFERENCE;
  if (profile.kind === 'numeric') {
    const method = checkMethod(opts.method, NUMERIC_METHODS, 'numeric') ?? (small ? 'ks' : 'wasserstein');
    const threshold = checkThreshold(opts.threshold, method);
    const { sorted, missing } = sortedFinite(live as ArrayLike<number>, 'live');
    const liveBins = numericLiveBins(profile, sorted);
    const psi = psiOf(profile.binCounts, liveBins);
    const histogram: DriftHistogram = { labels: binLabels(profile.binEdges), reference: [...profile.binCounts], live: liveBins };
    const base = { method, threshold, psi, psiBand: psiBand(psi), liveCount: sorted.length, liveMissing: missing, histogram };
    switch (method) {
      case 'ks': {
        const ks = ksSorted(profile, sorted);
        return { ...base, statistic: ks.statistic, pValue: ks.pValue, drifted: ks.pValue < threshold };
      }
      case 'wasserstein': {
        const w = wassersteinSorted(profile, sorted);
        return { ...base, statistic: w, drifted: w >= threshold };
      }
      default:
        return { ...base, statistic: psi, drifted: psi >= threshold };
    }
  }
  if (profile.kind === 'categorical') {
    const method = checkMethod(opts.method, CATEGORICAL_METHODS, 'categorical') ?? (small ? 'chisquare' : 'jensenshannon');
    const threshold = checkThreshold(opts.threshold, method);
    const bins = categoricalBins(profile, live as ArrayLike<string>);
    const psi = psiOf(bins.reference, bins.live);
    const labels = [...profile.categories, 'other'].slice(0, bins.reference.length);
    const histogram: DriftHistogram = { labels, reference: [...bins.reference], live: [...bins.live] };
    const base = { method, threshold, psi, psiBand: psiBand(psi), liveCount: bins.liveCount, liveMissing: bins.liveMissing, histogram };
    switch (method) {
      case 'chisquare': {
        const chi = chiSquaredOf(bins);
        return { ...base, statistic: chi.statistic, pValue: chi.pValue, drifted: chi.pValue < threshold };
      }
      case 'jensenshannon': {
        const js = jsDistance(bins.reference, bins.live);
        return { ...base, statistic: js, drifted: js >= threshold };
      }
      default:
        return { ...base, statistic: psi, drifted: psi >= threshold };
    }
  }
  throw refuse(`profile.kind must be "numeric" or "categorical"`, 'profile');
}

/** Dataset drift as Evidently decides it: the share of drifted columns is at least `share`. */
export function datasetDrift(results: Record<string, Pick<ColumnDriftResult, 'drifted'>>, share = 0.5): DatasetDriftResult {
  if (typeof share !== 'number' || !(share > 0 && share <= 1)) throw refuse(`share must be in (0, 1], got ${String(share)}`, 'share');
  if (typeof results !== 'object' || results === null) throw refuse('results must be an object of column name → drift result', 'results');
  const names = Object.keys(results);
  if (names.length === 0) throw refuse('results is empty: dataset drift needs at least one column', 'results');
  const driftedColumns = names.filter((n) => results[n]!.drifted);
  const driftedShare = driftedColumns.length / names.length;
  return { drifted: driftedShare >= share, share, driftedShare, driftedColumns, columnCount: names.length };
}

function checkMethod(method: DriftMethod | undefined, allowed: readonly DriftMethod[], kind: string): DriftMethod | undefined {
  if (method === undefined) return undefined;
  if (!allowed.includes(method)) throw refuse(`method "${String(method)}" does not apply to a ${kind} column; use one of ${allowed.join(', ')}`, 'method');
  return method;
}

function checkThreshold(threshold: number | undefined, method: DriftMethod): number {
  const isTest = method === 'ks' || method === 'chisquare';
  if (threshold === undefined) return isTest ? DEFAULT_P_THRESHOLD : DEFAULT_DISTANCE_THRESHOLD;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0 || (isTest && threshold >= 1)) {
    throw refuse(`threshold of ${method} must be ${isTest ? 'a p-value in (0, 1)' : 'a number > 0'}, got ${String(threshold)}`, 'threshold');
  }
  return threshold;
}

// ---------------------------------------------------------------------------------------------
// Distributions

/**
 * Survival function of the Kolmogorov distribution, Q(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²). That series
 * converges slowly for small λ, where the theta-function form of the CDF,
 * √(2π)/λ · Σ e^(−(2k−1)²π²/(8λ²)), converges fast instead; 1.18 is where both need few terms.
 */
export function kolmogorovSurvival(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    const y = Math.exp((-Math.PI * Math.PI) / (8 * lambda * lambda));
    let sum = 0;
    for (let k = 1; k <= 20; k++) {
      const term = Math.pow(y, (2 * k - 1) * (2 * k - 1));
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum));
  }
  const x = Math.exp(-2 * lambda * lambda);
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.pow(x, k * k);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-17 * sum) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * The regularised upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), which gives the
 * chi-squared p-value Q(df/2, χ²/2). As in Numerical Recipes: the series of P = 1 − Q below
 * x = a + 1, the continued fraction of Q (modified Lentz) above, where each converges quickly.
 */
export function upperRegularizedGamma(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) throw refuse(`upperRegularizedGamma needs a > 0 and a number x, got a=${a}, x=${x}`, 'a');
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  const maxIter = 10_000;
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < maxIter; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(logPrefix)));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < maxIter; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.max(0, Math.exp(logPrefix) * h));
}

/** Lanczos coefficients for g = 7, n = 9 (the published set, about 15 significant digits). */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (the reflection formula covers x < 0.5). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let k = 1; k < LANCZOS.length; k++) sum += LANCZOS[k]! / (z + k);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}
