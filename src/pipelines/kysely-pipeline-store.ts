import type { Kysely, Selectable } from 'kysely';
import { outboxFor, type NewEvent, type Outbox } from '../events/index.js';
import type { Database, MetadataDb } from '../storage/db/index.js';
import type { MoveGuard, PipelineStore, StepPatch } from './pipeline-store.js';
import type { LogLine, PipelineRun, PipelineRunStatus, StepRun, StepStatus } from './types.js';

type RunRow = Selectable<Database['pipeline_runs']>;
type StepRow = Selectable<Database['pipeline_steps']>;

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export class KyselyPipelineStore implements PipelineStore {
  private readonly db: Kysely<Database>;
  private readonly outbox: Outbox;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.outbox = outboxFor(m);
  }

  async createRun(run: Omit<PipelineRun, 'steps'>, spec: string, steps: StepRun[], event: NewEvent): Promise<void> {
    await this.outbox.transaction(async (trx) => {
      await trx
        .insertInto('pipeline_runs')
        .values({
          id: run.id,
          pipeline: run.pipeline,
          spec,
          spec_hash: run.specHash,
          params: JSON.stringify(run.params),
          status: run.status,
          trigger: run.trigger,
          started_by: run.startedBy,
          base_dir: run.baseDir,
          no_cache: run.noCache ? 1 : 0,
          retry_of: run.retryOf,
          reason: run.reason,
          created_at: run.createdAt,
          updated_at: run.updatedAt,
          finished_at: run.finishedAt,
        })
        .execute();
      await trx.insertInto('pipeline_steps').values(steps.map((s) => ({ run_id: run.id, ...stepColumns(s), step: s.step, kind: s.kind, position: s.position }))).execute();
      await this.outbox.append(trx, event);
    });
  }

  async getRun(id: string): Promise<PipelineRun | undefined> {
    const row = await this.db.selectFrom('pipeline_runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    const steps = await this.db.selectFrom('pipeline_steps').selectAll().where('run_id', '=', id).orderBy('position').execute();
    return toRun(row, steps);
  }

  async getSpec(id: string): Promise<string | undefined> {
    return (await this.db.selectFrom('pipeline_runs').select('spec').where('id', '=', id).executeTakeFirst())?.spec;
  }

  async listRuns(q: { pipeline?: string | undefined; statuses?: readonly PipelineRunStatus[] | undefined; limit: number }): Promise<PipelineRun[]> {
    let query = this.db.selectFrom('pipeline_runs').selectAll();
    if (q.pipeline !== undefined) query = query.where('pipeline', '=', q.pipeline);
    if (q.statuses !== undefined && q.statuses.length > 0) query = query.where('status', 'in', [...q.statuses]);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    if (rows.length === 0) return [];
    const steps = await this.db.selectFrom('pipeline_steps').selectAll().where('run_id', 'in', rows.map((r) => r.id)).orderBy('position').execute();
    return rows.map((r) => toRun(r, steps.filter((s) => s.run_id === r.id)));
  }

  async moveStep(runId: string, step: string, from: readonly StepStatus[], patch: StepPatch, event?: NewEvent, guard: MoveGuard = {}): Promise<boolean> {
    const update = (db: Kysely<Database>) => {
      let q = db
        .updateTable('pipeline_steps')
        .set({ ...stepColumns(patch), updated_at: Date.now() })
        .where('run_id', '=', runId)
        .where('step', '=', step)
        .where('status', 'in', [...from]);
      if (guard.attempt !== undefined) q = q.where('attempt', '=', guard.attempt);
      // Evaluated with the update: a run cancelled a moment ago moves no step on.
      if (guard.runActive === true) q = q.where((eb) => eb.exists(eb.selectFrom('pipeline_runs').select('id').where('id', '=', runId).where('status', '=', 'running')));
      return q.executeTakeFirst();
    };
    if (event === undefined) return (await update(this.db)).numUpdatedRows > 0n;
    return this.outbox.transaction(async (trx) => {
      const r = await update(trx);
      if (r.numUpdatedRows === 0n) return false;
      await this.outbox.append(trx, event);
      return true;
    });
  }

  async finishRun(runId: string, status: Exclude<PipelineRunStatus, 'running'>, reason: string | null, event: NewEvent): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const now = Date.now();
      const r = await trx.updateTable('pipeline_runs').set({ status, reason, finished_at: now, updated_at: now }).where('id', '=', runId).where('status', '=', 'running').executeTakeFirst();
      if (r.numUpdatedRows === 0n) return false;
      await this.outbox.append(trx, event);
      return true;
    });
  }

  async findCached(cacheKey: string): Promise<{ runId: string; step: StepRun } | undefined> {
    const row = await this.db
      .selectFrom('pipeline_steps')
      .selectAll()
      .where('cache_key', '=', cacheKey)
      .where('status', '=', 'succeeded')
      .orderBy('finished_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : { runId: row.run_id, step: toStep(row) };
  }

  async appendLogs(runId: string, lines: Array<Omit<LogLine, 'id'>>): Promise<void> {
    if (lines.length === 0) return;
    await this.db
      .insertInto('pipeline_logs')
      .values(lines.map((l) => ({ run_id: runId, step: l.step, stream: l.stream, text: l.text, time: l.time })))
      .execute();
  }

  async readLogs(runId: string, q: { after: number; step?: string | undefined; limit: number }): Promise<LogLine[]> {
    let query = this.db.selectFrom('pipeline_logs').selectAll().where('run_id', '=', runId).where('id', '>', q.after);
    if (q.step !== undefined) query = query.where('step', '=', q.step);
    const rows = await query.orderBy('id').limit(q.limit).execute();
    return rows.map((r) => ({ id: Number(r.id), step: r.step, stream: r.stream as LogLine['stream'], text: r.text, time: Number(r.time) }));
  }
}

