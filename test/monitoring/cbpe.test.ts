import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import {
  calibratorFromJSON,
  estimatePerformance,
  expectedCalibrationError,
  fitCbpe,
  fitIsotonic,
  needsCalibration,
  realisedPerformance,
  type PerformanceFigures,
} from '../../src/monitoring/index.js';
import { Random, classificationMetrics } from '../../src/training/index.js';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const logit = (p: number): number => Math.log(p / (1 - p));

/**
 * A binary problem whose P(y | x) is known: x ~ N(mean, I) in three dimensions, the true
 * probability p = sigmoid(w·x + b), y ~ Bernoulli(p). The reference has most rows far on the
 * positive side of the boundary; moving the mean of x₁ down brings the mass onto the boundary.
 */
const W = [1.5, -1.0, 0.8];
const B = 2;

interface Window {
  /** The true P(y = 1 | x) of each row: a perfectly calibrated model's scores. */
  p: Float64Array;
  y: Uint8Array;
}

function sample(random: Random, n: number, mean: readonly number[] = [0, 0, 0]): Window {
  const p = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let z = B;
    for (let k = 0; k < W.length; k++) z += W[k]! * random.normal(mean[k] ?? 0, 1);
    p[i] = sigmoid(z);
    y[i] = random.uniform() < p[i]! ? 1 : 0;
  }
  return { p, y };
}

const fmt = (f: PerformanceFigures): string =>
  `acc ${f.accuracy.toFixed(4)}  f1 ${f.f1.toFixed(4)}  prec ${f.precision.toFixed(4)}  rec ${f.recall.toFixed(4)}  auc ${f.rocAuc.toFixed(4)}`;

