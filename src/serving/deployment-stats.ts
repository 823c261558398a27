/**
 * What one server saw of one deployment's live traffic, for its gates and its status: counters
 * since start, and a ring of recent requests (time, latency, outcome, predicted class or score)
 * from which a window (such as a rollout step's) is summarised. Recording is a few array writes;
 * summarising copies only the window.
 */

import { latencyBucket, mergeParts, type TrafficWindow, type WindowPart } from '../rollouts/index.js';

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

  /** This server's part of the window of requests recorded at or after `since` (epoch ms), and whether the ring held all of it. */
  part(since: number): { part: WindowPart; truncated: boolean } {
    const kept = Math.min(this.next, RING);
    const latency: Record<string, number> = {};
    const classes: Record<string, number> = {};
    let requests = 0;
    let errors = 0;
    let oldestKept = Infinity;
    for (let k = 0; k < kept; k++) {
      const i = (this.next - 1 - k) % RING;
      const t = this.time[i]!;
      oldestKept = t;
      if (t < since) break;
      requests++;
      const b = latencyBucket(this.ms[i]!);
      latency[b] = (latency[b] ?? 0) + 1;
      if (this.failed[i] === 1) errors++;
      const ps = this.labels[i];
      if (ps !== undefined) for (const p of ps) classes[String(p)] = (classes[String(p)] ?? 0) + 1;
    }
    return { part: { requests, errors, latency, classes }, truncated: this.next > RING && oldestKept >= since };
  }

  /** The window's figures as the gates read them, from this server's part alone. */
  window(since: number): WindowSummary {
    const { part, truncated } = this.part(since);
    return { ...mergeParts([part]), truncated };
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
