import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { FluxError, encodePageToken } from '../core/index.js';
import { outboxFor, type Actor, type Outbox } from '../events/index.js';
import { groupCommitterFor, type GroupCommitter, RowInsert, caseSensitiveLike, uniqueOrAlreadyExists, type Database, type Dialect, type MetadataDb } from '../storage/db/index.js';
import { EXPERIMENT_ORDER_ATTRIBUTES, RUN_ATTRIBUTES, compareSql, type FilterClause } from '../search/index.js';
import type { ExperimentSearchQuery, KeyValue, SearchRunsQuery, TrackingStore } from './tracking-store.js';
import { DATASET_CONTEXT_TAG, type DatasetInput, type DatasetSummary, type Experiment, type InputTag, type Metric, type Page, type Run, type RunInfo, type RunStatus, type UpdateRunInput, type ViewType } from './types.js';

type Eb = ExpressionBuilder<Database, 'runs'>;

const stagesFor = (v: ViewType): string[] =>
  v === 'ALL' ? ['active', 'deleted'] : v === 'DELETED_ONLY' ? ['deleted'] : ['active'];

/** Postgres and SQLite chunk sizes stay well under their bound-parameter limits. */
const INSERT_CHUNK_ROWS = 1000;
const HYDRATE_CHUNK_IDS = 10_000;

export interface TrackingStoreOptions {
  /** SQLite only: commit concurrent metric/param/tag writes together (see GroupCommitter). Default on. */
  groupCommit?: boolean | undefined;
}

export class KyselyTrackingStore implements TrackingStore {
  private readonly db: Kysely<Database>;
  private readonly dialect: Dialect;
  private readonly outbox: Outbox;
  /** Present on SQLite with group commit on; Postgres commits each batch on its own pooled connection. */
  private readonly committer: GroupCommitter | undefined;

  constructor(m: MetadataDb, options: TrackingStoreOptions = {}) {
    this.db = m.db;
    this.dialect = m.dialect;
    this.outbox = outboxFor(m);
    this.committer = m.dialect === 'sqlite' && options.groupCommit !== false ? groupCommitterFor(m.db) : undefined;
  }