function expectRefusal(f: () => unknown, field: string, message?: RegExp): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(FluxError);
  expect((error as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
  expect((error as FluxError).details).toEqual({ field });
  if (message !== undefined) expect((error as Error).message).toMatch(message);
}

describe('CBPE on a synthetic problem with known P(y|x)', () => {
  const random = new Random(20240611);
  const reference = sample(random, 5000);
  const fit = fitCbpe({ scores: reference.p, labels: reference.y });

  it('1. estimates a no-drift window within 0.02 of its realised accuracy', () => {
    const live = sample(random, 5000);
    const realised = realisedPerformance(live.p, live.y);
    const raw = estimatePerformance(live.p);
    const fitted = estimatePerformance(live.p, { threshold: fit.threshold, calibrator: fit.calibrator });
    console.log(`[1] calibration ${fit.calibration.reason}: needed ${fit.calibration.needed} (ECE raw ${fit.calibration.rawEce?.toFixed(4)}, isotonic ${fit.calibration.calibratedEce?.toFixed(4)})`);
    console.log(`[1] realised            ${fmt(realised)}`);
    console.log(`[1] estimated (raw)     ${fmt(raw)}  ± ${raw.accuracyStdError.toFixed(4)}`);
    console.log(`[1] estimated (fitCbpe) ${fmt(fitted)}`);
    for (const e of [raw, fitted]) {
      expect(Math.abs(e.accuracy - realised.accuracy)).toBeLessThanOrEqual(0.02);
      // Over 200 seeds the worst F1 and AUC gaps were 0.013 and 0.024: 0.03 leaves the seed free.
      expect(Math.abs(e.f1 - realised.f1)).toBeLessThanOrEqual(0.03);
      expect(Math.abs(e.rocAuc - realised.rocAuc)).toBeLessThanOrEqual(0.03);
    }
  });

  it('2. follows covariate shift: accuracy drops, the estimate drops with it, within 0.05', () => {
    const shifted = sample(random, 5000, [-4 / 3, 0, 0]);
    const before = fit.referenceRealised;
    const realised = realisedPerformance(shifted.p, shifted.y);
    const estimate = estimatePerformance(shifted.p, { threshold: fit.threshold, calibrator: fit.calibrator });
    console.log(`[2] reference realised  ${fmt(before)}`);
    console.log(`[2] reference estimated ${fmt(fit.referenceEstimate)}`);
    console.log(`[2] shifted realised    ${fmt(realised)}`);
    console.log(`[2] shifted estimated   ${fmt(estimate)}  ± ${estimate.accuracyStdError.toFixed(4)}`);
    expect(realised.accuracy).toBeLessThan(before.accuracy - 0.03);
    expect(estimate.accuracy).toBeLessThan(fit.referenceEstimate.accuracy - 0.03);
    expect(Math.abs(estimate.accuracy - realised.accuracy)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(estimate.f1 - realised.f1)).toBeLessThanOrEqual(0.05);
  });

  it('3. miscalibrated scores: the raw estimate is off, isotonic calibration on the reference brings it within 0.02', () => {
    // Overconfident: twice the true logit. The decisions at 0.5 are the true p's, so only the
    // confidence is wrong, which is exactly what CBPE reads.
    const overconfident = (w: Window): Float64Array => w.p.map((p) => sigmoid(2 * logit(p)));
    const refScores = overconfident(reference);
    const live = sample(random, 5000);
    const liveScores = overconfident(live);
    const realised = realisedPerformance(liveScores, live.y);
    const raw = estimatePerformance(liveScores);
    const calibrator = fitIsotonic(refScores, reference.y);
    const calibrated = estimatePerformance(liveScores, { calibrator });
    const auto = fitCbpe({ scores: refScores, labels: reference.y });
    console.log(`[3] calibration ${auto.calibration.reason}: needed ${auto.calibration.needed} (ECE raw ${auto.calibration.rawEce?.toFixed(4)}, isotonic ${auto.calibration.calibratedEce?.toFixed(4)}); calibrator ${calibrator.x.length} knots`);
    console.log(`[3] realised             ${fmt(realised)}`);
    console.log(`[3] estimated (raw)      ${fmt(raw)}`);
    console.log(`[3] estimated (isotonic) ${fmt(calibrated)}`);
    expect(Math.abs(raw.accuracy - realised.accuracy)).toBeGreaterThan(0.04);
    expect(Math.abs(calibrated.accuracy - realised.accuracy)).toBeLessThanOrEqual(0.02);
    expect(auto.calibration.needed).toBe(true);
    // What is stored beside the model version gives the same estimate once read back.
    const stored = calibratorFromJSON(JSON.parse(JSON.stringify(auto.calibrator)));
    expect(estimatePerformance(liveScores, { calibrator: stored })).toEqual(estimatePerformance(liveScores, { calibrator: auto.calibrator }));
  });
});

/*
 * Golden values computed once with scikit-learn 1.2.1 (Debian's python3-sklearn; not needed to run
 * these tests) on the 40 rows below, which were drawn with numpy (default_rng(7): scores uniform,
 * rounded to one decimal so that most are tied; labels Bernoulli(score)):
 *   knots:   IsotonicRegression(out_of_bounds='clip', increasing=True).fit(s, y): X_thresholds_, y_thresholds_
 *   applied: the same regressor's .predict(Q)
 *   AUC:     sklearn.metrics.roc_auc_score(y, s)
 *   expected AUC of p = s and of p = 0.9 s: brute force Σᵢⱼ pᵢ(1 − pⱼ)·([sᵢ > sⱼ] + ½[sᵢ = sⱼ]) / (Σp · Σ(1 − p));
 *   NannyML's _estimate_roc_auc (ported to numpy) gives 0.8412284223203532 and 0.8129724547365316, the
 *   second lower by exactly the corner triangle fpr·tpr/2 of its top threshold (its curve omits (0, 0)).
 */
const GOLDEN_SCORES = [
  0.6, 0.9, 0.8, 0.2, 0.3, 0.9, 0.0, 0.8, 0.8, 0.5, 0.3, 0.3, 0.3, 0.4, 0.5, 0.6, 1.0, 0.8, 0.6, 1.0, 0.2, 0.2, 0.6, 0.0, 0.0, 0.5, 0.5, 0.9, 0.6, 0.5,
  0.5, 0.2, 0.0, 0.2, 0.7, 0.2, 0.4, 0.0, 0.8, 0.2,
];
const GOLDEN_LABELS = [1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1];
const SKLEARN_X = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0];
const SKLEARN_Y = [0.0, 0.14285714285714285, 0.25, 0.5, 0.5454545454545454, 0.5454545454545454, 1.0, 1.0];
const SKLEARN_Q = [0.0, 0.05, 0.12, 0.33, 0.5, 0.77, 0.95, 1.0];
const SKLEARN_PREDICT = [0.0, 0.03571428571428571, 0.0857142857142857, 0.32500000000000007, 0.5454545454545454, 1.0, 1.0, 1.0];
const SKLEARN_AUC = 0.89;
const EXPECTED_AUC = 0.8412284223203532;
const EXPECTED_AUC_090 = 0.8134333861868063;

