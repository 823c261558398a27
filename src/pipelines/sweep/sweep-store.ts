import type { Kysely, Selectable } from 'kysely';
import { outboxFor, type NewEvent, type Outbox } from '../../events/index.js';
import type { Database, MetadataDb } from '../../storage/db/index.js';
import type { TrialStatus } from './samplers.js';
import type { Params } from './search-space.js';

export type SweepStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface SweepRecord {
  id: string;
  pipelineRun: string | null;
  step: string | null;
  /** The parent tracking run; each trial is a child run of it. */
  runId: string;
  spec: Record<string, unknown>;
  status: SweepStatus;
  bestTrial: number | null;
  bestValue: number | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface TrialRow {
  number: number;
  params: Params;
  status: TrialStatus;
  value: number | null;
  intermediate: Array<{ step: number; value: number }>;
  jobId: string | null;
  runId: string | null;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

/** Sweeps and trials (migration 0014); every trial move is conditional on its status, with its event. */
export class SweepStore {
  private readonly db: Kysely<Database>;
  private readonly outbox: Outbox;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.outbox = outboxFor(m);
  }

  async create(s: SweepRecord, event: NewEvent): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const r = await trx
        .insertInto('sweeps')
        .values({ id: s.id, pipeline_run: s.pipelineRun, step: s.step, run_id: s.runId, spec: JSON.stringify(s.spec), status: s.status, best_trial: null, best_value: null, created_at: s.createdAt, updated_at: s.updatedAt, finished_at: null })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if ((r.numInsertedOrUpdatedRows ?? 0n) === 0n) return false;
      await this.outbox.append(trx, event);
      return true;
    });
  }

  async get(id: string): Promise<SweepRecord | undefined> {
    const r = await this.db.selectFrom('sweeps').selectAll().where('id', '=', id).executeTakeFirst();
    return r === undefined ? undefined : toSweep(r);
  }

  /** Sweeps newest first (by creation, then id), optionally of one pipeline run. */
  async list(opts: { limit: number; pipelineRun?: string | undefined }): Promise<SweepRecord[]> {
    let q = this.db.selectFrom('sweeps').selectAll();
    if (opts.pipelineRun !== undefined) q = q.where('pipeline_run', '=', opts.pipelineRun);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
    return rows.map(toSweep);
  }

  /** How many trials of each sweep have ended (completed, failed or pruned); a sweep with none is absent. */
  async endedTrialCounts(ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('sweep_trials')
      .select((eb) => ['sweep_id', eb.fn.countAll<number | string | bigint>().as('n')])
      .where('sweep_id', 'in', [...ids])
      .where('status', '!=', 'running')
      .groupBy('sweep_id')
      .execute();
    return new Map(rows.map((r) => [r.sweep_id, Number(r.n)]));
  }

  async trials(id: string): Promise<TrialRow[]> {
    const rows = await this.db.selectFrom('sweep_trials').selectAll().where('sweep_id', '=', id).orderBy('number').execute();
    return rows.map(toTrial);
  }

  async trial(id: string, n: number): Promise<TrialRow | undefined> {
    const r = await this.db.selectFrom('sweep_trials').selectAll().where('sweep_id', '=', id).where('number', '=', n).executeTakeFirst();
    return r === undefined ? undefined : toTrial(r);
  }

  /** A new trial; false when that number exists (another orchestrator took it). */
  async addTrial(id: string, t: TrialRow): Promise<boolean> {
    const r = await this.db
      .insertInto('sweep_trials')
      .values({ sweep_id: id, number: t.number, params: JSON.stringify(t.params), status: t.status, value: t.value, intermediate: '[]', job_id: t.jobId, run_id: t.runId, error: null, started_at: t.startedAt, finished_at: null })
      .onConflict((oc) => oc.columns(['sweep_id', 'number']).doNothing())
      .executeTakeFirst();
    return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  /** Updates a running trial (its run, intermediate values), or ends it with its event. */
  async moveTrial(id: string, n: number, patch: Partial<Pick<TrialRow, 'status' | 'value' | 'intermediate' | 'runId' | 'error' | 'finishedAt'>>, event?: NewEvent): Promise<boolean> {
    const set = {
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.value !== undefined ? { value: patch.value } : {}),
      ...(patch.intermediate !== undefined ? { intermediate: JSON.stringify(patch.intermediate) } : {}),
      ...(patch.runId !== undefined ? { run_id: patch.runId } : {}),
      ...(patch.error !== undefined ? { error: patch.error } : {}),
      ...(patch.finishedAt !== undefined ? { finished_at: patch.finishedAt } : {}),
    };
    const run = async (db: Kysely<Database>) => (await db.updateTable('sweep_trials').set(set).where('sweep_id', '=', id).where('number', '=', n).where('status', '=', 'running').executeTakeFirst()).numUpdatedRows > 0n;
    if (event === undefined) return run(this.db);
    return this.outbox.transaction(async (trx) => {
      if (!(await run(trx))) return false;
      await this.outbox.append(trx, event);
      return true;
    });
  }

  async finish(id: string, status: Exclude<SweepStatus, 'running'>, best: { trial: number | null; value: number | null }, event: NewEvent): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const now = Date.now();
      const r = await trx.updateTable('sweeps').set({ status, best_trial: best.trial, best_value: best.value, updated_at: now, finished_at: now }).where('id', '=', id).where('status', '=', 'running').executeTakeFirst();
      if (r.numUpdatedRows === 0n) return false;
      await this.outbox.append(trx, event);
      return true;
    });
  }
}

function toSweep(r: Selectable<Database['sweeps']>): SweepRecord {
  return {
    id: r.id,
    pipelineRun: r.pipeline_run,
    step: r.step,
    runId: r.run_id,
    spec: JSON.parse(r.spec) as Record<string, unknown>,
    status: r.status as SweepStatus,
    bestTrial: r.best_trial,
    bestValue: r.best_value === null ? null : Number(r.best_value),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

function toTrial(r: Selectable<Database['sweep_trials']>): TrialRow {
  return {
    number: r.number,
    params: JSON.parse(r.params) as Params,
    status: r.status as TrialStatus,
    value: r.value === null ? null : Number(r.value),
    intermediate: JSON.parse(r.intermediate) as TrialRow['intermediate'],
    jobId: r.job_id,
    runId: r.run_id,
    error: r.error,
    startedAt: Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}