  async createExperiment(input: { name: string; artifactLocation?: string | undefined; tags?: KeyValue[] }, actor: Actor): Promise<string> {
    const now = Date.now();
    return this.outbox.transaction(async (trx) => {
      // No look-up first: the unique name decides, also against another server inserting it now
      // (and on SQLite a transaction that starts by writing cannot find its snapshot stale).
      const row = await uniqueOrAlreadyExists(
        () =>
          trx
            .insertInto('experiments')
            .values({ name: input.name, artifact_location: '', lifecycle_stage: 'active', creation_time: now, last_update_time: now })
            .returning('experiment_id')
            .executeTakeFirstOrThrow(),
        `experiment '${input.name}' already exists`,
      );
      const id = String(row.experiment_id);
      await trx
        .updateTable('experiments')
        .set({ artifact_location: input.artifactLocation ?? `mlflow-artifacts:/${id}` })
        .where('experiment_id', '=', row.experiment_id)
        .execute();
      if (input.tags && input.tags.length > 0) {
        // A key given twice keeps its last value rather than violating the key.
        const tags = new Map(input.tags.map((t) => [t.key, t.value]));
        await trx
          .insertInto('experiment_tags')
          .values([...tags].map(([key, value]) => ({ experiment_id: row.experiment_id, key, value })))
          .execute();
      }
      await this.outbox.append(trx, { type: 'experiment.created', experimentId: id, payload: { experiment_id: id, name: input.name }, actor });
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
    if (c.entity === 'attribute') return compareSql(sql.ref(`experiments.${EXPERIMENT_ORDER_ATTRIBUTES[c.key]!.column}`), c.comparator, c.value, this.dialect);
    const cond = compareSql(sql.ref('et.value'), c.comparator, c.value, this.dialect);
    return sql<SqlBool>`exists (select 1 from experiment_tags as et where et.experiment_id = experiments.experiment_id and et.key = ${c.key} and ${cond})`;
  }

  async updateExperiment(experimentId: string, patch: { name?: string; lifecycleStage?: 'active' | 'deleted' }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // The unique name refuses a taken one, also when another server takes it at this moment.
      await uniqueOrAlreadyExists(
        () =>
          trx
            .updateTable('experiments')
            .set({
              ...(patch.name !== undefined ? { name: patch.name } : {}),
              ...(patch.lifecycleStage !== undefined ? { lifecycle_stage: patch.lifecycleStage } : {}),
              last_update_time: Date.now(),
            })
            .where('experiment_id', '=', Number(experimentId))
            .execute(),
        `experiment '${patch.name ?? ''}' already exists`,
      );
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
  }, actor: Actor): Promise<void> {
    await this.outbox.transaction(async (trx) => {
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
      await this.outbox.append(trx, {
        type: 'run.created',
        runId: input.runId,
        experimentId: input.experimentId,
        payload: { run_id: input.runId, experiment_id: input.experimentId, run_name: input.runName },
        actor,
      });
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

  async updateRun(runId: string, patch: UpdateRunInput & { lifecycleStage?: 'active' | 'deleted'; deletedTime?: number | null }, actor: Actor): Promise<void> {
    const set: Partial<RunRow> = {};
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.endTime !== undefined) set.end_time = patch.endTime;
    if (patch.runName !== undefined) set.name = patch.runName;
    if (patch.lifecycleStage !== undefined) set.lifecycle_stage = patch.lifecycleStage;
    if (patch.deletedTime !== undefined) set.deleted_time = patch.deletedTime;
    if (Object.keys(set).length === 0) return;
    await this.outbox.transaction(async (trx) => {
      const before = patch.status !== undefined ? await trx.selectFrom('runs').select(['status', 'experiment_id']).where('run_uuid', '=', runId).executeTakeFirst() : undefined;
      await trx.updateTable('runs').set(set).where('run_uuid', '=', runId).execute();
      // The run name is mirrored in the mlflow.runName tag, as MLflow clients read it from there.
      if (patch.runName !== undefined) await upsertKv(trx, 'tags', runId, [{ key: 'mlflow.runName', value: patch.runName }]);
      if (before !== undefined && before.status !== patch.status && isTerminal(patch.status)) {
        const experimentId = String(before.experiment_id);
        await this.outbox.append(trx, {
          type: 'run.finished',
          runId,
          experimentId,
          payload: { run_id: runId, experiment_id: experimentId, status: patch.status, previous_status: before.status, end_time: patch.endTime ?? null },
          actor,
        });
      }
    });
  }

  async logBatch(runId: string, batch: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] }): Promise<void> {
    const write = (db: Kysely<Database>): Promise<void> => this.writeBatch(db, runId, batch);
    if (this.committer !== undefined) await this.committer.run(write);
    else await this.db.transaction().execute(write);
  }

  /**
   * One batch's writes, inside a transaction. Rows are written in one order everywhere (the run
   * row, then params, tags and latest metrics, each sorted by key) so that two batches on Postgres
   * wait for each other instead of deadlocking.
   */
  private async writeBatch(db: Kysely<Database>, runId: string, batch: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] }): Promise<void> {
    // The run name follows the mlflow.runName tag, as MLflow's set_tag renames a run.
    const runName = batch.tags.findLast((t) => t.key === 'mlflow.runName')?.value;
    if (runName !== undefined) await db.updateTable('runs').set({ name: runName }).where('run_uuid', '=', runId).execute();
    if (batch.params.length > 0) await this.insertParams(db, runId, batch.params);
    if (batch.tags.length > 0) await upsertKv(db, 'tags', runId, batch.tags);
    if (batch.metrics.length > 0) await this.insertMetrics(db, runId, batch.metrics);
  }

  /**
   * Params are immutable. Each is inserted unless its key is there already (ON CONFLICT DO
   * NOTHING: another request logging it at the same moment is no error), then what is stored is
   * compared with what was asked: another value refuses the batch, the same value is accepted.
   */
  private async insertParams(db: Kysely<Database>, runId: string, params: KeyValue[]): Promise<void> {
    const wanted = new Map<string, string>();
    for (const p of params) {
      const before = wanted.get(p.key);
      if (before !== undefined && before !== p.value) throw paramChanged(runId, p.key, before, p.value);
      wanted.set(p.key, p.value);
    }
    const keys = [...wanted.keys()].sort();
    await db
      .insertInto('params')
      .values(keys.map((key) => ({ run_uuid: runId, key, value: wanted.get(key)! })))
      .onConflict((oc) => oc.columns(['run_uuid', 'key']).doNothing())
      .execute();
    const stored = await db.selectFrom('params').select(['key', 'value']).where('run_uuid', '=', runId).where('key', 'in', keys).execute();
    for (const s of stored) {
      const value = wanted.get(s.key)!;
      if (s.value !== value) throw paramChanged(runId, s.key, s.value, value);
    }
  }

  private async insertMetrics(db: Kysely<Database>, runId: string, metrics: Metric[]): Promise<void> {
    const rows: MetricRow[] = metrics.map((m) => ({
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
      const chunk = rows.slice(i, i + INSERT_CHUNK_ROWS);
      await db.executeQuery(this.metricInserts.history.bind(chunk));
    }
    // Latest value per key: highest step, then newest timestamp, then largest value (MLflow's rule).
    const latest = new Map<string, MetricRow>();
    for (const r of rows) {
      const cur = latest.get(r.key);
      if (cur === undefined || newer(r, cur)) latest.set(r.key, r);
    }
    const candidates = [...latest.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (let i = 0; i < candidates.length; i += INSERT_CHUNK_ROWS) {
      await db.executeQuery(this.metricInserts.latest.bind(candidates.slice(i, i + INSERT_CHUNK_ROWS)));
    }
  }

  /**
   * The metric history insert and the latest-metric upsert. The upsert is one conditional
   * statement, no read first: the stored row is replaced only when the incoming one is newer by
   * the rule above, decided by the database against the row as committed, so concurrent batches
   * (other servers included) cannot overwrite a newer value with an older one.
   */
  private readonly metricInserts = {
    history: new RowInsert<MetricRow>((rows) => this.db.insertInto('metrics').values(rows)),
    latest: new RowInsert<MetricRow>((rows) =>
      this.db
        .insertInto('latest_metrics')
        .values(rows)
        .onConflict((oc) =>
          oc
            .columns(['run_uuid', 'key'])
            .doUpdateSet((eb) => ({
              value: eb.ref('excluded.value'),
              timestamp: eb.ref('excluded.timestamp'),
              step: eb.ref('excluded.step'),
              is_nan: eb.ref('excluded.is_nan'),
            }))
            .where((eb) =>
              eb.or([
                eb('excluded.step', '>', eb.ref('latest_metrics.step')),
                eb.and([
                  eb('excluded.step', '=', eb.ref('latest_metrics.step')),
                  eb.or([
                    eb('excluded.timestamp', '>', eb.ref('latest_metrics.timestamp')),
                    eb.and([eb('excluded.timestamp', '=', eb.ref('latest_metrics.timestamp')), eb('excluded.value', '>', eb.ref('latest_metrics.value'))]),
                  ]),
                ]),
              ]),
            ),
        ),
    ),
  };

  async updateTag(runId: string, key: string, update: (current: string | undefined) => string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // The first statement writes, so on SQLite the transaction holds the write lock from its
      // start; on Postgres the row is then locked FOR UPDATE. Either way two servers updating the
      // tag take turns, and each sees the value the other committed.
      const inserted = await trx
        .insertInto('tags')
        .values({ run_uuid: runId, key, value: update(undefined) })
        .onConflict((oc) => oc.columns(['run_uuid', 'key']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return;
      let read = trx.selectFrom('tags').select('value').where('run_uuid', '=', runId).where('key', '=', key);
      if (this.dialect === 'postgres') read = read.forUpdate();
      const row = await read.executeTakeFirstOrThrow();
      await trx.updateTable('tags').set({ value: update(row.value) }).where('run_uuid', '=', runId).where('key', '=', key).execute();
    });
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
      return compareSql(col, c.comparator, c.value, this.dialect);
    }
    const table = c.entity === 'metric' ? 'latest_metrics' : c.entity === 'param' ? 'params' : 'tags';
    const alias = 'f';
    const cond = compareSql(sql.ref(`${alias}.value`), c.comparator, c.value, this.dialect);
    const nanGuard = c.entity === 'metric' ? sql` and ${sql.ref(`${alias}.is_nan`)} = 0` : sql``;
    const sub = sql<SqlBool>`exists (select 1 from ${sql.table(table)} as ${sql.raw(alias)} where ${sql.ref(`${alias}.run_uuid`)} = ${sql.ref('runs.run_uuid')} and ${sql.ref(`${alias}.key`)} = ${c.key} and ${cond}${nanGuard})`;
    void eb;
    return sub;
  }
}

type MetricRow = Database['metrics'];

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

function paramChanged(runId: string, key: string, old: string, value: string): FluxError {
  return new FluxError(
    'INVALID_PARAMETER_VALUE',
    `param '${key}' was already logged for run '${runId}' with value '${old}'; params are immutable, so the new value '${value}' is refused`,
    { field: `params.${key}` },
  );
}

async function upsertKv(db: Kysely<Database>, table: 'tags', runId: string, kvs: KeyValue[]): Promise<void> {
  const dedup = new Map(kvs.map((t) => [t.key, t.value]));
  const keys = [...dedup.keys()].sort();
  await db
    .insertInto(table)
    .values(keys.map((key) => ({ run_uuid: runId, key, value: dedup.get(key)! })))
    .onConflict((oc) => oc.columns(['run_uuid', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
    .execute();
}

/** A run whose status moves to one of these has finished (`run.finished`). */
function isTerminal(status: RunStatus | undefined): status is 'FINISHED' | 'FAILED' | 'KILLED' {
  return status === 'FINISHED' || status === 'FAILED' || status === 'KILLED';
}