describe('isotonic calibration', () => {
  it('4. PAV is exact on a hand case: violators pooled, flat runs kept by their ends, ties merged first', () => {
    // 0 | 1 0 0 pools to 1/3 over three points | 1 1; the middle knot of the flat run is dropped.
    const c = fitIsotonic([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0, 1, 0, 0, 1, 1]);
    expect(c.x).toEqual([0.1, 0.2, 0.4, 0.5, 0.6]);
    expect(c.y).toEqual([0, 1 / 3, 1 / 3, 1, 1]);
    expect(c.apply(0.3)).toBe(1 / 3);
    expect(c.apply(0.45)).toBeCloseTo(2 / 3, 15);
    expect(c.apply(0)).toBe(0);
    expect(c.apply(0.95)).toBe(1);
    expect(c.apply(NaN)).toBeNaN();
    // Tied scores are one point holding their mean label (scikit-learn's _make_unique).
    const tied = fitIsotonic([0.7, 0.2, 0.2], [1, 1, 0]);
    expect([tied.x, tied.y]).toEqual([
      [0.2, 0.7],
      [0.5, 1],
    ]);
    expect(fitIsotonic([0.3, 0.3], [0, 1]).apply(0.9)).toBe(0.5);
  });

  it('4. matches scikit-learn on tied scores', () => {
    const c = fitIsotonic(GOLDEN_SCORES, GOLDEN_LABELS);
    expect(c.x).toEqual(SKLEARN_X);
    c.y.forEach((v, i) => expect(v).toBeCloseTo(SKLEARN_Y[i]!, 14));
    SKLEARN_Q.forEach((q, i) => expect(c.apply(q)).toBeCloseTo(SKLEARN_PREDICT[i]!, 14));
  });

  it('4. is non-decreasing on noisy data and round-trips through JSON', () => {
    const random = new Random(5);
    const scores = Array.from({ length: 3000 }, () => random.uniform());
    const labels = scores.map((s) => (random.uniform() < s * s ? 1 : 0));
    const c = fitIsotonic(scores, labels);
    for (let i = 1; i < c.x.length; i++) {
      expect(c.x[i]!).toBeGreaterThan(c.x[i - 1]!);
      expect(c.y[i]!).toBeGreaterThanOrEqual(c.y[i - 1]!);
    }
    let previous = -1;
    for (let q = 0; q <= 1; q += 0.001) {
      const v = c.apply(q);
      expect(v).toBeGreaterThanOrEqual(previous);
      previous = v;
    }
    const json = JSON.stringify(c);
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['x', 'y']);
    const back = calibratorFromJSON(JSON.parse(json));
    expect([back.x, back.y]).toEqual([c.x, c.y]);
    for (const q of [0, 0.013, 0.5, 0.77, 1]) expect(back.apply(q)).toBe(c.apply(q));
  });

  it('4. refuses a malformed stored calibrator, naming the field', () => {
    expectRefusal(() => calibratorFromJSON(null), 'calibrator');
    expectRefusal(() => calibratorFromJSON([0, 1]), 'calibrator');
    expectRefusal(() => calibratorFromJSON({ y: [0.5] }), 'calibrator.x', /array/);
    expectRefusal(() => calibratorFromJSON({ x: [], y: [] }), 'calibrator.x', /empty/);
    expectRefusal(() => calibratorFromJSON({ x: [0.1], y: 'a' }), 'calibrator.y', /array/);
    expectRefusal(() => calibratorFromJSON({ x: [0.1, 0.2], y: [0.5] }), 'calibrator.y', /2/);
    expectRefusal(() => calibratorFromJSON({ x: [0.2, 0.1], y: [0, 1] }), 'calibrator.x', /strictly increasing/);
    expectRefusal(() => calibratorFromJSON({ x: [0.1, 0.1], y: [0, 1] }), 'calibrator.x', /strictly increasing/);
    expectRefusal(() => calibratorFromJSON({ x: [0.1, 0.2], y: [1, 0] }), 'calibrator.y', /non-decreasing/);
    expectRefusal(() => calibratorFromJSON({ x: [0.1, '0.2'], y: [0, 1] }), 'calibrator.x', /x\[1\]/);
    expectRefusal(() => calibratorFromJSON({ x: [0.1, 0.2], y: [0, 1.5] }), 'calibrator.y', /\[0, 1\]/);
    expectRefusal(() => calibratorFromJSON({ x: [0.1, 0.2], y: [0, null] }), 'calibrator.y');
  });
});

