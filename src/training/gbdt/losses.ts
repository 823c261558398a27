/** The losses gradient boosting minimises, with their gradients, hessians and starting values. */
export type GbdtLoss = 'log_loss' | 'squared_error' | 'absolute_error';
export const GBDT_LOSSES: readonly GbdtLoss[] = ['log_loss', 'squared_error', 'absolute_error'];

/** A loss as gradientRange knows it (a worker runs that function's source, which has no imports). */
export const LOSS_CODE: Readonly<Record<GbdtLoss, number>> = { log_loss: 0, squared_error: 1, absolute_error: 2 };

/**
 * What applying a tree and computing the next gradients read and write, for single-output
 * losses (see addLeafValues and gradientRange below): the raw predictions, targets and weights of the
 * training rows, and the grown tree's leaves.
 */
export interface TreeApplication {
  code: number;
  raw: Float64Array;
  y: Float64Array;
  w: Float64Array | null;
  leafStart: Int32Array;
  leafEnd: Int32Array;
  leafValue: Float64Array;
}

/**
 * Adds one tree's leaf values to the raw predictions of the rows it holds: the rows of leaf v are
 * at positions leafStart[v]..leafEnd[v] of the grower's order (idx), clipped here to positions
 * [start, end) (parallel.ts gives threads shares). Like the other kernels of parallel.ts it uses
 * nothing from outside its body.
 */
export function addLeafValues(raw: Float64Array, idx: Uint32Array, leafStart: Int32Array, leafEnd: Int32Array, leafValue: Float64Array, leaves: number, start: number, end: number): void {
  for (let v = 0; v < leaves; v++) {
    const to = Math.min(leafEnd[v]!, end);
    const value = leafValue[v]!;
    for (let t = Math.max(leafStart[v]!, start); t < to; t++) raw[idx[t]!]! += value;
  }
}

/**
 * Gradients and hessians of rows [start, end) at their raw predictions, for a single output
 * (binary log loss, regression); `code` is LOSS_CODE. Log loss is the half binomial deviance
 * (g = p − y, h = p(1 − p)), squared error ½(r − y)² (g = r − y, h = 1), absolute error the sign of
 * r − y with h = 1 (the grower's leaves are re-fitted to the median residual); all weighted. It
 * uses nothing from outside its body (parallel.ts runs its source in workers).
 */
export function gradientRange(code: number, raw: Float64Array, y: Float64Array, w: Float64Array | null, g: Float64Array, h: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const r = raw[i]!;
    const wi = w === null ? 1 : w[i]!;
    if (code === 0) {
      let p: number;
      if (r >= 0) p = 1 / (1 + Math.exp(-r));
      else {
        const e = Math.exp(r);
        p = e / (1 + e);
      }
      g[i] = (p - y[i]!) * wi;
      h[i] = Math.max(p * (1 - p), 1e-16) * wi;
    } else if (code === 1) {
      g[i] = (r - y[i]!) * wi;
      h[i] = wi;
    } else {
      const e = r - y[i]!;
      g[i] = (e > 0 ? 1 : e < 0 ? -1 : 0) * wi;
      h[i] = wi;
    }
  }
}

/**
 * Multiclass log loss: per-row gradients and hessians of tree k of this iteration, from the
 * iteration's softmax `prob` (n×K, computed once for all K trees): g = p_k − [y = k], h = p_k(1 − p_k), weighted.
 */
export function multiclassGradients(K: number, k: number, y: Float64Array, w: Float64Array | null, g: Float64Array, h: Float64Array, prob: Float64Array): void {
  const n = y.length;
  for (let i = 0; i < n; i++) {
    const p = prob[i * K + k]!;
    const wi = w === null ? 1 : w[i]!;
    g[i] = (p - (y[i] === k ? 1 : 0)) * wi;
    h[i] = Math.max(p * (1 - p), 1e-16) * wi;
  }
}

/** Softmax of each row of an n×K raw matrix into out. */
export function softmaxRows(raw: Float64Array, n: number, K: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let max = -Infinity;
    for (let k = 0; k < K; k++) if (raw[o + k]! > max) max = raw[o + k]!;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(raw[o + k]! - max);
      out[o + k] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) out[o + k]! /= sum;
  }
}

