import { type ProgressCallback, type Problem, type SolverResult, dot, lossGrad, maxAbs } from './objective.js';

const LBFGS_MEMORY = 10;
/** Relative decrease of F below which L-BFGS stops, as scipy's L-BFGS-B with scikit-learn's ftol. */
const FTOL = 64 * Number.EPSILON;

/** L-BFGS with memory 10 and a strong-Wolfe line search; stops on max|∇F| ≤ tol or a stalled F. */
export function lbfgs(p: Problem, maxIter: number, tol: number, onProgress?: ProgressCallback): SolverResult {
  const dim = p.d + 1;
  const m = LBFGS_MEMORY;
  let x: Float64Array = new Float64Array(dim);
  let g: Float64Array = new Float64Array(dim);
  let f = lossGrad(p, x, g);
  const S = Array.from({ length: m }, () => new Float64Array(dim));
  const Y = Array.from({ length: m }, () => new Float64Array(dim));
  const rho = new Float64Array(m);
  const alphaBuf = new Float64Array(m);
  const dir = new Float64Array(dim);
  let sNew = new Float64Array(dim);
  let yNew = new Float64Array(dim);
  const ls = new LineSearch(p, dim);
  let stored = 0;
  let head = 0; // next slot to write
  let iterations = 0;
  let converged = maxAbs(g) <= tol;

  while (!converged && iterations < maxIter) {
    // Two-loop recursion: dir = −H·g.
    for (let i = 0; i < dim; i++) dir[i] = -g[i]!;
    for (let t = 0; t < stored; t++) {
      const s = (head - 1 - t + m) % m;
      const a = rho[s]! * dot(S[s]!, dir);
      alphaBuf[s] = a;
      const ys = Y[s]!;
      for (let i = 0; i < dim; i++) dir[i]! -= a * ys[i]!;
    }
    if (stored > 0) {
      const last = (head - 1 + m) % m;
      const yl = Y[last]!;
      const gamma = dot(S[last]!, yl) / dot(yl, yl);
      for (let i = 0; i < dim; i++) dir[i]! *= gamma;
    }
    for (let t = stored - 1; t >= 0; t--) {
      const s = (head - 1 - t + m) % m;
      const beta = rho[s]! * dot(Y[s]!, dir);
      const a = alphaBuf[s]! - beta;
      const ss = S[s]!;
      for (let i = 0; i < dim; i++) dir[i]! += a * ss[i]!;
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Curvature information went bad: restart from steepest descent.
      stored = 0;
      for (let i = 0; i < dim; i++) dir[i] = -g[i]!;
      slope = dot(g, dir);
    }
    const step0 = stored === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    const found = ls.search(x, f, dir, slope, step0);
    if (!found) break; // no decrease possible along dir: at the precision limit
    iterations++;
    const fPrev = f;
    // The new pair s = x⁺ − x, y = g⁺ − g replaces the oldest one, unless its curvature is too
    // small to keep the inverse-Hessian estimate positive definite.
    for (let i = 0; i < dim; i++) {
      sNew[i] = ls.x[i]! - x[i]!;
      yNew[i] = ls.g[i]! - g[i]!;
    }
    const sy = dot(sNew, yNew);
    if (sy > 1e-10 * dot(yNew, yNew)) {
      [S[head], sNew] = [sNew, S[head]!];
      [Y[head], yNew] = [yNew, Y[head]!];
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      if (stored < m) stored++;
    }
    [x, ls.x] = [ls.x, x];
    [g, ls.g] = [ls.g, g];
    f = ls.f;
    onProgress?.(iterations, maxIter, f);
    if (maxAbs(g) <= tol || (fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1) <= FTOL) converged = true;
  }
  return { theta: x, iterations, converged, loss: f };
}

/** Line search for the strong Wolfe conditions (Nocedal & Wright, algorithms 3.5 and 3.6). */
class LineSearch {
  /** The accepted point, its objective and gradient after a successful search. */
  x: Float64Array;
  g: Float64Array;
  f = 0;
  private readonly c1 = 1e-4;
  private readonly c2 = 0.9;
  private readonly maxEvals = 50;

  constructor(
    private readonly p: Problem,
    dim: number,
  ) {
    this.x = new Float64Array(dim);
    this.g = new Float64Array(dim);
  }

  private evaluate(x0: Float64Array, dir: Float64Array, step: number): number {
    const x = this.x;
    for (let i = 0; i < x.length; i++) x[i] = x0[i]! + step * dir[i]!;
    this.f = lossGrad(this.p, x, this.g);
    return this.f;
  }

  search(x0: Float64Array, f0: number, dir: Float64Array, slope0: number, step0: number): boolean {
    const { c1, c2 } = this;
    let evals = 0;
    let prevStep = 0;
    let prevF = f0;
    let prevSlope = slope0;
    let step = step0;
    let lo = 0;
    let hi = 0;
    let fLo = f0;
    let fHi = 0;
    let sLo = slope0;
    let sHi = 0;
    let bracketed = false;
    // Bracketing phase.
    while (evals < this.maxEvals) {
      const f = this.evaluate(x0, dir, step);
      evals++;
      const slope = dot(this.g, dir);
      if (!Number.isFinite(f) || f > f0 + c1 * step * slope0 || (evals > 1 && f >= prevF)) {
        [lo, fLo, sLo, hi, fHi, sHi] = [prevStep, prevF, prevSlope, step, f, slope];
        bracketed = true;
        break;
      }
      if (Math.abs(slope) <= -c2 * slope0) return true;
      if (slope >= 0) {
        [lo, fLo, sLo, hi, fHi, sHi] = [step, f, slope, prevStep, prevF, prevSlope];
        bracketed = true;
        break;
      }
      [prevStep, prevF, prevSlope] = [step, f, slope];
      step *= 2;
    }
    // Out of evaluations while still expanding: the last point met sufficient decrease.
    if (!bracketed) return prevStep > 0;
    // Zoom phase: lo always satisfies sufficient decrease and has the lowest objective so far.
    while (evals < this.maxEvals) {
      const width = hi - lo;
      let trial = cubicMinimizer(lo, fLo, sLo, hi, fHi, sHi);
      const a = Math.min(lo, hi);
      const b = Math.max(lo, hi);
      if (!Number.isFinite(trial) || trial < a + 0.1 * (b - a) || trial > b - 0.1 * (b - a)) trial = lo + 0.5 * width;
      if (Math.abs(width) < 1e-16 * Math.max(1, Math.abs(lo))) break;
      const f = this.evaluate(x0, dir, trial);
      evals++;
      const slope = dot(this.g, dir);
      if (!Number.isFinite(f) || f > f0 + c1 * trial * slope0 || f >= fLo) {
        [hi, fHi, sHi] = [trial, f, slope];
      } else {
        if (Math.abs(slope) <= -c2 * slope0) return true;
        if (slope * (hi - lo) >= 0) [hi, fHi, sHi] = [lo, fLo, sLo];
        [lo, fLo, sLo] = [trial, f, slope];
      }
    }
    // Wolfe not met within the budget: accept the best point if it decreased F at all.
    if (lo > 0 && fLo < f0) {
      this.evaluate(x0, dir, lo);
      return true;
    }
    return false;
  }
}

/** Minimiser of the cubic through (a, fa, da) and (b, fb, db); NaN when it has none. */
function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}
