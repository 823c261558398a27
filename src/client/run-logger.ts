import { FluxError } from '../core/index.js';
import type { Run, RunStatus } from '../tracking/index.js';
import type { TrackingApi } from './api-types.js';

export interface StartRunOptions {
  /** Experiment name (created when absent); default: the Default experiment "0". */
  experiment?: string | undefined;
  runName?: string | undefined;
  tags?: Record<string, string> | undefined;
  /** Metrics buffered before a flush (default 1000, the batch limit). */
  batchSize?: number | undefined;
  /** Longest a buffered metric waits before it is sent, in ms (default 1000). */
  flushIntervalMs?: number | undefined;
}

/**
 * One run being recorded. Metrics are buffered and sent in batches of up to 1,000 (by size or
 * every second), params and tags go out at once; `end()` flushes and marks the run finished.
 * Works over any TrackingApi: the HTTP client, or the in-process service.
 */
export class RunLogger {
  private buffer: Array<{ key: string; value: number; timestamp: number; step: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private ended = false;

  private constructor(
    private readonly tracking: TrackingApi,
    readonly run: Run,
    private readonly batchSize: number,
    private readonly flushIntervalMs: number,
  ) {}

  static async start(tracking: TrackingApi, opts: StartRunOptions = {}): Promise<RunLogger> {
    const experimentId = opts.experiment === undefined ? '0' : await tracking.ensureExperiment(opts.experiment);
    const run = await tracking.createRun({ experimentId, runName: opts.runName, tags: opts.tags });
    const batchSize = opts.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new FluxError('INVALID_PARAMETER_VALUE', 'batchSize must be an integer from 1 to 1000');
    return new RunLogger(tracking, run, batchSize, opts.flushIntervalMs ?? 1000);
  }

  get runId(): string {
    return this.run.info.runId;
  }

  /** `runs:/<id>/<path>`: the source to register a model logged under `path`. */
  modelUri(path = 'model'): string {
    return `runs:/${this.runId}/${path}`;
  }

  async logParams(params: Record<string, string | number | boolean>): Promise<void> {
    this.assertOpen();
    const entries = Object.entries(params).map(([key, value]) => ({ key, value: String(value) }));
    for (let i = 0; i < entries.length; i += 100) await this.tracking.logBatch(this.runId, { params: entries.slice(i, i + 100) });
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    this.assertOpen();
    const entries = Object.entries(tags).map(([key, value]) => ({ key, value }));
    for (let i = 0; i < entries.length; i += 100) await this.tracking.logBatch(this.runId, { tags: entries.slice(i, i + 100) });
  }

  /** Buffers a metric; it is sent with the next batch. Errors surface on a later call or on end(). */
  logMetric(key: string, value: number, opts: { step?: number; timestamp?: number } = {}): void {
    this.assertOpen();
    this.buffer.push({ key, value, step: opts.step ?? 0, timestamp: opts.timestamp ?? Date.now() });
    // Background sends never reject: a failure is kept and thrown by the next call or end(), so an
    // unreachable server cannot become an unhandled rejection that kills the training process.
    if (this.buffer.length >= this.batchSize) void this.send();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.send(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  logMetrics(metrics: Record<string, number>, opts: { step?: number; timestamp?: number } = {}): void {
    for (const [k, v] of Object.entries(metrics)) this.logMetric(k, v, opts);
  }

  /**
   * Sends whatever is buffered; resolves when every metric logged so far is stored, and rejects
   * if any batch (this one or an earlier background one) failed.
   */
  async flush(): Promise<void> {
    await this.send();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Queues the buffered metrics behind earlier sends; never rejects (a failure is kept in `failure`). */
  private send(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(async () => {
      for (let i = 0; i < batch.length; i += this.batchSize) {
        try {
          await this.tracking.logBatch(this.runId, { metrics: batch.slice(i, i + this.batchSize) });
        } catch (e) {
          this.failure ??= e instanceof Error ? e : new Error(String(e));
        }
      }
    });
    return this.flushing;
  }

  async logArtifact(path: string, data: Buffer | string): Promise<void> {
    this.assertOpen();
    await this.tracking.logArtifact(this.runId, path, data);
  }

  /** Flushes and ends the run (FINISHED, or FAILED/KILLED). */
  async end(status: RunStatus = 'FINISHED'): Promise<Run> {
    if (this.ended) throw new FluxError('INVALID_STATE', `run ${this.runId} has already ended`);
    try {
      await this.flush();
    } catch (e) {
      this.ended = true;
      await this.tracking.endRun(this.runId, 'FAILED').catch(() => undefined);
      throw e;
    }
    this.ended = true;
    return this.tracking.endRun(this.runId, status);
  }

  private assertOpen(): void {
    if (this.ended) throw new FluxError('INVALID_STATE', `run ${this.runId} has already ended`);
    if (this.failure !== undefined) throw this.failure;
  }
}
