import { readLabels, readScores, refuse } from './score-inputs.js';

/**
 * A monotone map from a classifier's score to a calibrated probability, fitted on reference data
 * by isotonic regression. It is the piecewise-linear function through (x[i], y[i]), flat beyond
 * the ends, so that it can be stored as JSON beside a model version (`JSON.stringify` of a fitted
 * calibrator is `{"x": […], "y": […]}`) and read back with calibratorFromJSON.
 */
export interface Calibrator {
  /** Knots: strictly increasing scores in [0, 1]. */
  readonly x: readonly number[];
  /** Calibrated probability at each knot: non-decreasing, in [0, 1]. */
  readonly y: readonly number[];
  /** The calibrated probability of a score; NaN for NaN. */
  apply(score: number): number;
}

/** What a calibrator is stored as. */
export interface CalibratorJSON {
  x: number[];
  y: number[];
}

class PiecewiseLinearCalibrator implements Calibrator {
  constructor(
    readonly x: readonly number[],
    readonly y: readonly number[],
  ) {}

  apply(score: number): number {
    const { x, y } = this;
    const last = x.length - 1;
    // Clamped at the ends as scikit-learn's out_of_bounds="clip", which NannyML uses: a live score
    // beyond the reference range gets the probability of the nearest reference score.
    if (score <= x[0]!) return y[0]!;
    if (score >= x[last]!) return y[last]!;
    if (Number.isNaN(score)) return NaN;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (x[mid]! <= score) lo = mid;
      else hi = mid;
    }
    const x0 = x[lo]!;
    const y0 = y[lo]!;
    return y0 + ((score - x0) * (y[hi]! - y0)) / (x[hi]! - x0);
  }
}

/**
 * Fits isotonic regression (non-decreasing) of labels on scores by pool-adjacent-violators, as
 * scikit-learn's IsotonicRegression(increasing=True, out_of_bounds="clip"): tied scores are first
 * merged into one point holding their mean label, PAV pools adjacent points until the means never
 * decrease, and of each flat run only the first and last knot are kept (the others lie on the
 * line between them), so that the stored calibrator has as many knots as the fit has steps.
 */
export function fitIsotonic(scores: ArrayLike<number>, labels: ArrayLike<number>): Calibrator {
  const s = readScores(scores, 'scores');
  const l = readLabels(labels, 'labels', s.length, 'scores');
  const n = s.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => s[a]! - s[b]!);

  // Unique scores with their label sums and counts.
  const ux: number[] = [];
  const sum: number[] = [];
  const weight: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const v = s[i]!;
    if (ux.length > 0 && ux[ux.length - 1] === v) {
      sum[sum.length - 1]! += l[i]!;
      weight[weight.length - 1]!++;
    } else {
      ux.push(v);
      sum.push(l[i]!);
      weight.push(1);
    }
  }

  // PAV on a stack of blocks; a block is a run of unique scores sharing one fitted value.
  const m = ux.length;
  const blockSum: number[] = [];
  const blockWeight: number[] = [];
  const blockEnd: number[] = [];
  for (let j = 0; j < m; j++) {
    let bs = sum[j]!;
    let bw = weight[j]!;
    // Pool while the previous block's mean exceeds this one's (cross-multiplied: weights are > 0).
    while (blockSum.length > 0 && blockSum[blockSum.length - 1]! * bw > bs * blockWeight[blockWeight.length - 1]!) {
      bs += blockSum.pop()!;
      bw += blockWeight.pop()!;
      blockEnd.pop();
    }
    blockSum.push(bs);
    blockWeight.push(bw);
    blockEnd.push(j);
  }
  const fitted = new Float64Array(m);
  let start = 0;
  for (let b = 0; b < blockEnd.length; b++) {
    const mean = blockSum[b]! / blockWeight[b]!;
    for (let j = start; j <= blockEnd[b]!; j++) fitted[j] = mean;
    start = blockEnd[b]! + 1;
  }

  const x: number[] = [];
  const y: number[] = [];
  for (let j = 0; j < m; j++) {
    const inner = j > 0 && j < m - 1;
    if (!inner || fitted[j - 1] !== fitted[j] || fitted[j] !== fitted[j + 1]) {
      x.push(ux[j]!);
      y.push(fitted[j]!);
    }
  }
  return new PiecewiseLinearCalibrator(x, y);
}

/**
 * Reads a stored calibrator back, checking what apply relies on: equal non-empty lists, knots
 * strictly increasing in [0, 1], values non-decreasing in [0, 1]. Errors name the field.
 */
export function calibratorFromJSON(value: unknown): Calibrator {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refuse('a calibrator must be an object {"x": [...], "y": [...]}', 'calibrator');
  }
  const { x, y } = value as Record<string, unknown>;
  const list = (v: unknown, field: string): number[] => {
    if (!Array.isArray(v)) throw refuse(`${field} must be an array of numbers`, field);
    if (v.length === 0) throw refuse(`${field} is empty`, field);
    v.forEach((e, i) => {
      if (typeof e !== 'number' || !(e >= 0 && e <= 1)) throw refuse(`${field}[${i}] is ${JSON.stringify(e) ?? String(e)}; it must be a number in [0, 1]`, field);
    });
    return [...(v as number[])];
  };
  const xs = list(x, 'calibrator.x');
  const ys = list(y, 'calibrator.y');
  if (xs.length !== ys.length) throw refuse(`calibrator.y has ${ys.length} values but calibrator.x has ${xs.length}`, 'calibrator.y');
  for (let i = 1; i < xs.length; i++) {
    if (!(xs[i]! > xs[i - 1]!)) throw refuse(`calibrator.x must be strictly increasing; x[${i}] = ${xs[i]} follows ${xs[i - 1]}`, 'calibrator.x');
    if (ys[i]! < ys[i - 1]!) throw refuse(`calibrator.y must be non-decreasing; y[${i}] = ${ys[i]} follows ${ys[i - 1]}`, 'calibrator.y');
  }
  return new PiecewiseLinearCalibrator(xs, ys);
}