/**
 * The weighted mean loss at raw predictions (n×K) over all rows or the given ones; log loss in
 * nats, squared error halved as optimised.
 */
export function meanLoss(loss: GbdtLoss, K: number, raw: Float64Array, y: Float64Array, w: Float64Array | null, rows: Uint32Array | null = null): number {
  const n = rows === null ? y.length : rows.length;
  let sum = 0;
  let wsum = 0;
  for (let t = 0; t < n; t++) {
    const i = rows === null ? t : rows[t]!;
    const wi = w === null ? 1 : w[i]!;
    let l: number;
    if (loss === 'log_loss' && K === 1) {
      const r = raw[i]!;
      // log(1 + e^r) − y·r, computed without overflow.
      l = (r > 0 ? r + Math.log1p(Math.exp(-r)) : Math.log1p(Math.exp(r))) - y[i]! * r;
    } else if (loss === 'log_loss') {
      const o = i * K;
      let max = -Infinity;
      for (let k = 0; k < K; k++) if (raw[o + k]! > max) max = raw[o + k]!;
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(raw[o + k]! - max);
      l = max + Math.log(s) - raw[o + y[i]!]!;
    } else if (loss === 'squared_error') {
      const r = raw[i]! - y[i]!;
      l = 0.5 * r * r;
    } else {
      l = Math.abs(raw[i]! - y[i]!);
    }
    sum += l * wi;
    wsum += wi;
  }
  return sum / wsum;
}

/** The constant raw prediction that minimises the loss: log-odds, log class priors, mean or median. */
export function baseline(loss: GbdtLoss, K: number, y: Float64Array, w: Float64Array | null): Float64Array {
  const n = y.length;
  const out = new Float64Array(K);
  if (loss === 'log_loss') {
    const counts = new Float64Array(Math.max(K, 2));
    let total = 0;
    for (let i = 0; i < n; i++) {
      const wi = w === null ? 1 : w[i]!;
      counts[y[i]!]! += wi;
      total += wi;
    }
    const eps = 2.220446049250313e-16;
    if (K === 1) {
      const p = Math.min(Math.max(counts[1]! / total, eps), 1 - eps);
      out[0] = Math.log(p / (1 - p));
      return out;
    }
    let mean = 0;
    for (let k = 0; k < K; k++) {
      out[k] = Math.log(Math.min(Math.max(counts[k]! / total, eps), 1 - eps));
      mean += out[k]! / K;
    }
    for (let k = 0; k < K; k++) out[k]! -= mean;
    return out;
  }
  if (loss === 'squared_error') {
    let s = 0;
    let ws = 0;
    for (let i = 0; i < n; i++) {
      const wi = w === null ? 1 : w[i]!;
      s += y[i]! * wi;
      ws += wi;
    }
    out[0] = s / ws;
    return out;
  }
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  out[0] = weightedMedian(y, w, all, 0, n);
  return out;
}

/**
 * The weighted median of v over idx[start..end): the smallest value whose cumulative weight
 * reaches half the total (scikit-learn's weighted 50th percentile).
 */
export function weightedMedian(v: Float64Array, w: Float64Array | null, idx: Uint32Array, start: number, end: number): number {
  const m = end - start;
  if (m === 0) return 0;
  const vals = new Float64Array(m);
  for (let t = 0; t < m; t++) vals[t] = v[idx[start + t]!]!;
  if (w === null) {
    vals.sort();
    // The lower median, as the weighted percentile with equal weights.
    return vals[Math.ceil(m / 2) - 1]!;
  }
  const order = Array.from({ length: m }, (_, t) => t).sort((a, b) => vals[a]! - vals[b]!);
  let total = 0;
  for (let t = 0; t < m; t++) total += w[idx[start + t]!]!;
  let acc = 0;
  for (const t of order) {
    acc += w[idx[start + t]!]!;
    if (acc >= total / 2) return vals[t]!;
  }
  return vals[order[m - 1]!]!;
}
