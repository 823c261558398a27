/**
 * What one server saw of one deployment's live traffic, for its gates and its status: counters
 * since start, and a ring of recent requests (time, latency, outcome, predicted class or score)
 * from which a window (such as a rollout step's) is summarised. Recording is a few array writes;
 * summarising copies only the window.
 */

import type { TrafficWindow } from '../rollouts/index.js';

/** Most recent requests kept per deployment for windows. */
const RING = 16_384;

/** The gates' figures of a window (requests, errors, latency percentiles, predicted values), and whether the ring held all of it. */
export interface WindowSummary extends TrafficWindow {
  /** True when the ring was overwritten inside the window: the figures are of its newest part. */
  truncated: boolean;
}

export class DeploymentStats {
  requests = 0;
  errors = 0;
  private readonly time = new Float64Array(RING);
  private readonly ms = new Float64Array(RING);
  private readonly failed = new Uint8Array(RING);
  /** The predictions of each request (held, not copied: results are not changed after answering). */
  private readonly labels: Array<ReadonlyArray<number | string> | undefined> = new Array<ReadonlyArray<number | string> | undefined>(RING);
  private next = 0;

  record(latencyMs: number, ok: boolean, predictions: ReadonlyArray<number | string> | undefined, at = Date.now()): void {
    this.requests++;
    if (!ok) this.errors++;
    const i = this.next % RING;
    this.time[i] = at;
    this.ms[i] = latencyMs;
    this.failed[i] = ok ? 0 : 1;
    this.labels[i] = predictions;
    this.next++;
  }

  /** The requests recorded at or after `since` (epoch ms). */
  window(since: number): WindowSummary {
    const kept = Math.min(this.next, RING);
    const latencies: number[] = [];
    const classes: Record<string, number> = {};
    let errors = 0;
    let oldestKept = Infinity;
    for (let k = 0; k < kept; k++) {
      const i = (this.next - 1 - k) % RING;
      const t = this.time[i]!;
      oldestKept = t;
      if (t < since) break;
      latencies.push(this.ms[i]!);
      if (this.failed[i] === 1) errors++;
      const ps = this.labels[i];
      if (ps !== undefined) for (const p of ps) classes[String(p)] = (classes[String(p)] ?? 0) + 1;
    }
    latencies.sort((a, b) => a - b);
    const pct = (q: number): number => (latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!);
    const requests = latencies.length;
    return {
      requests,
      errors,
      errorRate: requests === 0 ? 0 : errors / requests,
      p50Ms: pct(0.5),
      p95Ms: pct(0.95),
      p99Ms: pct(0.99),
      classes,
      truncated: this.next > RING && oldestKept >= since,
    };
  }
}

/** How a mirrored deployment's answers compare with the live ones, since this server started. */
export interface MirrorStats {
  /** Copies sent to it. */
  requests: number;
  /** Copies it failed to answer. */
  errors: number;
  /** Rows compared, and those where it predicted what the live deployment did. */
  rows: number;
  agreedRows: number;
  agreement: number;
  /** Mean over rows of the total variation distance between the two probability rows (classifiers) or of |score difference| (regressors). */
  meanAbsScoreDiff: number;
  /** Mean latency of its answers and of the live answers they shadowed, in ms. */
  meanLatencyMs: number;
  meanLiveLatencyMs: number;
}

export class MirrorTally {
  requests = 0;
  errors = 0;
  rows = 0;
  agreedRows = 0;
  private diffSum = 0;
  private latencySum = 0;
  private liveLatencySum = 0;
  private answered = 0;

  failed(): void {
    this.requests++;
    this.errors++;
  }

  compared(rows: number, agreed: number, diffSum: number, latencyMs: number, liveLatencyMs: number): void {
    this.requests++;
    this.answered++;
    this.rows += rows;
    this.agreedRows += agreed;
    this.diffSum += diffSum;
    this.latencySum += latencyMs;
    this.liveLatencySum += liveLatencyMs;
  }

  stats(): MirrorStats {
    return {
      requests: this.requests,
      errors: this.errors,
      rows: this.rows,
      agreedRows: this.agreedRows,
      agreement: this.rows === 0 ? 0 : this.agreedRows / this.rows,
      meanAbsScoreDiff: this.rows === 0 ? 0 : this.diffSum / this.rows,
      meanLatencyMs: this.answered === 0 ? 0 : this.latencySum / this.answered,
      meanLiveLatencyMs: this.answered === 0 ? 0 : this.liveLatencySum / this.answered,
    };
  }
}