function stepColumns(s: StepPatch) {
  const c: Partial<Omit<StepRow, 'run_id' | 'step' | 'kind' | 'position'>> = {};
  if (s.status !== undefined) c.status = s.status;
  if (s.attempt !== undefined) c.attempt = s.attempt;
  if (s.jobId !== undefined) c.job_id = s.jobId;
  if (s.cacheKey !== undefined) c.cache_key = s.cacheKey;
  if (s.cachedFrom !== undefined) c.cached_from = s.cachedFrom;
  if (s.inputs !== undefined) c.inputs = json(s.inputs);
  if (s.outputs !== undefined) c.outputs = json(s.outputs);
  if (s.error !== undefined) c.error = s.error;
  if (s.trackingRunId !== undefined) c.tracking_run_id = s.trackingRunId;
  if (s.modelName !== undefined) c.model_name = s.modelName;
  if (s.modelVersion !== undefined) c.model_version = s.modelVersion;
  if (s.expiresAt !== undefined) c.expires_at = s.expiresAt;
  if (s.decidedBy !== undefined) c.decided_by = s.decidedBy;
  if (s.decisionReason !== undefined) c.decision_reason = s.decisionReason;
  if (s.startedAt !== undefined) c.started_at = s.startedAt;
  if (s.finishedAt !== undefined) c.finished_at = s.finishedAt;
  if (s.updatedAt !== undefined) c.updated_at = s.updatedAt;
  return c as Omit<StepRow, 'run_id' | 'step' | 'kind' | 'position'>;
}

function toStep(r: StepRow): StepRun {
  return {
    step: r.step,
    kind: r.kind,
    status: r.status as StepStatus,
    position: r.position,
    attempt: r.attempt,
    jobId: r.job_id,
    cacheKey: r.cache_key,
    cachedFrom: r.cached_from,
    inputs: r.inputs === null ? null : (JSON.parse(r.inputs) as Record<string, unknown>),
    outputs: r.outputs === null ? null : (JSON.parse(r.outputs) as Record<string, unknown>),
    error: r.error,
    trackingRunId: r.tracking_run_id,
    modelName: r.model_name,
    modelVersion: r.model_version,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    decidedBy: r.decided_by,
    decisionReason: r.decision_reason,
    startedAt: r.started_at === null ? null : Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    updatedAt: Number(r.updated_at),
  };
}

function toRun(r: RunRow, steps: StepRow[]): PipelineRun {
  return {
    id: r.id,
    pipeline: r.pipeline,
    specHash: r.spec_hash,
    params: JSON.parse(r.params) as Record<string, unknown>,
    status: r.status as PipelineRunStatus,
    trigger: r.trigger,
    startedBy: r.started_by,
    baseDir: r.base_dir,
    noCache: r.no_cache === 1,
    retryOf: r.retry_of,
    reason: r.reason,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    steps: steps.map(toStep),
  };
}
