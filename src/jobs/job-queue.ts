/** A job's state. `queued` covers waiting for its first attempt and for a retry. */
export type JobState = 'queued' | 'active' | 'completed' | 'failed' | 'cancelled';

export const JOB_STATES: readonly JobState[] = ['queued', 'active', 'completed', 'failed', 'cancelled'];

export type JsonObject = Record<string, unknown>;

/** What to enqueue. */
export interface JobSpec {
  /** Which handler runs it (`pipeline.step`, `sweep.trial`, …). */
  kind: string;
  data: JsonObject;
  /**
   * A UUID the caller chose: enqueueing the same id again is a no-op that returns it, so a caller
   * that records the id first and enqueues second can repeat the enqueue after a crash.
   */
  id?: string | undefined;
  /** Attempts after the first one (default 0). */
  retryLimit?: number | undefined;
  /** Wait before a retry (default 0); doubled for each attempt with `retryBackoff`. */
  retryDelayMs?: number | undefined;
  retryBackoff?: boolean | undefined;
  /** Not claimed before this time (ms since the epoch). */
  startAfter?: number | undefined;
}

/** A job as stored. */
export interface JobRecord {
  id: string;
  kind: string;
  data: JsonObject;
  state: JobState;
  /** Attempts started so far. */
  attempts: number;
  retryLimit: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  output: JsonObject | null;
  /** Why the last attempt failed (or why the job was cancelled). */
  error: string | null;
}

/** A job a worker holds: it must heartbeat before `lease` runs out, then complete or fail it. */
export interface ClaimedJob {
  id: string;
  kind: string;
  data: JsonObject;
  /** 1 for the first attempt. Every later call names it, so a worker that lost the job cannot act on a newer attempt. */
  attempt: number;
  retryLimit: number;
}

/**
 * The job queue port. Two implementations: `KyselyJobQueue` (the embedded one, in the metadata
 * store's SQLite file) and `PgBossJobQueue` (pg-boss on Postgres, shared by any number of
 * `fluxops worker` processes). `test/conformance/job-queue-conformance.ts` holds both to it.
 *
 * A claimed job is leased to its worker for `leaseMs`; `heartbeat` extends the lease. A job
 * whose lease runs out (its worker died) is retried by `expire()` up to its limit, then failed
 * with the reason. Every call about a claimed job is conditional on the job still being active
 * in the attempt the caller holds: it answers false when the job was cancelled, expired or
 * taken by a later attempt, and the worker then stops the job's work.
 */
export interface JobQueue {
  readonly name: string;
  /** Creates what the queue needs (tables, pg-boss's schema); idempotent. */
  start(): Promise<void>;
  enqueue(spec: JobSpec): Promise<string>;
  /** The next due job, leased to `worker`; undefined when none is due. */
  claim(worker: string, leaseMs: number): Promise<ClaimedJob | undefined>;
  heartbeat(job: ClaimedJob, leaseMs: number): Promise<boolean>;
  complete(job: ClaimedJob, output: JsonObject): Promise<boolean>;
  /** Fails the attempt: queued again for a retry while attempts remain, else failed with `error`. */
  fail(job: ClaimedJob, error: string): Promise<boolean>;
  /**
   * Gives a job back without spending one of its attempts (its worker is stopping): queued again
   * at once, for another worker (or this one after a restart).
   */
  release(job: ClaimedJob, reason: string): Promise<boolean>;
  /** Cancels a queued or active job; false when it had already ended. */
  cancel(id: string, reason?: string): Promise<boolean>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Newest first. */
  list(q: { states?: readonly JobState[] | undefined; limit?: number | undefined }): Promise<JobRecord[]>;
  /** Active jobs whose lease ran out: retried (or failed when their attempts are spent). Returns how many. */
  expire(): Promise<number>;
  /** Jobs per state. */
  counts(): Promise<Record<JobState, number>>;
  close(): Promise<void>;
}

/** The error recorded for an attempt whose worker stopped heartbeating. */
export const LEASE_EXPIRED = 'lease expired: the worker stopped heartbeating (it died or lost the database)';
