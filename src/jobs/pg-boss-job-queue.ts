import pg from 'pg';
import PgBoss from 'pg-boss';
import { FluxError } from '../core/index.js';
import { JOB_STATES, LEASE_EXPIRED, type ClaimedJob, type JobQueue, type JobRecord, type JobSpec, type JobState, type JsonObject } from './job-queue.js';

/** The one pg-boss queue FluxOps uses; a job's kind travels in its data, so one claim serves every handler. */
const QUEUE = 'fluxops';
/** pg-boss's reason for a job whose expiration passed while active. */
const PG_BOSS_TIMEOUT = 'job failed by timeout in active state';

export interface PgBossQueueOptions {
  /** A connection string pg understands (FluxOps' own URL parameters already removed). */
  connectionString: string;
  /** pg-boss's schema (created if absent). */
  schema: string;
  /** How often pg-boss's supervisor expires jobs whose lease ran out (seconds, ≥ 1). */
  superviseSeconds?: number | undefined;
  onError?: ((e: unknown) => void) | undefined;
}

interface BossJob {
  id: string;
  data: { kind?: unknown; data?: unknown };
  retryCount: number;
  retryLimit: number;
}

/**
 * The shared queue on Postgres, on pg-boss (its job table, `FOR UPDATE SKIP LOCKED` claims,
 * retries with backoff, expiration, cancellation, archiving; its supervisor expires jobs whose
 * worker died, under an advisory lock so one process does it). What pg-boss 10 lacks is a
 * heartbeat: its expiration is fixed when a job starts. Here a job is sent with a short
 * expiration (the lease), and `heartbeat` moves it forward with one conditional UPDATE of the
 * job's `expire_in` (pg-boss's own column, read by its own supervisor). Every call about a
 * claimed job is fenced on `retry_count` (pg-boss's attempt counter, bumped on each start), so a
 * worker that lost its lease cannot complete, fail or extend the attempt another worker holds:
 * complete and fail lock the row, check the attempt, and run pg-boss's own statement in that
 * transaction.
 */
export class PgBossJobQueue implements JobQueue {
  readonly name = 'pg-boss';
  private readonly boss: PgBoss;
  private readonly pool: pg.Pool;
  private readonly schema: string;

  constructor(private readonly opts: PgBossQueueOptions) {
    if (!/^[a-z_][a-z0-9_]{0,49}$/.test(opts.schema)) throw new FluxError('INVALID_PARAMETER_VALUE', `the job queue schema '${opts.schema}' must be a lower-case SQL name of at most 50 characters`);
    this.schema = opts.schema;
    this.boss = new PgBoss({
      connectionString: opts.connectionString,
      schema: opts.schema,
      max: 4,
      schedule: false,
      supervise: true,
      maintenanceIntervalSeconds: opts.superviseSeconds ?? 2,
      monitorStateIntervalSeconds: 60,
    });
    this.boss.on('error', (e) => opts.onError?.(e));
    this.pool = new pg.Pool({ connectionString: opts.connectionString, max: 4 });
    this.pool.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.boss.start();
    if ((await this.boss.getQueue(QUEUE)) === null) {
      try {
        await this.boss.createQueue(QUEUE);
      } catch (e) {
        // Another process created it between the look and the create.
        if ((await this.boss.getQueue(QUEUE)) === null) throw e;
      }
    }
  }

  async enqueue(spec: JobSpec): Promise<string> {
    const id = await this.boss.send(QUEUE, { kind: spec.kind, data: spec.data }, {
      ...(spec.id !== undefined ? { id: spec.id } : {}),
      retryLimit: spec.retryLimit ?? 0,
      // pg-boss counts retry delays in whole seconds.
      retryDelay: Math.ceil((spec.retryDelayMs ?? 0) / 1000),
      retryBackoff: spec.retryBackoff === true,
      // The first lease; the claimer sets its own at once.
      expireInSeconds: 60,
      ...(spec.startAfter !== undefined ? { startAfter: new Date(spec.startAfter) } : {}),
    });
    // null: a job with this id exists already (send is insert-or-nothing).
    return id ?? spec.id!;
  }

  async claim(_worker: string, leaseMs: number): Promise<ClaimedJob | undefined> {
    const [raw] = (await this.boss.fetch(QUEUE, { batchSize: 1, includeMetadata: true })) as unknown as BossJob[];
    if (raw === undefined) return undefined;
    const job: ClaimedJob = { id: raw.id, kind: String(raw.data.kind), data: (raw.data.data ?? {}) as JsonObject, attempt: raw.retryCount + 1, retryLimit: raw.retryLimit };
    // The lease of this attempt; if it cannot be set now, the worker's first heartbeat sets it.
    await this.heartbeat(job, leaseMs).catch(() => undefined);
    return job;
  }

