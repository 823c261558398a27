import { describe, expect, it } from 'vitest';
import { Random, classificationMetrics, rocAuc } from '../../src/training/index.js';

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);

/** AUC by definition: over all (positive, negative) pairs, 1 if the positive scores higher, ½ on ties. */
function pairwiseAuc(y: Float64Array, s: Float64Array): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      sum += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

describe('classificationMetrics', () => {
  it('matches a small case computed by hand', () => {
    // Predictions (p > 0.5): 0 0 0 1 → tn=2, fp=0, fn=1, tp=1.
    const m = classificationMetrics(f64([0, 0, 1, 1]), f64([0.1, 0.4, 0.35, 0.8]));
    expect(m.confusion_matrix).toEqual([
      [2, 0],
      [1, 1],
    ]);
    expect(m.accuracy).toBe(0.75);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(0.5);
    expect(m.f1).toBeCloseTo(2 / 3, 15);
    // Positive/negative pairs: (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) → 3/4.
    expect(m.roc_auc).toBe(0.75);
    const ll = -(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8)) / 4;
    expect(m.log_loss).toBeCloseTo(ll, 14);
  });

  it('counts tied scores as one half in the AUC, and a probability of exactly the threshold as negative', () => {
    // Pairs: (0.5 vs 0.5) = ½, (0.5 vs 0.2) = 1, (0.9 vs 0.5) = 1, (0.9 vs 0.2) = 1 → 3.5/4.
    const m = classificationMetrics(f64([0, 1, 0, 1]), f64([0.5, 0.5, 0.2, 0.9]));
    expect(m.roc_auc).toBe(0.875);
    expect(m.confusion_matrix).toEqual([
      [2, 0],
      [1, 1],
    ]);
    expect(rocAuc(f64([0, 1, 0, 1]), f64([0.3, 0.3, 0.3, 0.3]))).toBe(0.5);
    expect(rocAuc(f64([1, 1, 0, 0]), f64([0.1, 0.2, 0.3, 0.4]))).toBe(0);
  });

  it('agrees with the pairwise definition on random scores with many ties', () => {
    const rng = new Random(3);
    const n = 400;
    const y = new Float64Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rng.uniform() < 0.3 ? 1 : 0;
      s[i] = Math.round((rng.uniform() * 0.6 + y[i]! * 0.3) * 20) / 20;
    }
    expect(rocAuc(y, s)).toBeCloseTo(pairwiseAuc(y, s), 12);
  });

  it('gives 0 instead of dividing by zero, as zero_division=0', () => {
    const m = classificationMetrics(f64([0, 1, 0]), f64([0.1, 0.2, 0.3]));
    expect(m.precision).toBe(0);
    expect(m.recall).toBe(0);
    expect(m.f1).toBe(0);
    expect(m.accuracy).toBeCloseTo(2 / 3, 15);
    const none = classificationMetrics(f64([0, 0]), f64([0.1, 0.2]));
    expect(none.recall).toBe(0);
    expect(none.f1).toBe(0);
  });

  it('gives NaN for the AUC when only one class is present', () => {
    expect(classificationMetrics(f64([1, 1]), f64([0.7, 0.8])).roc_auc).toBeNaN();
  });

  it('clips probabilities at 1e-15 in the log loss', () => {
    const m = classificationMetrics(f64([1, 0]), f64([0, 1]));
    // As scikit-learn: clip to [1e-15, 1 − 1e-15], then take 1 − p in floating point.
    expect(m.log_loss).toBeCloseTo((-Math.log(1e-15) - Math.log(1 - (1 - 1e-15))) / 2, 12);
    expect(m.log_loss).toBeCloseTo(34.539, 3);
    expect(Number.isFinite(m.log_loss)).toBe(true);
    expect(classificationMetrics(f64([1, 0]), f64([1, 0])).log_loss).toBeCloseTo(-Math.log(1 - 1e-15), 12);
  });

  it('honours a custom threshold', () => {
    const m = classificationMetrics(f64([0, 1, 1]), f64([0.2, 0.3, 0.9]), 0.25);
    expect(m.confusion_matrix).toEqual([
      [1, 0],
      [0, 2],
    ]);
  });

  it('refuses mismatched lengths, labels other than 0/1, and probabilities outside [0, 1]', () => {
    expect(() => classificationMetrics(f64([0, 1]), f64([0.5]))).toThrow(/2 labels but 1 probabilities/);
    expect(() => classificationMetrics(f64([0, 2]), f64([0.5, 0.5]))).toThrow(/labels must be 0 or 1; row 2 has 2/);
    expect(() => classificationMetrics(f64([0, 1]), f64([0.5, 1.5]))).toThrow(/probabilities must be in \[0, 1\]; row 2/);
    expect(() => classificationMetrics(f64([]), f64([]))).toThrow(/zero rows/);
    expect(() => classificationMetrics(f64([0]), f64([0.5]), 2)).toThrow(/threshold/);
  });
});
