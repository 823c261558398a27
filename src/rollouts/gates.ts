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