  async heartbeat(job: ClaimedJob, leaseMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE ${this.schema}.job SET expire_in = (now() - started_on) + $3::int * interval '1 millisecond'
        WHERE name = $4 AND id = $1 AND state = 'active' AND retry_count = $2`,
      [job.id, job.attempt - 1, Math.ceil(leaseMs), QUEUE],
    );
    return (r.rowCount ?? 0) > 0;
  }

  complete(job: ClaimedJob, output: JsonObject): Promise<boolean> {
    return this.fenced(job, async (db) => affected(await this.boss.complete(QUEUE, job.id, output, { db })));
  }

  fail(job: ClaimedJob, error: string): Promise<boolean> {
    return this.fenced(job, async (db) => affected(await this.boss.fail(QUEUE, job.id, { message: error }, { db })));
  }

  release(job: ClaimedJob, reason: string): Promise<boolean> {
    // pg-boss's own fail, in the fenced transaction, after one more retry was allowed: the
    // attempt stays counted (later calls are fenced on it) and none of the job's retries is spent.
    return this.fenced(job, async (db) => {
      await db.executeSql(`UPDATE ${this.schema}.job SET retry_limit = retry_limit + 1, retry_delay = 0, retry_backoff = false WHERE name = $1 AND id = $2`, [QUEUE, job.id]);
      return affected(await this.boss.fail(QUEUE, job.id, { message: reason }, { db }));
    });
  }

  async cancel(id: string): Promise<boolean> {
    return affected(await this.boss.cancel(QUEUE, id));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const j = await this.boss.getJobById<BossData>(QUEUE, id, { includeArchive: true });
    return j === null ? undefined : toRecord(j);
  }

  async list(q: { states?: readonly JobState[] | undefined; limit?: number | undefined }): Promise<JobRecord[]> {
    const bossStates = (q.states ?? []).flatMap((s) => (s === 'queued' ? ['created', 'retry'] : [s]));
    const r = await this.pool.query<{ id: string }>(
      `SELECT id FROM ${this.schema}.job WHERE name = $1 ${bossStates.length > 0 ? 'AND state::text = ANY($3)' : ''} ORDER BY created_on DESC, id LIMIT $2`,
      bossStates.length > 0 ? [QUEUE, q.limit ?? 100, bossStates] : [QUEUE, q.limit ?? 100],
    );
    const jobs = await Promise.all(r.rows.map((row) => this.get(row.id)));
    return jobs.filter((j): j is JobRecord => j !== undefined);
  }

  async expire(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.schema}.job WHERE name = $1 AND state = 'active' AND started_on + expire_in < now()`, [QUEUE]);
    const n = Number(r.rows[0]?.n ?? 0);
    if (n > 0) await this.boss.expire();
    return n;
  }

  async counts(): Promise<Record<JobState, number>> {
    const r = await this.pool.query<{ state: string; n: string }>(`SELECT state::text AS state, count(*) AS n FROM ${this.schema}.job WHERE name = $1 GROUP BY state`, [QUEUE]);
    const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const row of r.rows) {
      const s: JobState = row.state === 'created' || row.state === 'retry' ? 'queued' : (row.state as JobState);
      out[s] += Number(row.n);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true, close: true });
    await this.pool.end();
  }

  /** Runs pg-boss's statement for the job in a transaction that first locks the row in the caller's attempt. */
  private async fenced(job: ClaimedJob, act: (db: { executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }> }) => Promise<boolean>): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const held = await client.query(`SELECT 1 FROM ${this.schema}.job WHERE name = $3 AND id = $1 AND state = 'active' AND retry_count = $2 FOR UPDATE`, [job.id, job.attempt - 1, QUEUE]);
      const ok = (held.rowCount ?? 0) > 0 && (await act({ executeSql: (text, values) => client.query(text, values) }));
      await client.query('COMMIT');
      return ok;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}

type BossData = { kind?: unknown; data?: unknown };

function toRecord(j: PgBoss.JobWithMetadata<BossData>): JobRecord {
  const state: JobState = j.state === 'created' || j.state === 'retry' ? 'queued' : j.state;
  const out = (j.output ?? null) as JsonObject | null;
  const message = messageOf(out);
  const failed = j.state === 'failed' || j.state === 'retry';
  return {
    id: j.id,
    kind: String(j.data.kind),
    data: (j.data.data ?? {}) as JsonObject,
    state,
    attempts: j.startedOn === null || j.startedOn === undefined ? 0 : j.retryCount + 1,
    retryLimit: j.retryLimit,
    createdAt: new Date(j.createdOn).getTime(),
    startedAt: j.startedOn ? new Date(j.startedOn).getTime() : null,
    finishedAt: j.completedOn ? new Date(j.completedOn).getTime() : null,
    output: j.state === 'completed' ? out : null,
    error: failed ? (message === PG_BOSS_TIMEOUT ? LEASE_EXPIRED : message) : j.state === 'cancelled' ? 'cancelled' : null,
  };
}

/** A failure's message: ours is `{ message }`, pg-boss's own (a timeout) `{ value: { message } }`. */
function messageOf(out: JsonObject | null): string | null {
  if (out === null) return null;
  if (typeof out['message'] === 'string') return out['message'];
  const value = out['value'];
  return typeof value === 'object' && value !== null && typeof (value as JsonObject)['message'] === 'string' ? ((value as JsonObject)['message'] as string) : null;
}

/** pg-boss 10's commands answer `{ affected }` (its type file says void). */
function affected(result: unknown): boolean {
  return typeof result === 'object' && result !== null && Number((result as { affected?: unknown }).affected) > 0;
}
