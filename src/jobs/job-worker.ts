import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Component } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import type { ClaimedJob, JobQueue, JsonObject } from './job-queue.js';

/** What a handler gets beside its job. */
export interface JobContext {
  /** Aborted when the job was cancelled, its lease was lost, or the worker is stopping past its grace. */
  signal: AbortSignal;
  /** The worker's id (`host:pid:random`). */
  worker: string;
  /**
   * Frees the job's slot while it keeps running: for a job that mostly waits on other jobs (a
   * sweep waiting for its trials), so it cannot hold the slots its own work needs.
   */
  releaseSlot(): void;
}

/** Runs one job; its result completes the job, a throw fails the attempt (retried while attempts remain). */
export type JobHandler = (job: ClaimedJob, ctx: JobContext) => Promise<JsonObject>;

export interface JobWorkerOptions {
  /** Jobs run at once (default 2). */
  concurrency?: number | undefined;
  /** How long a claim lasts without a heartbeat (default 10 s). A dead worker's job is retried this long after. */
  leaseMs?: number | undefined;
  /** How often the queue is polled when idle (default 500 ms); `wake()` looks at once. */
  pollMs?: number | undefined;
  /** How long `stop()` lets running jobs finish before aborting them (default 10 s). */
  graceMs?: number | undefined;
  id?: string | undefined;
  logger?: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'> | undefined;
}

export function newWorkerId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * Claims jobs from a queue and runs them, up to `concurrency` at once, each under a lease it
 * renews every third of `leaseMs`. A renewal that answers false (the job was cancelled, or the
 * lease expired and the job went to another worker) aborts the job's signal, and its outcome
 * is then not reported: the job is no longer this worker's. A renewal that cannot reach the
 * store for a whole lease aborts it too, since another worker may hold it by then. Also expires
 * the leases of dead workers' jobs (every lease/2), so the embedded queue needs no other sweeper.
 */
export class JobWorker implements Component {
  readonly name = 'job worker';
  readonly id: string;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly graceMs: number;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /** Running jobs that gave their slot up (see JobContext.releaseSlot). */
  private readonly waiting = new Set<string>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private lastExpire = 0;
  private readonly log: JobWorkerOptions['logger'];

  constructor(
    private readonly queue: JobQueue,
    private readonly handlers: ReadonlyMap<string, JobHandler>,
    opts: JobWorkerOptions = {},
  ) {
    this.id = opts.id ?? newWorkerId();
    this.concurrency = Math.max(1, opts.concurrency ?? 2);
    this.leaseMs = opts.leaseMs ?? 10_000;
    this.pollMs = opts.pollMs ?? 500;
    this.graceMs = opts.graceMs ?? 10_000;
    this.log = opts.logger;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks for work now (a job was just enqueued). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Jobs running now. */
  get busy(): number {
    return this.running.size;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    const all = [...this.running.values()];
    if (all.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.graceMs)));
    await Promise.race([Promise.all(all.map((r) => r.done)), grace]);
    clearTimeout(timer);
    for (const r of this.running.values()) r.abort.abort(new Error('the worker is stopping'));
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.expireNow();
        while (!this.stopping && this.running.size - this.waiting.size < this.concurrency) {
          const job = await this.queue.claim(this.id, this.leaseMs);
          if (job === undefined) break;
          this.launch(job);
        }
      } catch (e) {
        this.log?.warn({ err: e, worker: this.id }, 'job queue unreachable; trying again');
      }
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.pollMs);
        this.wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private async expireNow(): Promise<void> {
    if (Date.now() - this.lastExpire < this.leaseMs / 2) return;
    this.lastExpire = Date.now();
    const n = await this.queue.expire();
    if (n > 0) this.log?.warn({ jobs: n }, 'jobs whose worker stopped heartbeating were put back in the queue');
  }

  private launch(job: ClaimedJob): void {
    const abort = new AbortController();
    const done = this.execute(job, abort).finally(() => {
      this.running.delete(job.id);
      this.waiting.delete(job.id);
      this.wake(); // a slot is free
    });
    this.running.set(job.id, { abort, done });
  }

  private async execute(job: ClaimedJob, abort: AbortController): Promise<void> {
    let lastRenewal = Date.now();
    const beat = setInterval(() => {
      this.queue.heartbeat(job, this.leaseMs).then(
        (held) => {
          if (held) lastRenewal = Date.now();
          else abort.abort(new Error('the job was cancelled or its lease went to another worker'));
        },
        (e: unknown) => {
          this.log?.warn({ err: e, job: job.id }, 'heartbeat failed');
          if (Date.now() - lastRenewal > this.leaseMs) abort.abort(new Error('the lease could not be renewed'));
        },
      );
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    try {
      const handler = this.handlers.get(job.kind);
      if (handler === undefined) throw new Error(`no handler for jobs of kind '${job.kind}' in this worker`);
      const releaseSlot = () => {
        if (this.running.has(job.id) && !this.waiting.has(job.id)) {
          this.waiting.add(job.id);
          this.wake();
        }
      };
      const output = await handler(job, { signal: abort.signal, worker: this.id, releaseSlot });
      clearInterval(beat);
      if (!abort.signal.aborted) await this.queue.complete(job, output);
    } catch (e) {
      clearInterval(beat);
      if (abort.signal.aborted && !this.stopping) return; // no longer ours to report
      const message = e instanceof Error ? e.message : String(e);
      if (abort.signal.aborted && this.stopping) {
        // Stopped by this worker's shutdown, not by its own failure: handed back, no retry spent.
        await this.queue.release(job, 'its worker stopped while it ran').catch((err: unknown) => this.log?.error({ err, job: job.id }, 'could not hand a job back'));
        return;
      }
      this.log?.debug({ job: job.id, kind: job.kind, attempt: job.attempt, err: message }, 'job attempt failed');
      await this.queue.fail(job, message).catch((err: unknown) => this.log?.error({ err, job: job.id }, 'could not record a failed job'));
    }
  }
}