describe('performance figures', () => {
  it('5. realised ROC AUC counts ties one half (hand case and scikit-learn)', () => {
    // Positives 0.4 and 0.8 against negatives 0.1 and 0.4: 1 + ½ + 1 + 1 of 4 pairs.
    expect(realisedPerformance([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1]).rocAuc).toBe(0.875);
    expect(realisedPerformance(GOLDEN_SCORES, GOLDEN_LABELS).rocAuc).toBeCloseTo(SKLEARN_AUC, 14);
    expect(realisedPerformance([0.2, 0.7], [1, 1]).rocAuc).toBeNaN();
  });

  it('5. realised figures agree with training metrics (same threshold rule)', () => {
    const random = new Random(11);
    const scores = Float64Array.from({ length: 2000 }, () => Math.round(random.uniform() * 20) / 20);
    const labels = Float64Array.from(scores, (s) => (random.uniform() < s ? 1 : 0));
    for (const threshold of [0.5, 0.3]) {
      const mine = realisedPerformance(scores, labels, threshold);
      const theirs = classificationMetrics(labels, scores, threshold);
      expect(mine.accuracy).toBe(theirs.accuracy);
      expect(mine.precision).toBe(theirs.precision);
      expect(mine.recall).toBe(theirs.recall);
      expect(mine.f1).toBe(theirs.f1);
      expect(mine.rocAuc).toBeCloseTo(theirs.roc_auc, 14);
      const [[tn, fp], [fn, tp]] = theirs.confusion_matrix;
      expect(mine.confusion).toEqual({ tp, fp, fn, tn });
    }
  });

  it('5. scores that are all 0 or 1 are estimated exactly', () => {
    const scores = [1, 0, 1, 0, 0];
    const e = estimatePerformance(scores);
    expect(e).toEqual({
      rows: 5,
      accuracy: 1,
      precision: 1,
      recall: 1,
      f1: 1,
      rocAuc: 1,
      confusion: { tp: 2, fp: 0, fn: 0, tn: 3 },
      accuracyStdError: 0,
    });
    const { accuracyStdError: _se, ...figures } = e;
    expect(realisedPerformance(scores, scores)).toEqual(figures);
    // With no row predicted positive, precision and F1 are 0, not NaN.
    expect(estimatePerformance([0, 0, 1], { threshold: 1 })).toMatchObject({ accuracy: 2 / 3, precision: 0, recall: 0, f1: 0 });
  });

  it('5. expected confusion matrix and ROC AUC on a hand case and against the brute-force expectation', () => {
    // tp = 0.9 + 0.6, fp = 0.1 + 0.4, fn = 0.3 + 0.2, tn = 0.7 + 0.8. AUC: (1.71 + 0.90 + 0.24
    // ordered pairs + ½ · 0.70 for each row's tie with itself) / (2 · 2).
    const e = estimatePerformance([0.9, 0.6, 0.3, 0.2]);
    expect(e.confusion.tp).toBeCloseTo(1.5, 15);
    expect(e.confusion.fp).toBeCloseTo(0.5, 15);
    expect(e.confusion.fn).toBeCloseTo(0.5, 15);
    expect(e.confusion.tn).toBeCloseTo(1.5, 15);
    for (const v of [e.accuracy, e.precision, e.recall, e.f1]) expect(v).toBeCloseTo(0.75, 15);
    expect(e.rocAuc).toBeCloseTo(0.8, 15);
    expect(e.accuracyStdError).toBeCloseTo(Math.sqrt(0.7) / 4, 15);
    expect(estimatePerformance(GOLDEN_SCORES).rocAuc).toBeCloseTo(EXPECTED_AUC, 14);
    expect(estimatePerformance(GOLDEN_SCORES.map((s) => 0.9 * s)).rocAuc).toBeCloseTo(EXPECTED_AUC_090, 14);
    // A score exactly at the threshold is predicted negative, as the served predictor decides.
    expect(estimatePerformance([0.5]).confusion).toEqual({ tp: 0, fp: 0, fn: 0.5, tn: 0.5 });
  });

  it('5. the calibrator changes the probabilities, not the predictions', () => {
    const calibrator = calibratorFromJSON({ x: [0, 1], y: [0.2, 0.4] });
    const e = estimatePerformance([0.9, 0.1], { calibrator });
    // 0.9 is still predicted positive although it calibrates to 0.38.
    expect(e.confusion.tp).toBeCloseTo(0.38, 15);
    expect(e.confusion.fn).toBeCloseTo(0.22, 15);
    const wild = { x: [0, 1], y: [0, 1], apply: (p: number) => 2 * p };
    expectRefusal(() => estimatePerformance([0.9], { calibrator: wild }), 'calibrator', /1\.8/);
  });
});

