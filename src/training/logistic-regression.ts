import { FluxError, invalid } from '../core/index.js';
import { lbfgs } from './solvers/lbfgs.js';
import { newton } from './solvers/newton.js';
import type { ProgressCallback, Problem, SolverResult } from './solvers/objective.js';
import { saga } from './solvers/saga.js';

/**
 * Binary logistic regression with an L2 penalty, minimising scikit-learn's objective
 *
 *     0.5·‖w‖² + C·Σᵢ logloss(yᵢ, xᵢ·w + b)          (the intercept b is not penalised)
 *
 * Internally every solver works on that objective divided by C·n — the same minimiser, but a
 * per-row average whose gradient scale does not grow with n — which is also what scikit-learn's
 * lbfgs does, so `tol` means the same thing here: stop when max|∇| ≤ tol.
 *
 * Solvers:
 * - lbfgs: L-BFGS (memory 10) with a line search satisfying the strong Wolfe conditions.
 * - newton: Newton's method (IRLS) with the exact Hessian solved by Cholesky; d is small, so each
 *   step is cheap and it converges in a handful of steps to machine precision.
 * - liblinear: the Newton solver on liblinear's objective, which penalises the intercept too
 *   (liblinear appends a constant feature of 1 to every row and regularises its weight like the
 *   others). Results match scikit-learn's solver='liblinear' with intercept_scaling=1, not lbfgs.
 * - saga: SAGA (Defazio et al., 2014), stochastic with a seeded sampler, step 1/(3L) where L is
 *   the largest per-row Lipschitz constant; the L2 term is applied as a proximal step. One
 *   iteration is one epoch of n sampled rows; it stops when the largest weight change over an
 *   epoch relative to the largest weight is ≤ tol (scikit-learn's criterion for sag/saga).
 */
export const SOLVERS = ['lbfgs', 'newton', 'liblinear', 'saga'] as const;
export type Solver = (typeof SOLVERS)[number];

export type { ProgressCallback };

export interface LogisticRegressionOptions {
  /** Inverse regularisation strength; > 0. Default 1. */
  C?: number;
  /** Iterations (epochs for saga); a positive integer. Default 100. */
  maxIter?: number;
  /** Default 'lbfgs'. */
  solver?: string;
  /** Stopping tolerance; default 1e-4. */
  tol?: number;
  /** Seed of saga's row sampler. Default 42. */
  seed?: number;
  /** Called once per iteration with the objective divided by C·n. */
  onProgress?: ProgressCallback;
}

export interface LogisticRegressionFit {
  weights: number[];
  intercept: number;
  /** Iterations (epochs for saga) actually run. */
  iterations: number;
  converged: boolean;
  /** Final objective divided by C·n (the penalised mean log loss). */
  loss: number;
  solver: Solver;
}

export function isSolver(s: string): s is Solver {
  return (SOLVERS as readonly string[]).includes(s);
}

/** Fit on a row-major n×d matrix X and 0/1 labels y. */
export function fitLogisticRegression(
  X: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  options: LogisticRegressionOptions = {},
): LogisticRegressionFit {
  const C = options.C ?? 1;
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-4;
  const solver = options.solver ?? 'lbfgs';
  if (!isSolver(solver)) throw invalid(`unknown solver '${solver}'; available solvers: ${SOLVERS.join(', ')}`);
  if (!(Number.isFinite(C) && C > 0)) throw invalid(`C must be a finite number > 0, got ${C}`);
  if (!(Number.isInteger(maxIter) && maxIter > 0)) throw invalid(`max_iter must be a positive integer, got ${maxIter}`);
  if (!(Number.isFinite(tol) && tol > 0)) throw invalid(`tol must be a finite number > 0, got ${tol}`);
  if (!(Number.isInteger(n) && n > 0 && Number.isInteger(d) && d > 0)) throw invalid(`need at least one row and one feature (got ${n}×${d})`);
  if (X.length !== n * d) throw invalid(`X has ${X.length} values, expected ${n}×${d} = ${n * d}`);
  if (y.length !== n) throw invalid(`y has ${y.length} values, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (v !== 0 && v !== 1) throw new FluxError('INVALID_DATA', `labels must be 0 or 1; row ${i + 1} has ${v}`);
  }
  for (let k = 0; k < X.length; k++) {
    if (!Number.isFinite(X[k])) throw new FluxError('INVALID_DATA', `feature matrix has a non-finite value at row ${Math.floor(k / d) + 1}, feature ${(k % d) + 1}`);
  }

  const problem: Problem = { X, y, n, d, lambda: 1 / (C * n), penalizeIntercept: solver === 'liblinear' };
  const onProgress = options.onProgress;
  let result: SolverResult;
  switch (solver) {
    case 'lbfgs':
      result = lbfgs(problem, maxIter, tol, onProgress);
      break;
    case 'newton':
    case 'liblinear':
      result = newton(problem, maxIter, tol, onProgress);
      break;
    case 'saga':
      result = saga(problem, maxIter, tol, options.seed ?? 42, onProgress);
      break;
  }
  const { theta, iterations, converged, loss } = result;
  return { weights: Array.from(theta.subarray(0, d)), intercept: theta[d]!, iterations, converged, loss, solver };
}
