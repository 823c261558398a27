import type { Rng } from './rng.js';

/**
 * The Parzen estimators of TPE (Bergstra et al., "Algorithms for Hyper-Parameter Optimization",
 * NeurIPS 2011), one parameter at a time, with the choices Optuna's TPESampler makes by default:
 * a prior component, bandwidths from the distances between neighbouring observations (not using
 * the bounds as neighbours at the ends), the "magic clip" lower bound on bandwidths, and weights
 * that fade the oldest observations once there are more than 25.
 */

/** Where a numeric parameter lives for the estimator: its scale (log for loguniform) and its grid. */
export interface NumericDomain {
  low: number;
  high: number;
  /** The distance between neighbouring values of a quantised or integer parameter; null if continuous. */
  step: number | null;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Weights of observations in trial order: 1 each up to 25, then a ramp from 1/n for the older ones. */
export function observationWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const w: number[] = [];
  for (let i = 0; i < ramp; i++) w.push(ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1));
  for (let i = 0; i < 25; i++) w.push(1);
  return w;
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** P(a ≤ Z ≤ b) for a standard normal Z, computed from the nearer tail so far tails keep precision. */
function normalMass(a: number, b: number): number {
  const s = Math.SQRT1_2;
  if (a >= 0) return Math.max(0, 0.5 * (erfc(a * s) - erfc(b * s)));
  if (b <= 0) return Math.max(0, 0.5 * (erfc(-b * s) - erfc(-a * s)));
  return Math.max(0, 1 - 0.5 * erfc(-a * s) - 0.5 * erfc(b * s));
}

function logSumExp(xs: readonly number[]): number {
  let max = -Infinity;
  for (const x of xs) if (x > max) max = x;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum);
}

/** Index of the component a uniform u ∈ [0, 1) falls in, given normalised weights. */
function pick(weights: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

function normalise(w: readonly number[]): number[] {
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/**
 * Bandwidth of each component (the prior last): the larger distance to its sorted neighbours,
 * except that the outermost observations use their inner neighbour only, clipped to
 * [range / min(100, 1 + components), range]; the prior spans the whole range.
 */
function bandwidths(mus: readonly number[], low: number, high: number): number[] {
  const order = mus.map((_, i) => i).sort((a, b) => mus[a]! - mus[b]! || a - b);
  const sorted = [low, ...order.map((i) => mus[i]!), high];
  const m = order.length;
  const sigmas = new Array<number>(m).fill(0);
  for (let j = 1; j <= m; j++) sigmas[order[j - 1]!] = Math.max(sorted[j]! - sorted[j - 1]!, sorted[j + 1]! - sorted[j]!);
  if (m >= 2) {
    sigmas[order[0]!] = sorted[2]! - sorted[1]!;
    sigmas[order[m - 1]!] = sorted[m]! - sorted[m - 1]!;
  }
  const range = high - low;
  const minSigma = range / Math.min(100, 1 + m);
  const clipped = sigmas.map((s) => Math.min(range, Math.max(minSigma, s)));
  clipped[m - 1] = range;
  return clipped;
}

/** A mixture of Gaussians truncated to the domain, or of their discretisations on a grid. */
export class NumericParzen {
  private readonly mus: number[];
  private readonly sigmas: number[];
  private readonly weights: number[];
  private readonly logWeights: number[];
  /** Log of each component's mass inside the support, which truncation divides by. */
  private readonly logNorms: number[];
  /** The support: the domain, widened by half a step on each side for a grid. */
  private readonly lo: number;
  private readonly hi: number;

  constructor(
    observations: readonly number[],
    private readonly domain: NumericDomain,
    priorWeight: number,
  ) {
    const half = domain.step === null ? 0 : domain.step / 2;
    this.lo = domain.low - half;
    this.hi = domain.high + half;
    this.mus = [...observations, 0.5 * (this.lo + this.hi)];
    this.sigmas = bandwidths(this.mus, this.lo, this.hi);
    this.weights = normalise([...observationWeights(observations.length), priorWeight]);
    this.logWeights = this.weights.map((w) => Math.log(w));
    this.logNorms = this.mus.map((mu, k) => Math.log(normalMass((this.lo - mu) / this.sigmas[k]!, (this.hi - mu) / this.sigmas[k]!)));
  }

  sample(rng: Rng): number {
    const k = pick(this.weights, rng.next());
    const mu = this.mus[k]!;
    const sigma = this.sigmas[k]!;
    // Every mean lies inside the support and no bandwidth exceeds its width, so at least a third
    // of each component's mass is inside: rejection needs a few draws at most.
    let x = mu;
    for (let tries = 0; tries < 100; tries++) {
      const draw = mu + sigma * rng.normal();
      if (draw >= this.lo && draw <= this.hi) {
        x = draw;
        break;
      }
    }
    return this.snap(x);
  }

  logPdf(x: number): number {
    const step = this.domain.step;
    const terms = this.mus.map((mu, k) => {
      const sigma = this.sigmas[k]!;
      const density =
        step === null
          ? -0.5 * ((x - mu) / sigma) ** 2 - Math.log(sigma) - LOG_SQRT_2PI
          : Math.log(normalMass((x - step / 2 - mu) / sigma, (x + step / 2 - mu) / sigma));
      return this.logWeights[k]! + density - this.logNorms[k]!;
    });
    return logSumExp(terms);
  }

  private snap(x: number): number {
    const { low, high, step } = this.domain;
    if (step === null) return Math.min(high, Math.max(low, x));
    const j = Math.round((x - low) / step);
    return Math.min(high, Math.max(low, low + j * step));
  }
}

/** Categorical TPE: observation counts (weighted as above) plus a prior weight spread evenly. */
export class CategoricalParzen {
  private readonly probs: number[];

  constructor(observations: readonly number[], choices: number, priorWeight: number) {
    const counts = new Array<number>(choices).fill(priorWeight / choices);
    const w = observationWeights(observations.length);
    observations.forEach((c, i) => {
      counts[c] = (counts[c] ?? 0) + w[i]!;
    });
    this.probs = normalise(counts);
  }

  sample(rng: Rng): number {
    return pick(this.probs, rng.next());
  }

  logPdf(index: number): number {
    return Math.log(this.probs[index] ?? 0);
  }
}
