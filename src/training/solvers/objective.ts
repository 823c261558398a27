/** Called once per iteration (epoch for saga) with the objective divided by C·n. */
export type ProgressCallback = (iteration: number, maxIter: number, loss: number) => void;

/** The fitting problem shared by every solver; θ holds d weights then the intercept. */
export interface Problem {
  X: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
  /** 1/(C·n): the L2 weight of the scaled objective. */
  lambda: number;
  penalizeIntercept: boolean;
}

/** θ holds d weights then the intercept. Returns F(θ) and writes ∇F into grad. */
export function lossGrad(p: Problem, theta: Float64Array, grad: Float64Array): number {
  const { X, y, n, d, lambda } = p;
  const b = theta[d]!;
  grad.fill(0);
  let loss = 0;
  let gb = 0;
  for (let i = 0, k = 0; i < n; i++, k += d) {
    let z = b;
    for (let j = 0; j < d; j++) z += X[k + j]! * theta[j]!;
    const yi = y[i]!;
    const e = Math.exp(-Math.abs(z));
    // log(1 + exp(z)) − y·z and σ(z) − y, both without overflow.
    loss += (z > 0 ? z : 0) + Math.log1p(e) - yi * z;
    const g = (z >= 0 ? 1 / (1 + e) : e / (1 + e)) - yi;
    gb += g;
    for (let j = 0; j < d; j++) grad[j]! += g * X[k + j]!;
  }
  const inv = 1 / n;
  let reg = 0;
  for (let j = 0; j < d; j++) {
    const w = theta[j]!;
    grad[j] = grad[j]! * inv + lambda * w;
    reg += w * w;
  }
  grad[d] = gb * inv;
  if (p.penalizeIntercept) {
    grad[d] += lambda * b;
    reg += b * b;
  }
  return loss * inv + 0.5 * lambda * reg;
}

export function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (a > m) m = a;
  }
  return m;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export interface SolverResult {
  theta: Float64Array;
  iterations: number;
  converged: boolean;
  loss: number;
}
