import { formatGate, type Gate, type GateResult } from './types.js';

/** What the gates read of one deployment's traffic in a window (serving's DeploymentStats gives it). */
export interface TrafficWindow {
  /** Requests answered in the window (predictions, not refusals of bad input). */
  requests: number;
  /** Of those, the ones that failed on the server's side. */
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Predicted value (class, or a regressor's score as text) → rows. */
  classes: Record<string, number>;
}

/**
 * One server's share of a deployment's window: counts, a latency histogram and predicted values,
 * all of which add up across servers, so the controller of a rollout judges the traffic of every
 * replica and worker, not only its own. Latencies fall in log-spaced buckets 5 % wide.
 */
export interface WindowPart {
  requests: number;
  errors: number;
  /** Latency bucket index (latencyBucket) → requests. */
  latency: Record<string, number>;
  classes: Record<string, number>;
}

const BUCKET_BASE_MS = 0.01;
const BUCKET_GROWTH = Math.log(1.05);

/** The bucket of a latency: bucket i holds (upper(i-1), upper(i)] ms, upper(i) = 0.01 · 1.05^i. */
export function latencyBucket(ms: number): number {
  if (!(ms > BUCKET_BASE_MS)) return 0;
  return Math.ceil(Math.log(ms / BUCKET_BASE_MS) / BUCKET_GROWTH - 1e-9);
}

export function bucketUpperMs(i: number): number {
  return BUCKET_BASE_MS * Math.exp(i * BUCKET_GROWTH);
}

/** Adds parts; percentiles are read off the merged histogram (each the upper bound of its bucket: at most 5 % high). */
export function mergeParts(parts: readonly WindowPart[]): TrafficWindow {
  let requests = 0;
  let errors = 0;
  const latency = new Map<number, number>();
  const classes: Record<string, number> = {};
  for (const p of parts) {
    requests += p.requests;
    errors += p.errors;
    for (const [b, n] of Object.entries(p.latency)) latency.set(Number(b), (latency.get(Number(b)) ?? 0) + n);
    for (const [c, n] of Object.entries(p.classes)) classes[c] = (classes[c] ?? 0) + n;
  }
  const buckets = [...latency].sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((s, [, n]) => s + n, 0);
  const pct = (q: number): number => {
    if (total === 0) return 0;
    const rank = Math.ceil(q * total);
    let seen = 0;
    for (const [b, n] of buckets) {
      seen += n;
      if (seen >= rank) return bucketUpperMs(b);
    }
    return bucketUpperMs(buckets.at(-1)![0]);
  };
  return { requests, errors, errorRate: requests === 0 ? 0 : errors / requests, p50Ms: pct(0.5), p95Ms: pct(0.95), p99Ms: pct(0.99), classes };
}

/** Distinct predicted values a stored part keeps; a regressor's scores beyond it are rounded. */
const MAX_STORED_CLASSES = 2000;

/**
 * A part's predicted values, small enough to store every second: classes as they are; a
 * regressor's many distinct scores rounded to 4 significant digits (the distribution gate bins
 * them by deciles anyway).
 */
export function compactClasses(classes: Record<string, number>): Record<string, number> {
  const keys = Object.keys(classes);
  if (keys.length <= MAX_STORED_CLASSES || !keys.every((k) => Number.isFinite(Number(k)))) return classes;
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(classes)) {
    const r = String(Number(Number(k).toPrecision(4)));
    out[r] = (out[r] ?? 0) + n;
  }
  return out;
}

/**
 * Population stability index of the target's predicted values against the stable's:
 * Σ (t − s) · ln(t / s) over the bins, with shares smoothed by half a row per bin so that an
 * empty bin does not make it infinite. Values with many distinct numbers (regressors' scores) are
 * binned by the stable's deciles; classes are their own bins. The usual reading: below 0.1 no
 * shift, 0.1 to 0.25 a moderate one, above 0.25 a large one.
 */
export function psi(target: Record<string, number>, stable: Record<string, number>): number {
  let t = target;
  let s = stable;
  const keys = new Set([...Object.keys(t), ...Object.keys(s)]);
  if (keys.size > 20 && [...keys].every((k) => Number.isFinite(Number(k)))) [t, s] = binned(t, s);
  const bins = [...new Set([...Object.keys(t), ...Object.keys(s)])];
  const nt = bins.reduce((a, b) => a + (t[b] ?? 0), 0);
  const ns = bins.reduce((a, b) => a + (s[b] ?? 0), 0);
  if (nt === 0 || ns === 0) return 0;
  let sum = 0;
  for (const b of bins) {
    const pt = ((t[b] ?? 0) + 0.5) / (nt + 0.5 * bins.length);
    const ps = ((s[b] ?? 0) + 0.5) / (ns + 0.5 * bins.length);
    sum += (pt - ps) * Math.log(pt / ps);
  }
  return sum;
}

function binned(t: Record<string, number>, s: Record<string, number>): [Record<string, number>, Record<string, number>] {
  const values: number[] = [];
  for (const [k, n] of Object.entries(s)) for (let i = 0; i < n; i++) values.push(Number(k));
  values.sort((a, b) => a - b);
  const edges = Array.from({ length: 9 }, (_, i) => values[Math.floor(((i + 1) / 10) * (values.length - 1))] ?? 0);
  const bin = (m: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(m)) {
      const v = Number(k);
      let b = 0;
      while (b < edges.length && v > edges[b]!) b++;
      out[String(b)] = (out[String(b)] ?? 0) + n;
    }
    return out;
  };
  return [bin(t), bin(s)];
}

/**
 * Each gate over the step's window of the new deployment (and, for psi, of the stable one). A
 * gate counts (`conclusive`) once its windows hold `minRequests` requests; before that it is
 * neither passed nor failed.
 */
export function evaluateGates(gates: readonly Gate[], target: TrafficWindow, stable: TrafficWindow, minRequests: number): GateResult[] {
  return gates.map((g) => {
    const enough = target.requests >= minRequests && (g.metric !== 'psi' || stable.requests >= minRequests);
    let value: number;
    switch (g.metric) {
      case 'error_rate':
        value = target.errorRate;
        break;
      case 'p50_ms':
        value = target.p50Ms;
        break;
      case 'p95_ms':
        value = target.p95Ms;
        break;
      case 'p99_ms':
        value = target.p99Ms;
        break;
      case 'psi':
        value = psi(target.classes, stable.classes);
        break;
    }
    const within = g.inclusive ? value <= g.max : value < g.max;
    return { gate: formatGate(g), value: target.requests === 0 ? null : round(value), passed: enough && within, conclusive: enough, requests: target.requests };
  });
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
