import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/errors.js';
import {
  type LogisticRegressionFit,
  Random,
  SOLVERS,
  fitLogisticRegression,
  fitStandardizer,
  generateDiabetesCsv,
  loadCsv,
  selectFeatures,
  standardizeInPlace,
} from '../../src/training/index.js';

interface Problem {
  X: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
}

/** The seeded demo data, standardised, as a fixed realistic problem (2,000 rows × 8 features). */
function demoProblem(): Problem {
  const ds = loadCsv(generateDiabetesCsv(2000, 11));
  const f = selectFeatures(ds, { target: 'Diabetic', exclude: ['PatientID'] });
  const d = f.featureNames.length;
  standardizeInPlace(f.X, d, fitStandardizer(f.X, f.rowCount, d));
  return { X: f.X, y: f.y, n: f.rowCount, d };
}

/**
 * Gradient of scikit-learn's objective 0.5·‖w‖² + C·Σ logloss, computed independently of the
 * library, divided by C·n (the scale the solvers' tol refers to).
 */
function objectiveGradient(p: Problem, fit: LogisticRegressionFit, C: number, penalizeIntercept = false): number[] {
  const g = new Array<number>(p.d + 1).fill(0);
  for (let i = 0; i < p.n; i++) {
    let z = fit.intercept;
    for (let j = 0; j < p.d; j++) z += p.X[i * p.d + j]! * fit.weights[j]!;
    const r = 1 / (1 + Math.exp(-z)) - p.y[i]!;
    for (let j = 0; j < p.d; j++) g[j]! += C * r * p.X[i * p.d + j]!;
    g[p.d]! += C * r;
  }
  for (let j = 0; j < p.d; j++) g[j]! += fit.weights[j]!;
  if (penalizeIntercept) g[p.d]! += fit.intercept;
  return g.map((v) => v / (C * p.n));
}

const maxAbs = (v: number[]): number => Math.max(...v.map(Math.abs));

