import { randomUUID } from 'node:crypto';
import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import type { Database, MetadataDb } from '../storage/db/index.js';
import { JOB_STATES, LEASE_EXPIRED, type ClaimedJob, type JobQueue, type JobRecord, type JobSpec, type JobState, type JsonObject } from './job-queue.js';

type Row = Selectable<Database['jobs']>;

/**
 * The embedded queue: the `jobs` table of the metadata store (migration 0009). Every move is one
 * conditional UPDATE; SQLite runs one writer at a time, so a claim (the oldest due job, taken
 * only while still queued) cannot hand a job to two workers, in one process or several on one
 * file. Written for SQLite; correct on Postgres too (the outer `state = 'queued'` decides a race),
 * where `PgBossJobQueue` is used instead.
 */
export class KyselyJobQueue implements JobQueue {
  readonly name = 'embedded';
  private readonly db: Kysely<Database>;

  constructor(m: MetadataDb) {
    this.db = m.db;
  }

  start(): Promise<void> {
    return Promise.resolve(); // the migration made the table
  }

  async enqueue(spec: JobSpec): Promise<string> {
    const id = spec.id ?? randomUUID();
    const now = Date.now();
    await this.db
      .insertInto('jobs')
      .values({
        id,
        kind: spec.kind,
        data: JSON.stringify(spec.data),
        state: 'queued',
        attempts: 0,
        retry_limit: spec.retryLimit ?? 0,
        retry_delay_ms: spec.retryDelayMs ?? 0,
        retry_backoff: spec.retryBackoff === true ? 1 : 0,
        start_after: spec.startAfter ?? now,
        created_at: now,
        started_at: null,
        finished_at: null,
        owner: null,
        lease_until: 0,
        output: null,
        error: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return id;
  }

  async claim(worker: string, leaseMs: number): Promise<ClaimedJob | undefined> {
    const now = Date.now();
    const next = this.db
      .selectFrom('jobs')
      .select('id')
      .where('state', '=', 'queued')
      .where('start_after', '<=', now)
      .orderBy('start_after')
      .orderBy('created_at')
      .limit(1);
    const row = await this.db
      .updateTable('jobs')
      .set({ state: 'active', owner: worker, lease_until: now + leaseMs, attempts: sql`attempts + 1`, started_at: now, error: null })
      .where('id', '=', next)
      .where('state', '=', 'queued')
      .returning(['id', 'kind', 'data', 'attempts', 'retry_limit'])
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return { id: row.id, kind: row.kind, data: JSON.parse(row.data) as JsonObject, attempt: row.attempts, retryLimit: row.retry_limit };
  }

  async heartbeat(job: ClaimedJob, leaseMs: number): Promise<boolean> {
    const r = await this.db.updateTable('jobs').set({ lease_until: Date.now() + leaseMs }).where(held(job)).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async complete(job: ClaimedJob, output: JsonObject): Promise<boolean> {
    const r = await this.db.updateTable('jobs').set({ state: 'completed', finished_at: Date.now(), output: JSON.stringify(output), owner: null }).where(held(job)).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async fail(job: ClaimedJob, error: string): Promise<boolean> {
    const now = Date.now();
    const r = await this.db
      .updateTable('jobs')
      .set(retryOrFail(now, error))
      .where(held(job))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async release(job: ClaimedJob, reason: string): Promise<boolean> {
    // The attempt stays counted (later calls are fenced on it), and the limit grows by one.
    const r = await this.db
      .updateTable('jobs')
      .set({ state: 'queued', retry_limit: sql`retry_limit + 1`, start_after: Date.now(), error: reason, owner: null, lease_until: 0 })
      .where(held(job))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async cancel(id: string, reason = 'cancelled'): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ state: 'cancelled', finished_at: Date.now(), error: reason, owner: null, lease_until: 0 })
      .where('id', '=', id)
      .where('state', 'in', ['queued', 'active'])
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async list(q: { states?: readonly JobState[] | undefined; limit?: number | undefined }): Promise<JobRecord[]> {
    let query = this.db.selectFrom('jobs').selectAll();
    if (q.states !== undefined && q.states.length > 0) query = query.where('state', 'in', [...q.states]);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(q.limit ?? 100).execute();
    return rows.map(toRecord);
  }

  async expire(): Promise<number> {
    const now = Date.now();
    const r = await this.db
      .updateTable('jobs')
      .set(retryOrFail(now, LEASE_EXPIRED))
      .where('state', '=', 'active')
      .where('lease_until', '<', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async counts(): Promise<Record<JobState, number>> {
    const rows = await this.db.selectFrom('jobs').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
    const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const r of rows) out[r.state as JobState] = Number(r.n);
    return out;
  }

  close(): Promise<void> {
    return Promise.resolve(); // the platform closes the database
  }
}

/** An attempt's end that was not a success: queued again after its delay while attempts remain, else failed. */
function retryOrFail(now: number, error: string) {
  return {
    state: sql<string>`case when attempts <= retry_limit then 'queued' else 'failed' end`,
    start_after: sql<number>`${now} + case when retry_backoff = 1 then retry_delay_ms * (1 << min(attempts - 1, 16)) else retry_delay_ms end`,
    finished_at: sql<number | null>`case when attempts <= retry_limit then null else ${now} end`,
    error,
    owner: null,
    lease_until: 0,
  };
}

/** Only while the job is active in the attempt the worker holds. */
function held(job: ClaimedJob) {
  return (eb: ExpressionBuilder<Database, 'jobs'>) => eb.and([eb('id', '=', job.id), eb('state', '=', 'active'), eb('attempts', '=', job.attempt)]);
}

function toRecord(r: Row): JobRecord {
  return {
    id: r.id,
    kind: r.kind,
    data: JSON.parse(r.data) as JsonObject,
    state: r.state as JobState,
    attempts: r.attempts,
    retryLimit: r.retry_limit,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    output: r.output === null ? null : (JSON.parse(r.output) as JsonObject),
    error: r.error,
  };
}
