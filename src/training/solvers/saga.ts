import { Random } from '../../core/index.js';
import { type ProgressCallback, type Problem, type SolverResult, lossGrad } from './objective.js';

/**
 * SAGA (Defazio, Bach & Lacoste-Julien, 2014) with rows sampled uniformly by a seeded generator,
 * step 1/(3L), and the L2 term applied as a proximal step. One iteration is one epoch.
 */
export function saga(p: Problem, maxIter: number, tol: number, seed: number, onProgress?: ProgressCallback): SolverResult {
  const { X, y, n, d, lambda } = p;
  const dim = d + 1;
  const theta = new Float64Array(dim);
  const prev = new Float64Array(dim);
  const avg = new Float64Array(dim);
  const memory = new Float64Array(n);
  const rng = new Random(seed);
  // Per-row Lipschitz constant of the log loss is ‖x̃ᵢ‖²/4 (x̃ with the constant 1 of the intercept).
  let maxSq = 0;
  for (let i = 0, k = 0; i < n; i++, k += d) {
    let s = 1;
    for (let j = 0; j < d; j++) s += X[k + j]! * X[k + j]!;
    if (s > maxSq) maxSq = s;
  }
  const L = 0.25 * maxSq + lambda;
  const eta = 1 / (3 * L);
  const shrink = 1 / (1 + eta * lambda);
  const shrinkB = p.penalizeIntercept ? shrink : 1;
  // Start the gradient memory at θ = 0 (σ(0) = ½) rather than at zero, so the first epoch
  // already uses a full-gradient estimate.
  const invN = 1 / n;
  for (let i = 0, k = 0; i < n; i++, k += d) {
    const g = 0.5 - y[i]!;
    memory[i] = g;
    for (let j = 0; j < d; j++) avg[j]! += g * X[k + j]! * invN;
    avg[d]! += g * invN;
  }
  const scratch = onProgress ? new Float64Array(dim) : null;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    prev.set(theta);
    for (let t = 0; t < n; t++) {
      const i = Math.floor(rng.uniform() * n);
      const k = i * d;
      let z = theta[d]!;
      for (let j = 0; j < d; j++) z += X[k + j]! * theta[j]!;
      const e = Math.exp(-Math.abs(z));
      const g = (z >= 0 ? 1 / (1 + e) : e / (1 + e)) - y[i]!;
      const diff = g - memory[i]!;
      memory[i] = g;
      const dn = diff * invN;
      for (let j = 0; j < d; j++) {
        const x = X[k + j]!;
        theta[j] = (theta[j]! - eta * (diff * x + avg[j]!)) * shrink;
        avg[j]! += dn * x;
      }
      theta[d] = (theta[d]! - eta * (diff + avg[d]!)) * shrinkB;
      avg[d]! += dn;
    }
    iterations++;
    let change = 0;
    let size = 0;
    for (let j = 0; j < dim; j++) {
      change = Math.max(change, Math.abs(theta[j]! - prev[j]!));
      size = Math.max(size, Math.abs(theta[j]!));
    }
    if (scratch) onProgress?.(iterations, maxIter, lossGrad(p, theta, scratch));
    if (change <= tol * size) {
      converged = true;
      break;
    }
  }
  return { theta, iterations, converged, loss: lossGrad(p, theta, new Float64Array(dim)) };
}