describe('fitLogisticRegression', () => {
  const p = demoProblem();

  it('lbfgs and newton agree within 1e-4 at convergence, and reach a stationary point', () => {
    const lbfgs = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'lbfgs', tol: 1e-8, maxIter: 500 });
    const newton = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'newton', tol: 1e-8 });
    expect(lbfgs.converged).toBe(true);
    expect(newton.converged).toBe(true);
    for (let j = 0; j < p.d; j++) expect(Math.abs(lbfgs.weights[j]! - newton.weights[j]!)).toBeLessThan(1e-4);
    expect(Math.abs(lbfgs.intercept - newton.intercept)).toBeLessThan(1e-4);
    expect(maxAbs(objectiveGradient(p, lbfgs, 1))).toBeLessThan(1e-7);
    expect(maxAbs(objectiveGradient(p, newton, 1))).toBeLessThan(1e-7);
    // Newton converges quadratically: a handful of steps.
    expect(newton.iterations).toBeLessThanOrEqual(10);
  });

  it('stops lbfgs at the default tol with max|gradient| ≤ 1e-4, as scikit-learn', () => {
    const fit = fitLogisticRegression(p.X, p.y, p.n, p.d);
    expect(fit.solver).toBe('lbfgs');
    expect(fit.converged).toBe(true);
    expect(maxAbs(objectiveGradient(p, fit, 1))).toBeLessThan(1e-4);
  });

  it('saga converges to the same solution', () => {
    const newton = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'newton', tol: 1e-10 });
    const saga = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'saga', tol: 1e-6, maxIter: 1000 });
    expect(saga.converged).toBe(true);
    for (let j = 0; j < p.d; j++) expect(Math.abs(saga.weights[j]! - newton.weights[j]!)).toBeLessThan(1e-4);
    expect(Math.abs(saga.intercept - newton.intercept)).toBeLessThan(1e-4);
  });

  it('saga is deterministic for a seed and depends on it', () => {
    const a = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'saga', maxIter: 3, seed: 5 });
    const b = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'saga', maxIter: 3, seed: 5 });
    const c = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'saga', maxIter: 3, seed: 6 });
    expect(a.weights).toEqual(b.weights);
    expect(a.weights).not.toEqual(c.weights);
  });

  it('liblinear penalises the intercept: stationary for that objective, not for the unpenalised one', () => {
    const C = 0.01; // strong regularisation makes the difference visible
    const lib = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'liblinear', C, tol: 1e-10 });
    const newton = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'newton', C, tol: 1e-10 });
    expect(maxAbs(objectiveGradient(p, lib, C, true))).toBeLessThan(1e-9);
    expect(maxAbs(objectiveGradient(p, newton, C, false))).toBeLessThan(1e-9);
    // The penalised intercept is pulled toward 0.
    expect(Math.abs(lib.intercept)).toBeLessThan(Math.abs(newton.intercept) - 0.01);
  });

  it('regularises more as C shrinks', () => {
    const norm = (f: LogisticRegressionFit): number => Math.hypot(...f.weights);
    const strong = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'newton', C: 0.001 });
    const weak = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'newton', C: 100 });
    expect(norm(strong)).toBeLessThan(norm(weak) / 2);
  });

  it('reports progress once per iteration with a non-increasing loss', () => {
    const calls: [number, number, number][] = [];
    const fit = fitLogisticRegression(p.X, p.y, p.n, p.d, { maxIter: 50, onProgress: (i, m, l) => calls.push([i, m, l]) });
    expect(calls.length).toBe(fit.iterations);
    expect(calls.map((c) => c[0])).toEqual(Array.from({ length: fit.iterations }, (_, i) => i + 1));
    expect(calls.every((c) => c[1] === 50)).toBe(true);
    for (let i = 1; i < calls.length; i++) expect(calls[i]![2]).toBeLessThanOrEqual(calls[i - 1]![2]);
    expect(calls.at(-1)![2]).toBeCloseTo(fit.loss, 12);
    for (const solver of ['newton', 'saga']) {
      let count = 0;
      const f = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver, maxIter: 5, onProgress: () => count++ });
      expect(count).toBe(f.iterations);
    }
  });

  it('says when it ran out of iterations', () => {
    const fit = fitLogisticRegression(p.X, p.y, p.n, p.d, { maxIter: 1 });
    expect(fit.iterations).toBe(1);
    expect(fit.converged).toBe(false);
    const saga = fitLogisticRegression(p.X, p.y, p.n, p.d, { solver: 'saga', maxIter: 1 });
    expect(saga.converged).toBe(false);
  });

  it('stays finite on separable data with a huge C', () => {
    const rng = new Random(1);
    const n = 200;
    const X = new Float64Array(n * 2);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      X[2 * i] = (y[i]! ? 1 : -1) * (1 + rng.uniform());
      X[2 * i + 1] = rng.normal();
    }
    for (const solver of SOLVERS) {
      const fit = fitLogisticRegression(X, y, n, 2, { solver, C: 1e6, maxIter: 50 });
      expect(fit.weights.every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(fit.intercept)).toBe(true);
      expect(fit.weights[0]).toBeGreaterThan(1);
    }
  });

  it('refuses unknown solvers and bad C, max_iter and tol with INVALID_PARAMETER_VALUE', () => {
    const bad = (opts: Parameters<typeof fitLogisticRegression>[4]): FluxError => {
      try {
        fitLogisticRegression(p.X, p.y, p.n, p.d, opts);
      } catch (e) {
        expect(e).toBeInstanceOf(FluxError);
        expect((e as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
        return e as FluxError;
      }
      throw new Error('expected an error');
    };
    expect(bad({ solver: 'sgd' }).message).toBe("unknown solver 'sgd'; available solvers: lbfgs, newton, liblinear, saga");
    expect(bad({ C: 0 }).message).toMatch(/C must be a finite number > 0, got 0/);
    expect(bad({ C: -1 }).message).toMatch(/C must be/);
    expect(bad({ C: Number.NaN }).message).toMatch(/C must be/);
    expect(bad({ C: Number.POSITIVE_INFINITY }).message).toMatch(/C must be/);
    expect(bad({ maxIter: 0 }).message).toMatch(/max_iter must be a positive integer, got 0/);
    expect(bad({ maxIter: 2.5 }).message).toMatch(/max_iter must be a positive integer/);
    expect(bad({ tol: 0 }).message).toMatch(/tol must be/);
  });

  it('refuses inconsistent shapes, labels other than 0/1 and non-finite features', () => {
    expect(() => fitLogisticRegression(new Float64Array(5), new Float64Array(2), 2, 2)).toThrow(/X has 5 values, expected 2×2/);
    expect(() => fitLogisticRegression(new Float64Array(4), new Float64Array(3), 2, 2)).toThrow(/y has 3 values/);
    expect(() => fitLogisticRegression(new Float64Array(4), Float64Array.from([0, 2]), 2, 2)).toThrow(/row 2 has 2/);
    expect(() => fitLogisticRegression(Float64Array.from([0, 1, NaN, 1]), Float64Array.from([0, 1]), 2, 2)).toThrow(
      /non-finite value at row 2, feature 1/,
    );
  });
});
