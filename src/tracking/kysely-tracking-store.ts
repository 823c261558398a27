import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import { FluxError, encodePageToken } from '../core/index.js';
import { caseSensitiveLike, type Database, type Dialect, type MetadataDb } from '../storage/db/index.js';
import { EXPERIMENT_ORDER_ATTRIBUTES, RUN_ATTRIBUTES, compareRunClause as compare, type FilterClause } from '../search/index.js';
import type { ExperimentSearchQuery, KeyValue, SearchRunsQuery, TrackingStore } from './tracking-store.js';
import { DATASET_CONTEXT_TAG, type DatasetInput, type DatasetSummary, type Experiment, type InputTag, type Metric, type Page, type Run, type RunInfo, type RunStatus, type UpdateRunInput, type ViewType } from './types.js';

type Eb = ExpressionBuilder<Database, 'runs'>;

const stagesFor = (v: ViewType): string[] =>
  v === 'ALL' ? ['active', 'deleted'] : v === 'DELETED_ONLY' ? ['deleted'] : ['active'];

/** Postgres and SQLite chunk sizes stay well under their bound-parameter limits. */
const INSERT_CHUNK_ROWS = 1000;
const HYDRATE_CHUNK_IDS = 10_000;

export class KyselyTrackingStore implements TrackingStore {
  private readonly db: Kysely<Database>;
  private readonly dialect: Dialect;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.dialect = m.dialect;
  }

  async createExperiment(input: { name: string; artifactLocation?: string | undefined; tags?: KeyValue[] }): Promise<string> {
    const now = Date.now();
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('experiments').select('experiment_id').where('name', '=', input.name).executeTakeFirst();
      if (existing) throw new FluxError('RESOURCE_ALREADY_EXISTS', `experiment '${input.name}' already exists`);
      const row = await trx
        .insertInto('experiments')
        .values({ name: input.name, artifact_location: '', lifecycle_stage: 'active', creation_time: now, last_update_time: now })
        .returning('experiment_id')
        .executeTakeFirstOrThrow();
      const id = String(row.experiment_id);
      await trx
        .updateTable('experiments')
        .set({ artifact_location: input.artifactLocation ?? `mlflow-artifacts:/${id}` })
        .where('experiment_id', '=', row.experiment_id)
        .execute();
      if (input.tags && input.tags.length > 0) {
        await trx
          .insertInto('experiment_tags')
          .values(input.tags.map((t) => ({ experiment_id: row.experiment_id, key: t.key, value: t.value })))
          .execute();
      }
      return id;
    });
  }

  private async experimentsWithTags(rows: ExperimentRow[]): Promise<Experiment[]> {
    if (rows.length === 0) return [];
    const tags = await this.db
      .selectFrom('experiment_tags')
      .selectAll()
      .where(
        'experiment_id',
        'in',
        rows.map((r) => r.experiment_id),
      )
      .execute();
    return rows.map((r) => ({
      experimentId: String(r.experiment_id),
      name: r.name,
      artifactLocation: r.artifact_location,
      lifecycleStage: r.lifecycle_stage as Experiment['lifecycleStage'],
      creationTime: r.creation_time,
      lastUpdateTime: r.last_update_time,
      tags: Object.fromEntries(tags.filter((t) => t.experiment_id === r.experiment_id).map((t) => [t.key, t.value])),
    }));
  }

  async getExperiment(experimentId: string): Promise<Experiment | undefined> {
    const row = await this.db.selectFrom('experiments').selectAll().where('experiment_id', '=', Number(experimentId)).executeTakeFirst();
    return row ? (await this.experimentsWithTags([row]))[0] : undefined;
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    const row = await this.db.selectFrom('experiments').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? (await this.experimentsWithTags([row]))[0] : undefined;
  }

  async searchExperiments(q: ExperimentSearchQuery): Promise<Page<Experiment>> {
    let query = this.db.selectFrom('experiments').selectAll().where('lifecycle_stage', 'in', stagesFor(q.viewType));
    const nameLike = q.nameLike;
    if (nameLike !== undefined) query = query.where((eb) => caseSensitiveLike(eb.ref('name'), nameLike, this.dialect));
    for (const c of q.filter ?? []) query = query.where(() => this.experimentClause(c));
    let byId = false;
    for (const o of q.orderBy ?? []) {
      const col = EXPERIMENT_ORDER_ATTRIBUTES[o.key]!.column;
      byId ||= col === 'experiment_id';
      query = query.orderBy(sql.ref(`experiments.${col}`), o.ascending ? 'asc' : 'desc');
    }
    if (!byId) query = query.orderBy('experiment_id', 'asc');
    const rows = await query.limit(q.maxResults + 1).offset(q.offset).execute();
    const more = rows.length > q.maxResults;
    const items = await this.experimentsWithTags(rows.slice(0, q.maxResults));
    return { items, nextPageToken: more ? encodePageToken(q.offset + q.maxResults) : undefined };
  }

  private experimentClause(c: FilterClause): Expression<SqlBool> {
    if (c.entity === 'attribute') return compare(sql.ref(`experiments.${EXPERIMENT_ORDER_ATTRIBUTES[c.key]!.column}`), c, this.dialect);
    const cond = compare(sql.ref('et.value'), c, this.dialect);
    return sql<SqlBool>`exists (select 1 from experiment_tags as et where et.experiment_id = experiments.experiment_id and et.key = ${c.key} and ${cond})`;
  }

  async updateExperiment(experimentId: string, patch: { name?: string; lifecycleStage?: 'active' | 'deleted' }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (patch.name !== undefined) {
        const clash = await trx
          .selectFrom('experiments')
          .select('experiment_id')
          .where('name', '=', patch.name)
          .where('experiment_id', '!=', Number(experimentId))
          .executeTakeFirst();
        if (clash) throw new FluxError('RESOURCE_ALREADY_EXISTS', `experiment '${patch.name}' already exists`);
      }
      await trx
        .updateTable('experiments')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.lifecycleStage !== undefined ? { lifecycle_stage: patch.lifecycleStage } : {}),
          last_update_time: Date.now(),
        })
        .where('experiment_id', '=', Number(experimentId))
        .execute();
    });
  }

  async setExperimentTag(experimentId: string, tag: KeyValue): Promise<void> {
    await this.db
      .insertInto('experiment_tags')
      .values({ experiment_id: Number(experimentId), key: tag.key, value: tag.value })
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value: tag.value }))
      .execute();
  }

  async createRun(input: {
    runId: string;
    experimentId: string;
    runName: string;
    userId: string;
    startTime: number;
    sourceType: string;
    sourceName: string;
    sourceVersion: string;
    artifactUri: string;
    tags: KeyValue[];
  }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('runs')
        .values({
          run_uuid: input.runId,
          experiment_id: Number(input.experimentId),
          name: input.runName,
          user_id: input.userId,
          status: 'RUNNING',
          start_time: input.startTime,
          end_time: null,
          source_type: input.sourceType,
          source_name: input.sourceName,
          source_version: input.sourceVersion,
          lifecycle_stage: 'active',
          artifact_uri: input.artifactUri,
          deleted_time: null,
        })
        .execute();
      if (input.tags.length > 0) {
        await trx
          .insertInto('tags')
          .values(input.tags.map((t) => ({ run_uuid: input.runId, key: t.key, value: t.value })))
          .execute();
      }
    });
  }

  async getRun(runId: string): Promise<Run | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('run_uuid', '=', runId).executeTakeFirst();
    if (!row) return undefined;
    const [run] = await this.hydrate([row], true);
    return run;
  }

  async getRunInfo(runId: string): Promise<RunInfo | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('run_uuid', '=', runId).executeTakeFirst();
    return row ? toRunInfo(row) : undefined;
  }

  /** Attaches latest metrics, params, tags (and optionally inputs) to run rows with one query each. */
  private async hydrate(rows: RunRow[], withInputs: boolean): Promise<Run[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.run_uuid);
    // A page may hold up to 50,000 runs: the ids go in chunks that stay under both dialects'
    // bound-parameter limits (SQLite 32,766, Postgres 65,535).
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += HYDRATE_CHUNK_IDS) chunks.push(ids.slice(i, i + HYDRATE_CHUNK_IDS));
    const byChunks = <T>(f: (chunk: string[]) => Promise<T[]>): Promise<T[]> =>
      chunks.length === 1 ? f(chunks[0]!) : Promise.all(chunks.map(f)).then((parts) => parts.flat());
    const [metrics, params, tags, inputs] = await Promise.all([
      byChunks((c) => this.db.selectFrom('latest_metrics').select(['run_uuid', 'key', 'value', 'timestamp', 'step', 'is_nan']).where('run_uuid', 'in', c).execute()),
      byChunks((c) => this.db.selectFrom('params').selectAll().where('run_uuid', 'in', c).execute()),
      byChunks((c) => this.db.selectFrom('tags').selectAll().where('run_uuid', 'in', c).execute()),
      withInputs ? byChunks((c) => this.db.selectFrom('run_inputs').selectAll().where('run_uuid', 'in', c).execute()) : Promise.resolve([]),
    ]);
    const runs = new Map<string, Run>();
    for (const r of rows) {
      runs.set(r.run_uuid, {
        info: toRunInfo(r),
        data: { metrics: [], params: {}, tags: {} },
        inputs: [],
      });
    }
    for (const m of metrics) runs.get(m.run_uuid)?.data.metrics.push({ key: m.key, value: m.is_nan ? NaN : m.value, timestamp: m.timestamp, step: m.step });
    for (const p of params) {
      const run = runs.get(p.run_uuid);
      if (run) run.data.params[p.key] = p.value;
    }
    for (const t of tags) {
      const run = runs.get(t.run_uuid);
      if (run) run.data.tags[t.key] = t.value;
    }
    for (const i of inputs) {
      runs.get(i.run_uuid)?.inputs.push({
        name: i.name,
        digest: i.digest,
        sourceType: i.source_type,
        source: i.source,
        schema: i.schema,
        profile: i.profile,
        context: i.context,
        tags: inputTags(i.tags, i.context),
      });
    }
    for (const run of runs.values()) run.data.metrics.sort((a, b) => a.key.localeCompare(b.key));
    return ids.map((id) => runs.get(id)!);
  }

  async updateRun(runId: string, patch: UpdateRunInput & { lifecycleStage?: 'active' | 'deleted'; deletedTime?: number | null }): Promise<void> {
    const set: Partial<RunRow> = {};
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.endTime !== undefined) set.end_time = patch.endTime;
    if (patch.runName !== undefined) set.name = patch.runName;
    if (patch.lifecycleStage !== undefined) set.lifecycle_stage = patch.lifecycleStage;
    if (patch.deletedTime !== undefined) set.deleted_time = patch.deletedTime;
    if (Object.keys(set).length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('runs').set(set).where('run_uuid', '=', runId).execute();
      // The run name is mirrored in the mlflow.runName tag, as MLflow clients read it from there.
      if (patch.runName !== undefined) await upsertKv(trx, 'tags', runId, [{ key: 'mlflow.runName', value: patch.runName }]);
    });
  }

  async logBatch(runId: string, batch: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (batch.params.length > 0) await this.insertParams(trx, runId, batch.params);
      if (batch.tags.length > 0) {
        await upsertKv(trx, 'tags', runId, batch.tags);
        // The run name follows the mlflow.runName tag, as MLflow's set_tag renames a run.
        const runName = batch.tags.findLast((t) => t.key === 'mlflow.runName')?.value;
        if (runName !== undefined) await trx.updateTable('runs').set({ name: runName }).where('run_uuid', '=', runId).execute();
      }
      if (batch.metrics.length > 0) await this.insertMetrics(trx, runId, batch.metrics);
    });
  }

  private async insertParams(trx: Transaction<Database>, runId: string, params: KeyValue[]): Promise<void> {
    const keys = params.map((p) => p.key);
    const existing = await trx.selectFrom('params').select(['key', 'value']).where('run_uuid', '=', runId).where('key', 'in', keys).execute();
    const logged = new Map(existing.map((p) => [p.key, p.value]));
    const fresh = new Map<string, string>();
    for (const p of params) {
      const old = logged.get(p.key) ?? fresh.get(p.key);
      if (old !== undefined && old !== p.value) {
        throw new FluxError(
          'INVALID_PARAMETER_VALUE',
          `param '${p.key}' was already logged for run '${runId}' with value '${old}'; params are immutable, so the new value '${p.value}' is refused`,
          { field: `params.${p.key}` },
        );
      }
      if (old === undefined) fresh.set(p.key, p.value);
    }
    if (fresh.size > 0) {
      await trx
        .insertInto('params')
        .values([...fresh].map(([key, value]) => ({ run_uuid: runId, key, value })))
        .execute();
    }
  }

  private async insertMetrics(trx: Transaction<Database>, runId: string, metrics: Metric[]): Promise<void> {
    const rows = metrics.map((m) => ({
      run_uuid: runId,
      key: m.key,
      // SQLite stores NaN as NULL, so NaN is a flag beside a placeholder; ±Infinity are stored as
      // they are (SQLite REAL and Postgres double precision both keep them).
      value: Number.isNaN(m.value) ? 0 : m.value,
      timestamp: m.timestamp,
      step: m.step,
      is_nan: Number.isNaN(m.value) ? 1 : 0,
    }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
      await trx.insertInto('metrics').values(rows.slice(i, i + INSERT_CHUNK_ROWS)).execute();
    }
    // Latest value per key: highest step, then newest timestamp, then largest value (MLflow's rule).
    const latest = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      const cur = latest.get(r.key);
      if (cur === undefined || newer(r, cur)) latest.set(r.key, r);
    }
    const existing = await trx
      .selectFrom('latest_metrics')
      .selectAll()
      .where('run_uuid', '=', runId)
      .where('key', 'in', [...latest.keys()])
      .execute();
    const existingByKey = new Map(existing.map((e) => [e.key, e]));
    const changed = [...latest.values()].filter((r) => {
      const e = existingByKey.get(r.key);
      return e === undefined || newer(r, e);
    });
    if (changed.length === 0) return;
    await trx
      .insertInto('latest_metrics')
      .values(changed)
      .onConflict((oc) =>
        oc.columns(['run_uuid', 'key']).doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          timestamp: eb.ref('excluded.timestamp'),
          step: eb.ref('excluded.step'),
          is_nan: eb.ref('excluded.is_nan'),
        })),
      )
      .execute();
  }

  async deleteTag(runId: string, key: string): Promise<boolean> {
    const res = await this.db.deleteFrom('tags').where('run_uuid', '=', runId).where('key', '=', key).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    if (datasets.length === 0) return;
    // One row per dataset (name, digest): a dataset given twice in one call is written once, as
    // given last (Postgres refuses an upsert that touches a row twice).
    const unique = new Map(datasets.map((d) => [JSON.stringify([d.name, d.digest]), d]));
    await this.db
      .insertInto('run_inputs')
      .values(
        [...unique.values()].map((d) => ({
          run_uuid: runId,
          name: d.name,
          digest: d.digest,
          source_type: d.sourceType,
          source: d.source,
          schema: d.schema,
          profile: d.profile,
          context: d.context,
          tags: JSON.stringify(d.tags.map((t) => ({ key: t.key, value: t.value }))),
        })),
      )
      .onConflict((oc) => oc.columns(['run_uuid', 'name', 'digest']).doUpdateSet((eb) => ({ context: eb.ref('excluded.context'), tags: eb.ref('excluded.tags') })))
      .execute();
  }

  async searchDatasets(experimentIds: string[], limit: number): Promise<DatasetSummary[]> {
    // Experiment ids are integers in the schema; any other id names no experiment.
    const ids = experimentIds.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('run_inputs')
      .innerJoin('runs', 'runs.run_uuid', 'run_inputs.run_uuid')
      .select(['runs.experiment_id', 'run_inputs.name', 'run_inputs.digest', 'run_inputs.context'])
      .distinct()
      .where('runs.experiment_id', 'in', ids)
      .orderBy('runs.experiment_id')
      .orderBy('run_inputs.name')
      .orderBy('run_inputs.digest')
      .orderBy('run_inputs.context')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ experimentId: String(r.experiment_id), name: r.name, digest: r.digest, context: r.context }));
  }

  async getMetricHistory(runId: string, key: string, offset: number, maxResults: number): Promise<Page<Metric>> {
    const rows = await this.db
      .selectFrom('metrics')
      .select(['key', 'value', 'timestamp', 'step', 'is_nan'])
      .where('run_uuid', '=', runId)
      .where('key', '=', key)
      .orderBy('step', 'asc')
      .orderBy('timestamp', 'asc')
      .limit(maxResults + 1)
      .offset(offset)
      .execute();
    const more = rows.length > maxResults;
    return {
      items: rows.slice(0, maxResults).map((r) => ({ key: r.key, value: r.is_nan ? NaN : r.value, timestamp: r.timestamp, step: r.step })),
      nextPageToken: more ? encodePageToken(offset + maxResults) : undefined,
    };
  }

  async searchRuns(q: SearchRunsQuery): Promise<Page<Run>> {
    let query = this.db
      .selectFrom('runs')
      .selectAll('runs')
      .where(
        'runs.experiment_id',
        'in',
        q.experimentIds.map((e) => Number(e)),
      )
      .where('runs.lifecycle_stage', 'in', stagesFor(q.viewType));
    for (const clause of q.filter) query = query.where((eb) => this.clauseExpression(eb, clause));
    q.orderBy.forEach((o, i) => {
      const alias = `o${i}`;
      if (o.entity === 'attribute') {
        const col = RUN_ATTRIBUTES[o.key]!.column as keyof RunRow;
        query = query.orderBy(sql.ref(`runs.${col}`), o.ascending ? 'asc' : 'desc');
        return;
      }
      const table = o.entity === 'metric' ? 'latest_metrics' : o.entity === 'param' ? 'params' : 'tags';
      const value = sql`(select ${sql.ref(`${alias}.value`)} from ${sql.table(table)} as ${sql.raw(alias)} where ${sql.ref(`${alias}.run_uuid`)} = ${sql.ref('runs.run_uuid')} and ${sql.ref(`${alias}.key`)} = ${o.key})`;
      // Runs without the value sort last whatever the direction, as MLflow does.
      query = query.orderBy(sql`case when ${value} is null then 1 else 0 end`, 'asc').orderBy(value, o.ascending ? 'asc' : 'desc');
    });
    query = query.orderBy('runs.start_time', 'desc').orderBy('runs.run_uuid', 'asc');
    const rows = await query.limit(q.maxResults + 1).offset(q.offset).execute();
    const more = rows.length > q.maxResults;
    // Found runs carry their dataset inputs too, as MLflow's search returns them.
    const items = await this.hydrate(rows.slice(0, q.maxResults), true);
    return { items, nextPageToken: more ? encodePageToken(q.offset + q.maxResults) : undefined };
  }

  private clauseExpression(eb: Eb, c: FilterClause): Expression<SqlBool> {
    if (c.entity === 'attribute') {
      const col = sql.ref(`runs.${RUN_ATTRIBUTES[c.key]!.column}`);
      return compare(col, c, this.dialect);
    }
    const table = c.entity === 'metric' ? 'latest_metrics' : c.entity === 'param' ? 'params' : 'tags';
    const alias = 'f';
    const cond = compare(sql.ref(`${alias}.value`), c, this.dialect);
    const nanGuard = c.entity === 'metric' ? sql` and ${sql.ref(`${alias}.is_nan`)} = 0` : sql``;
    const sub = sql<SqlBool>`exists (select 1 from ${sql.table(table)} as ${sql.raw(alias)} where ${sql.ref(`${alias}.run_uuid`)} = ${sql.ref('runs.run_uuid')} and ${sql.ref(`${alias}.key`)} = ${c.key} and ${cond}${nanGuard})`;
    void eb;
    return sub;
  }
}

