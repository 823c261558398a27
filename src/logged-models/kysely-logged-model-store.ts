import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { FluxError, encodePageToken } from '../core/index.js';
import { compareSql, type SearchClause } from '../search/index.js';
import type { Database, Dialect, MetadataDb } from '../storage/db/index.js';
import type { Page } from '../tracking/index.js';
import type { LoggedModelStore, SearchLoggedModelsQuery } from './logged-model-store.js';
import type { LoggedModel, LoggedModelMetric, LoggedModelStatus, NewLoggedModel } from './types.js';

type Row = Database['logged_models'];
type Eb = ExpressionBuilder<Database & { lm: Row }, 'lm'>;

/** Search attributes → columns of `logged_models as lm`. */
const COLUMNS: Record<string, 'lm.name' | 'lm.model_id' | 'lm.model_type' | 'lm.status' | 'lm.source_run_id' | 'lm.creation_time' | 'lm.last_updated_time'> = {
  name: 'lm.name',
  model_id: 'lm.model_id',
  model_type: 'lm.model_type',
  status: 'lm.status',
  source_run_id: 'lm.source_run_id',
  creation_timestamp: 'lm.creation_time',
  last_updated_timestamp: 'lm.last_updated_time',
};

export class KyselyLoggedModelStore implements LoggedModelStore {
  private readonly db: Kysely<Database>;
  private readonly dialect: Dialect;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.dialect = m.dialect;
  }

  async create(input: NewLoggedModel): Promise<void> {
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('logged_models')
        .values({
          model_id: input.modelId,
          experiment_id: Number(input.experimentId),
          name: input.name,
          artifact_location: input.artifactLocation,
          status: 'PENDING',
          status_message: '',
          model_type: input.modelType,
          source_run_id: input.sourceRunId,
          lifecycle_stage: 'active',
          creation_time: now,
          last_updated_time: now,
        })
        .execute();
      if (input.params.length > 0) await trx.insertInto('logged_model_params').values(input.params.map((p) => ({ model_id: input.modelId, ...p }))).execute();
      if (input.tags.length > 0) await trx.insertInto('logged_model_tags').values(input.tags.map((t) => ({ model_id: input.modelId, ...t }))).execute();
    });
  }

  async get(modelId: string): Promise<LoggedModel | undefined> {
    const row = await this.db.selectFrom('logged_models').selectAll().where('model_id', '=', modelId).executeTakeFirst();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  /** Params, tags and metrics of a page of models, with one query per table. */
  private async hydrate(rows: Row[]): Promise<LoggedModel[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.model_id);
    const [params, tags, metrics] = await Promise.all([
      this.db.selectFrom('logged_model_params').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      this.db.selectFrom('logged_model_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      this.db.selectFrom('logged_model_metrics').selectAll().where('model_id', 'in', ids).orderBy('key').orderBy('step').orderBy('timestamp').execute(),
    ]);
    return rows.map((r) => ({
      modelId: r.model_id,
      experimentId: String(r.experiment_id),
      name: r.name,
      artifactLocation: r.artifact_location,
      status: r.status as LoggedModelStatus,
      statusMessage: r.status_message,
      modelType: r.model_type,
      sourceRunId: r.source_run_id,
      lifecycleStage: r.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
      creationTime: r.creation_time,
      lastUpdatedTime: r.last_updated_time,
      params: Object.fromEntries(params.filter((p) => p.model_id === r.model_id).map((p) => [p.key, p.value])),
      tags: Object.fromEntries(tags.filter((t) => t.model_id === r.model_id).map((t) => [t.key, t.value])),
      metrics: metrics
        .filter((m) => m.model_id === r.model_id)
        .map((m) => ({
          key: m.key,
          value: m.is_nan ? NaN : m.value,
          timestamp: m.timestamp,
          step: m.step,
          runId: m.run_id,
          datasetName: m.dataset_name,
          datasetDigest: m.dataset_digest,
        })),
    }));
  }

  async update(modelId: string, patch: { status?: LoggedModelStatus; statusMessage?: string; lifecycleStage?: 'active' | 'deleted' }): Promise<void> {
    await this.db
      .updateTable('logged_models')
      .set({
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.statusMessage !== undefined ? { status_message: patch.statusMessage } : {}),
        ...(patch.lifecycleStage !== undefined ? { lifecycle_stage: patch.lifecycleStage } : {}),
        last_updated_time: Date.now(),
      })
      .where('model_id', '=', modelId)
      .execute();
  }

  async setTags(modelId: string, tags: Array<{ key: string; value: string }>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Sorted keys: two calls on Postgres lock the rows in one order and wait instead of deadlocking.
      for (const t of [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
        await trx
          .insertInto('logged_model_tags')
          .values({ model_id: modelId, key: t.key, value: t.value })
          .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: t.value }))
          .execute();
      }
      await trx.updateTable('logged_models').set({ last_updated_time: Date.now() }).where('model_id', '=', modelId).execute();
    });
  }

  async deleteTag(modelId: string, key: string): Promise<boolean> {
    const r = await this.db.deleteFrom('logged_model_tags').where('model_id', '=', modelId).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async logParams(modelId: string, params: Array<{ key: string; value: string }>): Promise<void> {
    if (params.length === 0) return;
    const refuse = (key: string, before: string, value: string): FluxError =>
      new FluxError('INVALID_PARAMETER_VALUE', `param '${key}' of logged model ${modelId} is already '${before.slice(0, 100)}'; params cannot change (got '${value.slice(0, 100)}')`);
    const wanted = new Map<string, string>();
    for (const p of params) {
      const before = wanted.get(p.key);
      if (before !== undefined && before !== p.value) throw refuse(p.key, before, p.value);
      wanted.set(p.key, p.value);
    }
    const keys = [...wanted.keys()].sort();
    await this.db.transaction().execute(async (trx) => {
      // Insert what is new (another request inserting a key now is no error), then compare with
      // what is stored: the same value is accepted, another refuses the call.
      await trx
        .insertInto('logged_model_params')
        .values(keys.map((key) => ({ model_id: modelId, key, value: wanted.get(key)! })))
        .onConflict((oc) => oc.columns(['model_id', 'key']).doNothing())
        .execute();
      const stored = await trx.selectFrom('logged_model_params').select(['key', 'value']).where('model_id', '=', modelId).where('key', 'in', keys).execute();
      for (const s of stored) {
        const value = wanted.get(s.key)!;
        if (s.value !== value) throw refuse(s.key, s.value, value);
      }
      await trx.updateTable('logged_models').set({ last_updated_time: Date.now() }).where('model_id', '=', modelId).execute();
    });
  }

  async logMetrics(modelId: string, metrics: LoggedModelMetric[]): Promise<void> {
    if (metrics.length === 0) return;
    await this.db
      .insertInto('logged_model_metrics')
      .values(
        metrics.map((m) => ({
          model_id: modelId,
          key: m.key,
          // SQLite keeps NaN as NULL; the flag keeps it (as the run metrics tables do).
          value: Number.isNaN(m.value) ? 0 : m.value,
          is_nan: Number.isNaN(m.value) ? 1 : 0,
          timestamp: m.timestamp,
          step: m.step,
          run_id: m.runId,
          dataset_name: m.datasetName,
          dataset_digest: m.datasetDigest,
        })),
      )
      .execute();
  }

  async search(q: SearchLoggedModelsQuery): Promise<Page<LoggedModel>> {
    if (q.experimentIds.length === 0) return { items: [] };
    let query = this.db
      .selectFrom('logged_models as lm')
      .selectAll('lm')
      .where(
        'lm.experiment_id',
        'in',
        q.experimentIds.map((e) => Number(e)),
      )
      .where('lm.lifecycle_stage', '=', 'active');
    for (const c of q.filter) query = query.where((eb) => this.clause(eb, c, q.datasets));
    for (const o of q.orderBy) {
      if (o.entity === 'metric') {
        const latest = (eb: Eb) => this.latestMetric(eb, o.key, q.datasets);
        // Models without the metric come last, in either direction.
        query = query.orderBy((eb) => sql<number>`case when ${latest(eb)} is null then 1 else 0 end`).orderBy((eb) => latest(eb), o.ascending ? 'asc' : 'desc');
      } else {
        query = query.orderBy(COLUMNS[o.key] ?? 'lm.creation_time', o.ascending ? 'asc' : 'desc');
      }
    }
    if (!q.orderBy.some((o) => o.entity === 'attribute' && o.key === 'creation_timestamp')) query = query.orderBy('lm.creation_time', 'desc');
    query = query.orderBy('lm.model_id', 'asc');
    const rows = await query.limit(q.maxResults + 1).offset(q.offset).execute();
    const more = rows.length > q.maxResults;
    return { items: await this.hydrate(rows.slice(0, q.maxResults)), nextPageToken: more ? encodePageToken(q.offset + q.maxResults) : undefined };
  }

  private clause(eb: Eb, c: SearchClause, datasets: SearchLoggedModelsQuery['datasets']): Expression<SqlBool> {
    if (c.entity === 'attribute') {
      const column = COLUMNS[c.key];
      if (column === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `cannot search logged models by ${c.key}`);
      return compareSql(eb.ref(column), c.comparator, c.value, this.dialect);
    }
    if (c.entity === 'metric') {
      return eb.exists(
        eb
          .selectFrom('logged_model_metrics as x')
          .select(sql.lit(1).as('one'))
          .whereRef('x.model_id', '=', 'lm.model_id')
          .where('x.key', '=', c.key)
          .where('x.is_nan', '=', 0)
          .where((xb) => this.datasetMatch(xb, datasets))
          .where((xb) => compareSql(xb.ref('x.value'), c.comparator, c.value, this.dialect)),
      );
    }
    const table = c.entity === 'param' ? 'logged_model_params' : 'logged_model_tags';
    return eb.exists(
      eb
        .selectFrom(`${table} as x`)
        .select(sql.lit(1).as('one'))
        .whereRef('x.model_id', '=', 'lm.model_id')
        .where('x.key', '=', c.key)
        .where((xb) => compareSql(xb.ref('x.value'), c.comparator, c.value, this.dialect)),
    );
  }

  private datasetMatch(
    xb: ExpressionBuilder<Database & { x: Database['logged_model_metrics'] }, 'x'>,
    datasets: SearchLoggedModelsQuery['datasets'],
  ): Expression<SqlBool> {
    if (datasets.length === 0) return sql<SqlBool>`1 = 1`;
    return xb.or(
      datasets.map((d) =>
        d.digest === undefined
          ? xb('x.dataset_name', '=', d.name)
          : xb.and([xb('x.dataset_name', '=', d.name), xb('x.dataset_digest', '=', d.digest)]),
      ),
    );
  }

  /** The model's latest value of a metric (highest step, then newest), for ordering. */
  private latestMetric(eb: Eb, key: string, datasets: SearchLoggedModelsQuery['datasets']): Expression<number> {
    return eb
      .selectFrom('logged_model_metrics as x')
      .select('x.value')
      .whereRef('x.model_id', '=', 'lm.model_id')
      .where('x.key', '=', key)
      .where('x.is_nan', '=', 0)
      .where((xb) => this.datasetMatch(xb, datasets))
      .orderBy('x.step', 'desc')
      .orderBy('x.timestamp', 'desc')
      .limit(1)
      .$asScalar();
  }

  async findForRun(runId: string, name: string): Promise<LoggedModel | undefined> {
    const row = await this.db
      .selectFrom('logged_models')
      .selectAll()
      .where('source_run_id', '=', runId)
      .where('name', '=', name)
      .where('lifecycle_stage', '=', 'active')
      .orderBy('creation_time', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  async logOutputs(runId: string, outputs: Array<{ modelId: string; step: number }>): Promise<void> {
    if (outputs.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const o of outputs) {
        await trx
          .insertInto('logged_model_outputs')
          .values({ run_uuid: runId, model_id: o.modelId, step: o.step })
          .onConflict((oc) => oc.columns(['run_uuid', 'model_id']).doUpdateSet({ step: o.step }))
          .execute();
      }
    });
  }

  async outputsOf(runId: string): Promise<Array<{ modelId: string; step: number }>> {
    const rows = await this.db
      .selectFrom('logged_model_outputs as o')
      .innerJoin('logged_models as lm', 'lm.model_id', 'o.model_id')
      .select(['o.model_id', 'o.step'])
      .where('o.run_uuid', '=', runId)
      .where('lm.lifecycle_stage', '=', 'active')
      .orderBy('lm.creation_time')
      .orderBy('o.model_id')
      .execute();
    return rows.map((r) => ({ modelId: r.model_id, step: r.step }));
  }
}
