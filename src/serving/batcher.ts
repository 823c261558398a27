import { FluxError } from '../core/index.js';
import type { Prediction, Predictor } from '../models/index.js';

export interface BatchingSettings {
  /** Largest batch in rows; a request with more rows runs as a batch of its own. */
  maxBatch: number;
  /** Longest a request waits for others to join its batch, in ms (0: never waits). */
  maxWaitMs: number;
}

/** Rows queued per deployment beyond which new requests are refused at once (503), as a multiple of maxBatch. */
const QUEUE_BATCHES = 64;
/** Weight of the newest sample in the moving averages of arrival gaps and batch run times. */
const EWMA = 0.2;

interface Pending {
  X: Float64Array;
  rows: number;
  deadline: number;
  settled: boolean;
  resolve(p: Prediction): void;
  reject(e: Error): void;
}

/**
 * Adaptive micro-batching in front of one predictor: requests that arrive while a batch runs are
 * gathered and run together as one n×d matrix when it ends (one ONNX Runtime call instead of many).
 * A request that finds the predictor idle waits for companions only while the recent arrival rate
 * says others are due within `maxWaitMs`, and never longer; alone, it runs at once. A full batch
 * (`maxBatch` rows) runs at once. One batch runs at a time.
 *
 * Every request has a deadline: one still queued or running when it passes is answered 503, and
 * one that would not be answered before it (judged by recent batch run times) is refused 503 when
 * its batch is formed; so is a request arriving at a queue already `QUEUE_BATCHES` batches deep.
 * No request waits past its deadline, whatever the predictor does.
 */
export class MicroBatcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private running: Pending[] | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineAt = Infinity;
  private lastArrival = 0;
  /** Moving averages: ms between arrivals, ms per batch run. */
  private gapMs = Infinity;
  private runMs = 0;
  /** Batches run and rows in them (for tests and status). */
  batches = 0;
  batchedRows = 0;

  constructor(
    private readonly predictor: Pick<Predictor, 'predictMatrix' | 'inputNames' | 'classes'>,
    private readonly settings: BatchingSettings,
  ) {}

  submit(X: Float64Array, rows: number, deadline: number): Promise<Prediction> {
    const now = performance.now();
    if (this.lastArrival > 0) {
      const gap = now - this.lastArrival;
      this.gapMs = this.gapMs === Infinity ? gap : this.gapMs + EWMA * (gap - this.gapMs);
    }
    this.lastArrival = now;
    if (this.queuedRows + rows > this.settings.maxBatch * QUEUE_BATCHES && this.queue.length > 0) {
      return Promise.reject(new FluxError('TEMPORARILY_UNAVAILABLE', `the deployment's batch queue is full (${this.queuedRows} rows waiting); retry later`));
    }
    return new Promise<Prediction>((resolve, reject) => {
      const p: Pending = { X, rows, deadline, settled: false, resolve, reject };
      this.queue.push(p);
      this.queuedRows += rows;
      this.armDeadline(deadline);
      this.schedule();
    });
  }

  /** Answers 503 to every request still waiting (the deployment is being replaced or stopped). */
  drain(reason: string): void {
    for (const p of this.queue) this.fail(p, new FluxError('TEMPORARILY_UNAVAILABLE', reason));
    this.queue = [];
    this.queuedRows = 0;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.waitTimer = this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
  }

  private schedule(): void {
    if (this.running !== undefined || this.queue.length === 0) return;
    if (this.queuedRows >= this.settings.maxBatch) return this.flush();
    if (this.waitTimer !== undefined) return;
    // Companions are worth waiting for only when they are due: the recent gap between arrivals
    // times the rows still missing, and never past maxWaitMs from the oldest arrival.
    const missing = this.settings.maxBatch - this.queuedRows;
    const wait = this.gapMs >= this.settings.maxWaitMs ? 0 : Math.min(this.settings.maxWaitMs, this.gapMs * missing);
    if (wait < 0.05) return this.flush();
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.waitTimer !== undefined) {
      clearTimeout(this.waitTimer);
      this.waitTimer = undefined;
    }
    if (this.running !== undefined) return;
    const now = performance.now();
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const p = this.queue[0]!;
      if (batch.length > 0 && rows + p.rows > this.settings.maxBatch) break;
      this.queue.shift();
      this.queuedRows -= p.rows;
      if (p.settled) continue;
      // Not answerable in time: refused now rather than answered late.
      if (now + this.runMs > p.deadline) {
        this.fail(p, deadlineError(p.deadline - now, this.runMs));
        continue;
      }
      batch.push(p);
      rows += p.rows;
    }
    if (batch.length === 0) return this.schedule();
    const d = this.predictor.inputNames.length;
    let X: Float64Array;
    if (batch.length === 1) X = batch[0]!.X;
    else {
      X = new Float64Array(rows * d);
      let at = 0;
      for (const p of batch) {
        X.set(p.X, at);
        at += p.rows * d;
      }
    }
    this.running = batch;
    this.batches++;
    this.batchedRows += rows;
    const t0 = performance.now();
    let out: Promise<Prediction>;
    try {
      out = this.predictor.predictMatrix(X, rows);
    } catch (e) {
      out = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    out.then(
      (prediction) => {
        this.ran(t0);
        if (batch.length === 1) this.answer(batch[0]!, prediction);
        else this.split(batch, prediction);
      },
      (e: unknown) => {
        this.ran(t0);
        for (const p of batch) this.fail(p, e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  private ran(t0: number): void {
    const ms = performance.now() - t0;
    this.runMs = this.batches === 1 ? ms : this.runMs + EWMA * (ms - this.runMs);
    this.running = undefined;
    this.schedule();
  }

  /** Hands each request its rows of the batch's answer. */
  private split(batch: Pending[], out: Prediction): void {
    const k = this.predictor.classes.length;
    let row = 0;
    for (const p of batch) {
      const end = row + p.rows;
      this.answer(p, {
        labels: out.labels?.slice(row, end),
        probabilities: out.probabilities?.slice(row * k, end * k),
        values: out.values?.slice(row, end),
      });
      row = end;
    }
  }

  private answer(p: Pending, out: Prediction): void {
    if (p.settled) return;
    p.settled = true;
    p.resolve(out);
  }

  private fail(p: Pending, e: Error): void {
    if (p.settled) return;
    p.settled = true;
    p.reject(e);
  }

  /** One timer, at the earliest deadline of any request queued or running. */
  private armDeadline(deadline: number): void {
    if (deadline >= this.deadlineAt) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineAt = deadline;
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, deadline - performance.now()));
  }

  private expire(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const p of [...this.queue, ...(this.running ?? [])]) {
      if (p.settled) continue;
      if (p.deadline <= now) this.fail(p, deadlineError(0, this.runMs));
      else next = Math.min(next, p.deadline);
    }
    if (this.queue.some((p) => p.settled)) {
      this.queue = this.queue.filter((p) => !p.settled);
      this.queuedRows = this.queue.reduce((s, p) => s + p.rows, 0);
    }
    if (next !== Infinity) this.armDeadline(next);
  }
}

/** The 503 of a request past its deadline (leftMs ≤ 0), or that batches taking runMs cannot answer in the leftMs it has. */
export function deadlineError(leftMs: number, runMs: number): FluxError {
  return new FluxError(
    'TEMPORARILY_UNAVAILABLE',
    leftMs <= 0
      ? 'the request was not answered before its deadline (x-fluxops-timeout-ms); retry later'
      : `the request cannot be answered before its deadline (${leftMs.toFixed(1)} ms left, batches take ${runMs.toFixed(1)} ms); retry later`,
  );
}
