import fs from 'node:fs';
import { SerialJob, type Component } from '../../core/index.js';
import type { Logger } from '../../logging/index.js';
import { rowsOf } from './body-rows.js';
import type { InferenceStore } from './inference-store.js';
import type { BatchWriter } from './off-thread-writer.js';
import type { InferenceOutputs, InferenceRecord, NewInference } from './types.js';

/**
 * What the serving path hands over for one request: a record before it is serialised (when its
 * batch is written), holding the request's native body and its answer (not copied: neither is
 * changed after answering).
 */
export type PendingInference = Omit<InferenceRecord, 'seq' | 'rows' | 'inputs' | 'outputs'> & { body: unknown; result: InferenceOutputs | undefined };

export type DropReason = 'queue_full' | 'backpressure' | 'disk_full' | 'write_error';

export interface InferenceLogOptions {
  /** How often the queue is written, in ms (default 250). */
  flushMs?: number | undefined;
  /** Most records waiting to be written; past it a request is not logged (default 20,000). */
  maxQueue?: number | undefined;
  /** Most records written in one statement (default 1,000); the flush yields to requests between two. */
  batchMax?: number | undefined;
  /** A folder on the disk the store writes to (the embedded store's): below `minFreeBytes` free there, nothing is logged. */
  diskPath?: string | undefined;
  /** Free bytes the disk must keep (default 512 MiB). */
  minFreeBytes?: number | undefined;
  log?: Pick<Logger, 'warn' | 'info'> | undefined;
  /** Writes the batches elsewhere than this thread (the embedded store's writer thread); default: the store, here. */
  writer?: BatchWriter | undefined;
}

/** What the log did, for the metrics (counters since start, by endpoint). */
export interface InferenceLogStats {
  queued: number;
  /** The factor (0 to 1) back-pressure multiplies every endpoint's sample rate by now. */
  pressure: number;
  written: ReadonlyMap<string, number>;
  /** `endpoint \0 reason` → requests not logged that the sample rate would have logged. */
  dropped: ReadonlyMap<string, number>;
}

const MIN_PRESSURE = 1 / 64;

/**
 * The inference log: the serving path calls `record` (a random draw and an array push; nothing
 * is serialised or written there), and a background flush writes the queue in batches, one
 * transaction each. Logging never slows or fails a prediction: when writing falls behind (the
 * queue past half full, or a flush slower than the interval) the sample rate of every endpoint
 * is halved, down to 1/64, and doubled back as the queue drains; past `maxQueue`, when the disk
 * is nearly full, or when a batch could not be written three times, requests are dropped. Each
 * request not logged that the endpoint's rate would have logged is counted by reason
 * (`fluxops_inference_log_dropped_total`). Records still queued at a crash are lost (at most one
 * flush interval's worth): the log is a sample of the traffic, not an acknowledged write.
 */
export class InferenceLog implements Component {
  readonly name = 'inference-log';
  private queue: PendingInference[] = [];
  private pressure = 1;
  private diskFull = false;
  private readonly written = new Map<string, number>();
  private readonly dropped = new Map<string, number>();
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private diskTimer: NodeJS.Timeout | undefined;
  private soon = false;
  private readonly flusher = new SerialJob(() => this.flush());
  private readonly flushMs: number;
  private readonly maxQueue: number;
  private readonly batchMax: number;

  constructor(
    private readonly store: InferenceStore,
    private readonly opts: InferenceLogOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 250;
    this.maxQueue = opts.maxQueue ?? 20_000;
    this.batchMax = opts.batchMax ?? 1000;
  }

  start(): void {
    this.timer = setInterval(() => void this.flusher.run(), this.flushMs);
    this.timer.unref();
    if (this.opts.diskPath !== undefined) {
      this.checkDisk();
      this.diskTimer = setInterval(() => this.checkDisk(), 5000);
      this.diskTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.diskTimer) clearInterval(this.diskTimer);
    this.timer = undefined;
    // What is queued is written before the store closes.
    await this.flusher.run();
    await this.flusher.idle();
    await this.opts.writer?.close();
  }

