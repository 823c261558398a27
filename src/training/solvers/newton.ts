import { type ProgressCallback, type Problem, type SolverResult, dot, lossGrad, maxAbs } from './objective.js';

/**
 * Newton's method (IRLS) with the exact Hessian, factorised by Cholesky. With d + 1 parameters the
 * (d+1)² Hessian is tiny, so each step costs one pass over the rows and it converges in a few.
 */
export function newton(p: Problem, maxIter: number, tol: number, onProgress?: ProgressCallback): SolverResult {
  const dim = p.d + 1;
  const theta = new Float64Array(dim);
  const trial = new Float64Array(dim);
  const grad = new Float64Array(dim);
  const scratch = new Float64Array(dim);
  const H = new Float64Array(dim * dim);
  const step = new Float64Array(dim);
  let f = 0;
  let iterations = 0;
  let converged = false;
  for (;;) {
    f = lossGradHessian(p, theta, grad, H);
    if (maxAbs(grad) <= tol) {
      converged = true;
      break;
    }
    if (iterations >= maxIter) break;

    for (let i = 0; i < dim; i++) scratch[i] = -grad[i]!;
    choleskySolve(H, dim, scratch, step);
    let slope = dot(grad, step);
    if (!(slope < 0)) {
      for (let i = 0; i < dim; i++) step[i] = -grad[i]!;
      slope = dot(grad, step);
    }
    // Backtracking (Armijo): a full Newton step is almost always taken; this guards the first
    // steps on nearly separable data.
    let t = 1;
    let fTrial = Number.NaN;
    for (let tries = 0; tries < 40; tries++, t *= 0.5) {
      for (let i = 0; i < dim; i++) trial[i] = theta[i]! + t * step[i]!;
      const ft = lossGrad(p, trial, scratch);
      if (ft <= f + 1e-4 * t * slope) {
        fTrial = ft;
        break;
      }
    }
    if (Number.isNaN(fTrial)) {
      // No decrease is representable along the step: the optimum is reached to rounding, and
      // the gradient cannot get smaller. Call that converged only if it is nearly within tol.
      converged = maxAbs(grad) <= Math.sqrt(tol);
      break;
    }
    theta.set(trial);
    iterations++;
    onProgress?.(iterations, maxIter, fTrial);
  }
  return { theta, iterations, converged, loss: f };
}

/** F(θ), ∇F into grad and the lower triangle of ∇²F into H (row-major dim×dim), in one pass. */
function lossGradHessian(p: Problem, theta: Float64Array, grad: Float64Array, H: Float64Array): number {
  const { X, y, n, d, lambda } = p;
  const dim = d + 1;
  const xi = new Float64Array(dim); // the row with the intercept's constant 1 appended
  xi[d] = 1;
  H.fill(0);
  grad.fill(0);
  let loss = 0;
  const b = theta[d]!;
  for (let i = 0, k = 0; i < n; i++, k += d) {
    let z = b;
    for (let j = 0; j < d; j++) {
      const v = X[k + j]!;
      xi[j] = v;
      z += v * theta[j]!;
    }
    const yi = y[i]!;
    const e = Math.exp(-Math.abs(z));
    loss += (z > 0 ? z : 0) + Math.log1p(e) - yi * z;
    const s = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    const g = s - yi;
    const w = s * (1 - s);
    for (let r = 0; r < dim; r++) {
      const xr = xi[r]!;
      grad[r]! += g * xr;
      const wx = w * xr;
      const row = r * dim;
      for (let c = 0; c <= r; c++) H[row + c]! += wx * xi[c]!;
    }
  }
  const inv = 1 / n;
  for (let r = 0; r < dim; r++) {
    grad[r] = grad[r]! * inv;
    for (let c = 0; c <= r; c++) H[r * dim + c]! *= inv;
  }
  let reg = 0;
  const penalised = p.penalizeIntercept ? dim : d;
  for (let j = 0; j < penalised; j++) {
    grad[j]! += lambda * theta[j]!;
    H[j * dim + j]! += lambda;
    reg += theta[j]! * theta[j]!;
  }
  return loss * inv + 0.5 * lambda * reg;
}

/**
 * Solve A·x = b for symmetric positive definite A (lower triangle used, row-major dim×dim). If
 * A is not numerically positive definite, a growing multiple of the identity is added.
 */
function choleskySolve(A: Float64Array, dim: number, b: Float64Array, out: Float64Array): void {
  const L = new Float64Array(dim * dim);
  let maxDiag = 0;
  for (let i = 0; i < dim; i++) maxDiag = Math.max(maxDiag, Math.abs(A[i * dim + i]!));
  let jitter = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (factor(A, L, dim, jitter)) {
      // Forward then back substitution.
      for (let i = 0; i < dim; i++) {
        let s = b[i]!;
        for (let k = 0; k < i; k++) s -= L[i * dim + k]! * out[k]!;
        out[i] = s / L[i * dim + i]!;
      }
      for (let i = dim - 1; i >= 0; i--) {
        let s = out[i]!;
        for (let k = i + 1; k < dim; k++) s -= L[k * dim + i]! * out[k]!;
        out[i] = s / L[i * dim + i]!;
      }
      return;
    }
    jitter = jitter === 0 ? Math.max(maxDiag, 1) * 1e-12 : jitter * 10;
  }
  // Hopeless: fall back to the gradient direction.
  out.set(b);
}

function factor(A: Float64Array, L: Float64Array, dim: number, jitter: number): boolean {
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * dim + j]! + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= L[i * dim + k]! * L[j * dim + k]!;
      if (i === j) {
        if (!(s > 0)) return false;
        L[i * dim + i] = Math.sqrt(s);
      } else {
        L[i * dim + j] = s / L[j * dim + j]!;
      }
    }
  }
  return true;
}