describe('deciding whether to calibrate', () => {
  it('follows NannyML: one class and separable references stay raw; ECE decides otherwise', () => {
    expect(needsCalibration([0.2, 0.7, 0.4], [1, 1, 1])).toMatchObject({ needed: false, reason: 'one-class' });
    expect(needsCalibration([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toMatchObject({ needed: false, reason: 'separable' });
    expect(needsCalibration([0.2, 0.6, 0.4], [1, 0, 1], { splits: 1 })).toMatchObject({ needed: false, reason: 'too-few-rows' });
    const check = needsCalibration(GOLDEN_SCORES, GOLDEN_LABELS);
    expect(check.reason).toBe('ece');
    expect(check.needed).toBe(check.calibratedEce! < check.rawEce!);
    expect(needsCalibration(GOLDEN_SCORES, GOLDEN_LABELS)).toEqual(check);
  });

  it('computes ECE over equal-count bins', () => {
    // Bins {0.1, 0.2} and {0.8, 0.9}: |0.15 − 0.5| · ½ + |0.85 − 1| · ½.
    expect(expectedCalibrationError([0.9, 0.1, 0.8, 0.2], [1, 1, 1, 0], 2)).toBeCloseTo(0.25, 15);
    // Five rows in two bins: the fifth joins the last, as NannyML's bin edges.
    expect(expectedCalibrationError([0.1, 0.2, 0.3, 0.4, 0.5], [0, 0, 1, 1, 1], 2)).toBeCloseTo((2 / 5) * 0.15 + (3 / 5) * 0.6, 15);
  });

  it('fitCbpe obeys always and never', () => {
    const reference = { scores: GOLDEN_SCORES, labels: GOLDEN_LABELS, threshold: 0.45 };
    const never = fitCbpe(reference, { calibration: 'never' });
    expect(never).toMatchObject({ threshold: 0.45, calibrator: null, calibration: { needed: false, reason: 'never' } });
    expect(never.referenceRealised).toEqual(realisedPerformance(GOLDEN_SCORES, GOLDEN_LABELS, 0.45));
    const always = fitCbpe(reference, { calibration: 'always' });
    expect(always.calibrator?.x).toEqual(SKLEARN_X);
    expect(always.referenceEstimate).toEqual(estimatePerformance(GOLDEN_SCORES, { threshold: 0.45, calibrator: always.calibrator }));
  });
});

describe('6. validation', () => {
  it('refuses bad input with the field named', () => {
    expectRefusal(() => estimatePerformance([]), 'scores', /empty/);
    expectRefusal(() => estimatePerformance('0.5' as unknown as number[]), 'scores', /array/);
    expectRefusal(() => estimatePerformance([0.2, NaN]), 'scores', /scores\[1\] is NaN/);
    expectRefusal(() => estimatePerformance([0.2, Infinity]), 'scores', /\[0, 1\]/);
    expectRefusal(() => estimatePerformance([1.5]), 'scores', /\[0, 1\]/);
    expectRefusal(() => estimatePerformance([-0.1]), 'scores');
    expectRefusal(() => estimatePerformance([null as unknown as number]), 'scores', /null/);
    expectRefusal(() => estimatePerformance([0.5], { threshold: 2 }), 'threshold');
    expectRefusal(() => estimatePerformance([0.5], { threshold: NaN }), 'threshold');
    expectRefusal(() => realisedPerformance([0.5, 0.2], [1]), 'labels', /1 values but scores has 2/);
    expectRefusal(() => realisedPerformance([0.5], [2]), 'labels', /0 or 1/);
    expectRefusal(() => realisedPerformance([0.5], ['1' as unknown as number]), 'labels', /"1"/);
    expectRefusal(() => realisedPerformance([0.5], [1], -1), 'threshold');
    expectRefusal(() => fitIsotonic([0.5, 0.2], [1, 0, 1]), 'labels');
    expectRefusal(() => fitIsotonic([], []), 'scores', /empty/);
    expectRefusal(() => expectedCalibrationError([0.5], [1], 2), 'bins');
    expectRefusal(() => needsCalibration([0.5, 0.2], [1, 0], { splits: 0 }), 'splits');
    expectRefusal(() => fitCbpe(null as unknown as { scores: number[]; labels: number[] }), 'reference');
    expectRefusal(() => fitCbpe({ scores: [0.5, 7], labels: [1, 0] }), 'reference.scores');
    expectRefusal(() => fitCbpe({ scores: [0.5, 0.2], labels: [1] }), 'reference.labels');
    expectRefusal(() => fitCbpe({ scores: [0.5, 0.2], labels: [1, 0], threshold: 1.1 }), 'reference.threshold');
    expectRefusal(() => fitCbpe({ scores: [0.5, 0.2], labels: [1, 0] }, { calibration: 'sometimes' as 'auto' }), 'calibration');
  });
});