  /** Logs one request with probability `sampleRate` (the endpoint's), lowered by back-pressure. */
  record(p: PendingInference, sampleRate: number): void {
    if (sampleRate <= 0) return;
    const r = Math.random();
    if (r >= sampleRate) return;
    if (this.diskFull) return this.drop(p.endpoint, 'disk_full');
    if (r >= sampleRate * this.pressure) return this.drop(p.endpoint, 'backpressure');
    if (this.queue.length >= this.maxQueue) return this.drop(p.endpoint, 'queue_full');
    this.queue.push(p);
    if (this.queue.length >= this.batchMax && !this.soon) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        void this.flusher.run();
      });
    }
  }

  stats(): InferenceLogStats {
    return { queued: this.queue.length, pressure: this.diskFull ? 0 : this.pressure, written: this.written, dropped: this.dropped };
  }

  /** Writes what is queued now (tests and shutdown; the timer does it otherwise). */
  async drain(): Promise<void> {
    await this.flusher.run();
  }

  private drop(endpoint: string, reason: DropReason): void {
    const key = `${endpoint}\u0000${reason}`;
    this.dropped.set(key, (this.dropped.get(key) ?? 0) + 1);
  }

  private async flush(): Promise<void> {
    let slow = false;
    for (let n = 0; this.queue.length > 0; n++) {
      // Requests that arrived meanwhile are answered before the next batch is written.
      if (n > 0) await new Promise((r) => setImmediate(r));
      const batch = this.queue.length <= this.batchMax ? this.queue : this.queue.slice(0, this.batchMax);
      this.queue = this.queue.length <= this.batchMax ? [] : this.queue.slice(this.batchMax);
      const t0 = performance.now();
      try {
        await (this.opts.writer ?? this.store).insertBatch(batch.map(serialise));
      } catch (e) {
        this.failures++;
        this.opts.log?.warn({ err: (e as Error).message, records: batch.length, attempt: this.failures }, 'inference log batch not written');
        if (this.failures < 3 && this.queue.length + batch.length <= this.maxQueue) this.queue = batch.concat(this.queue);
        else {
          for (const p of batch) this.drop(p.endpoint, 'write_error');
          this.failures = 0;
        }
        this.pressure = Math.max(MIN_PRESSURE, this.pressure / 2);
        return;
      }
      this.failures = 0;
      const seconds = (performance.now() - t0) / 1000;
      for (const p of batch) this.written.set(p.endpoint, (this.written.get(p.endpoint) ?? 0) + 1);
      // Behind: the queue past half full, or a batch slower to write than the interval.
      if (this.queue.length > this.maxQueue / 2 || seconds * 1000 > this.flushMs) {
        this.pressure = Math.max(MIN_PRESSURE, this.pressure / 2);
        slow = true;
      }
    }
    // Caught up (every tick, so a factor low enough to keep the queue empty still recovers).
    if (!slow && this.pressure < 1 && this.queue.length < this.maxQueue / 4) this.pressure = Math.min(1, this.pressure * 2);
  }

  private checkDisk(): void {
    try {
      const s = fs.statfsSync(this.opts.diskPath!);
      const free = Number(s.bavail) * Number(s.bsize);
      const full = free < (this.opts.minFreeBytes ?? 512 * 1024 * 1024);
      if (full !== this.diskFull) this.opts.log?.warn({ path: this.opts.diskPath, freeBytes: free }, full ? 'disk nearly full: predictions are not logged' : 'disk has room again: predictions are logged');
      this.diskFull = full;
    } catch {
      // A folder that cannot be read says nothing about the space left.
    }
  }
}

function serialise(p: PendingInference): NewInference {
  const r = p.result;
  return {
    endpoint: p.endpoint,
    deployment: p.deployment,
    requestId: p.requestId,
    time: p.time,
    model: p.model,
    version: p.version,
    status: p.status,
    latencyMs: p.latencyMs,
    rows: rowsOf(p.body),
    inputs: JSON.stringify(p.body ?? null),
    outputs: r === undefined ? null : JSON.stringify({ predictions: r.predictions, probabilities: r.probabilities, classes: r.classes }),
    error: p.error,
  };
}
