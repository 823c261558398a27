import { invalid } from '../core/index.js';

export interface Standardizer {
  mean: Float64Array;
  /** Population standard deviation per feature; 1 for a constant feature (as scikit-learn). */
  scale: Float64Array;
}

/**
 * Fit mean and scale on a row-major n×d matrix, like scikit-learn's StandardScaler: the scale is
 * the population (ddof=0) standard deviation, and a feature that is constant up to rounding gets
 * scale 1 so transforming it gives zeros instead of dividing by (almost) zero.
 */
export function fitStandardizer(X: Float64Array, n: number, d: number): Standardizer {
  if (n < 1 || X.length !== n * d) throw invalid(`matrix of ${X.length} values does not have ${n} rows of ${d}`);
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  for (let i = 0, k = 0; i < n; i++) {
    for (let j = 0; j < d; j++, k++) mean[j]! += X[k]!;
  }
  for (let j = 0; j < d; j++) mean[j]! /= n;
  // Two passes: the centred sum of squares does not cancel catastrophically.
  for (let i = 0, k = 0; i < n; i++) {
    for (let j = 0; j < d; j++, k++) {
      const t = X[k]! - mean[j]!;
      m2[j]! += t * t;
    }
  }
  const scale = new Float64Array(d);
  const eps = Number.EPSILON;
  for (let j = 0; j < d; j++) {
    const variance = m2[j]! / n;
    const mu = mean[j]!;
    // scikit-learn's test for a constant feature: variance within rounding error of zero.
    const bound = n * eps * variance + (n * mu * eps) ** 2;
    scale[j] = variance <= bound ? 1 : Math.sqrt(variance);
  }
  return { mean, scale };
}

/** (x − mean) / scale, in place. */
export function standardizeInPlace(X: Float64Array, d: number, s: Standardizer): Float64Array {
  const { mean, scale } = s;
  for (let k = 0; k < X.length; ) {
    for (let j = 0; j < d; j++, k++) X[k] = (X[k]! - mean[j]!) / scale[j]!;
  }
  return X;
}

/** (x − mean) / scale, into a new matrix. */
export function standardize(X: Float64Array, d: number, s: Standardizer): Float64Array {
  return standardizeInPlace(Float64Array.from(X), d, s);
}