type ExperimentRow = { experiment_id: number; name: string; artifact_location: string; lifecycle_stage: string; creation_time: number; last_update_time: number };
type RunRow = Database['runs'];

function toRunInfo(r: RunRow): RunInfo {
  return {
    runId: r.run_uuid,
    runName: r.name,
    experimentId: String(r.experiment_id),
    userId: r.user_id,
    status: r.status as RunStatus,
    startTime: r.start_time,
    endTime: r.end_time,
    artifactUri: r.artifact_uri,
    lifecycleStage: r.lifecycle_stage as RunInfo['lifecycleStage'],
    sourceType: r.source_type,
    sourceName: r.source_name,
    sourceVersion: r.source_version,
  };
}

/**
 * The tags of a stored input: its JSON list, or, for a row written before inputs kept their tags,
 * the context tag its context column implies.
 */
function inputTags(json: string, context: string): InputTag[] {
  let tags: InputTag[] = [];
  try {
    const parsed: unknown = JSON.parse(json);
    if (Array.isArray(parsed)) {
      tags = parsed.filter((t): t is InputTag => typeof t === 'object' && t !== null && typeof (t as InputTag).key === 'string' && typeof (t as InputTag).value === 'string');
    }
  } catch {
    // not JSON: treated as a row without tags
  }
  if (tags.length === 0 && context !== '') return [{ key: DATASET_CONTEXT_TAG, value: context }];
  return tags;
}

function newer(a: { step: number; timestamp: number; value: number }, b: { step: number; timestamp: number; value: number }): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value > b.value;
}

async function upsertKv(trx: Transaction<Database>, table: 'tags', runId: string, kvs: KeyValue[]): Promise<void> {
  const dedup = new Map(kvs.map((t) => [t.key, t.value]));
  await trx
    .insertInto(table)
    .values([...dedup].map(([key, value]) => ({ run_uuid: runId, key, value })))
    .onConflict((oc) => oc.columns(['run_uuid', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
    .execute();
}
