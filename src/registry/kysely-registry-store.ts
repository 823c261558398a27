import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import { FluxError, encodePageToken } from '../core/index.js';
import { outboxFor, type Actor, type Outbox } from '../events/index.js';
import { isUniqueViolation, uniqueOrAlreadyExists, type Database, type Dialect, type MetadataDb } from '../storage/db/index.js';
import type { Page } from '../tracking/index.js';
import { compareSql, type SearchClause, type SearchOrder } from '../search/index.js';
import type { RegistryStore } from './registry-store.js';
import type { ModelVersion, NewModelVersion, RegisteredModel, Stage } from './types.js';

type VersionRow = Database['model_versions'];

/** Search attributes of registered models and versions → their columns. */
const MODEL_COLUMNS: Record<string, 'm.name' | 'm.creation_time' | 'm.last_updated_time'> = {
  name: 'm.name',
  creation_timestamp: 'm.creation_time',
  last_updated_timestamp: 'm.last_updated_time',
};
const VERSION_COLUMNS: Record<string, 'v.name' | 'v.run_id' | 'v.source' | 'v.model_id' | 'v.version' | 'v.creation_time' | 'v.last_updated_time'> = {
  name: 'v.name',
  run_id: 'v.run_id',
  source_path: 'v.source',
  model_id: 'v.model_id',
  version_number: 'v.version',
  creation_timestamp: 'v.creation_time',
  last_updated_timestamp: 'v.last_updated_time',
};

/**
 * A deleted version keeps its row under this internal stage (as MLflow does), so its number is
 * never handed out again: `models:/m/3` always means the same model, even after a delete.
 */
const DELETED_STAGE = 'Deleted_Internal';

export class KyselyRegistryStore implements RegistryStore {
  private readonly db: Kysely<Database>;
  private readonly dialect: Dialect;
  private readonly outbox: Outbox;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.dialect = m.dialect;
    this.outbox = outboxFor(m);
  }

  async createRegisteredModel(input: { name: string; description: string; tags: Array<{ key: string; value: string }> }, actor: Actor): Promise<void> {
    const now = Date.now();
    await this.outbox.transaction(async (trx) => {
      // No look-up first: the primary key decides, also against another server creating the name now.
      await uniqueOrAlreadyExists(
        () => trx.insertInto('registered_models').values({ name: input.name, description: input.description, creation_time: now, last_updated_time: now }).execute(),
        `Registered Model (name=${input.name}) already exists.`,
      );
      if (input.tags.length > 0) {
        // A key given twice keeps its last value rather than violating the key.
        const tags = new Map(input.tags.map((t) => [t.key, t.value]));
        await trx.insertInto('registered_model_tags').values([...tags].map(([key, value]) => ({ name: input.name, key, value }))).execute();
      }
      await this.outbox.append(trx, { type: 'model.created', model: input.name, payload: { model: input.name }, actor });
    });
  }

  private async hydrateModels(rows: Database['registered_models'][]): Promise<RegisteredModel[]> {
    if (rows.length === 0) return [];
    const names = rows.map((r) => r.name);
    const [tags, aliases, versions] = await Promise.all([
      this.db.selectFrom('registered_model_tags').selectAll().where('name', 'in', names).execute(),
      this.db.selectFrom('model_aliases').selectAll().where('name', 'in', names).orderBy('alias').execute(),
      // Latest version per (model, stage).
      this.db
        .selectFrom('model_versions as v')
        .selectAll('v')
        .where('v.name', 'in', names)
        .where('v.current_stage', '!=', DELETED_STAGE)
        .where((eb) =>
          eb(
            'v.version',
            '=',
            eb
              .selectFrom('model_versions as w')
              .select(({ fn }) => fn.max('w.version').as('m'))
              .whereRef('w.name', '=', 'v.name')
              .whereRef('w.current_stage', '=', 'v.current_stage'),
          ),
        )
        .execute(),
    ]);
    const hydratedVersions = await this.hydrateVersions(versions);
    return rows.map((r) => ({
      name: r.name,
      description: r.description,
      creationTime: r.creation_time,
      lastUpdatedTime: r.last_updated_time,
      tags: Object.fromEntries(tags.filter((t) => t.name === r.name).map((t) => [t.key, t.value])),
      aliases: aliases.filter((a) => a.name === r.name).map((a) => ({ alias: a.alias, version: String(a.version) })),
      latestVersions: hydratedVersions.filter((v) => v.name === r.name).sort((a, b) => Number(a.version) - Number(b.version)),
    }));
  }

  private async hydrateVersions(rows: VersionRow[]): Promise<ModelVersion[]> {
    if (rows.length === 0) return [];
    const names = [...new Set(rows.map((r) => r.name))];
    const [tags, aliases] = await Promise.all([
      this.db.selectFrom('model_version_tags').selectAll().where('name', 'in', names).execute(),
      this.db.selectFrom('model_aliases').selectAll().where('name', 'in', names).orderBy('alias').execute(),
    ]);
    return rows.map((r) => ({
      name: r.name,
      version: String(r.version),
      source: r.source,
      runId: r.run_id,
      storageLocation: r.storage_location,
      status: r.status as ModelVersion['status'],
      statusMessage: r.status_message,
      flavor: r.flavor,
      runLink: r.run_link,
      modelId: r.model_id,
      description: r.description,
      currentStage: r.current_stage as Stage,
      userId: r.user_id,
      signature: r.signature === '' ? null : (JSON.parse(r.signature) as ModelVersion['signature']),
      metrics: JSON.parse(r.metrics) as Record<string, number>,
      creationTime: r.creation_time,
      lastUpdatedTime: r.last_updated_time,
      tags: Object.fromEntries(tags.filter((t) => t.name === r.name && t.version === r.version).map((t) => [t.key, t.value])),
      aliases: aliases.filter((a) => a.name === r.name && a.version === r.version).map((a) => a.alias),
    }));
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    const row = await this.db.selectFrom('registered_models').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? (await this.hydrateModels([row]))[0] : undefined;
  }

  async searchRegisteredModels(q: { filter: SearchClause[]; orderBy: SearchOrder[]; maxResults: number; offset: number }): Promise<Page<RegisteredModel>> {
    let query = this.db.selectFrom('registered_models as m').selectAll('m');
    for (const c of q.filter) query = query.where((eb) => this.modelClause(eb, c));
    const orders = [...q.orderBy];
    if (!orders.some((o) => o.key === 'name')) orders.push({ entity: 'attribute', key: 'name', ascending: true });
    for (const o of orders) query = query.orderBy(MODEL_COLUMNS[o.key] ?? 'm.name', o.ascending ? 'asc' : 'desc');
    const rows = await query.limit(q.maxResults + 1).offset(q.offset).execute();
    const more = rows.length > q.maxResults;
    return { items: await this.hydrateModels(rows.slice(0, q.maxResults)), nextPageToken: more ? encodePageToken(q.offset + q.maxResults) : undefined };
  }

  private modelClause(eb: ExpressionBuilder<Database & { m: Database['registered_models'] }, 'm'>, c: SearchClause): Expression<SqlBool> {
    if (c.entity === 'tag') {
      return eb.exists(
        eb
          .selectFrom('registered_model_tags as t')
          .select(sql.lit(1).as('one'))
          .whereRef('t.name', '=', 'm.name')
          .where('t.key', '=', c.key)
          .where((tb) => compareSql(tb.ref('t.value'), c.comparator, c.value, this.dialect)),
      );
    }
    const column = MODEL_COLUMNS[c.key];
    if (c.entity !== 'attribute' || column === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `cannot search registered models by ${c.entity} ${c.key}`);
    return compareSql(eb.ref(column), c.comparator, c.value, this.dialect);
  }

  async updateRegisteredModel(name: string, patch: { description?: string; newName?: string }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // The primary key refuses a taken name, also one another server takes at this moment.
      await uniqueOrAlreadyExists(
        () =>
          trx
            .updateTable('registered_models')
            .set({
              ...(patch.description !== undefined ? { description: patch.description } : {}),
              ...(patch.newName !== undefined ? { name: patch.newName } : {}),
              last_updated_time: Date.now(),
            })
            .where('name', '=', name)
            .execute(),
        `Registered Model (name=${patch.newName ?? name}) already exists.`,
      );
    });
  }

  async deleteRegisteredModel(name: string, actor: Actor): Promise<void> {
    await this.outbox.transaction(async (trx) => {
      const aliases = await trx.selectFrom('model_aliases').select(['alias', 'version']).where('name', '=', name).execute();
      await trx.deleteFrom('model_aliases').where('name', '=', name).execute();
      await trx.deleteFrom('model_version_tags').where('name', '=', name).execute();
      await trx.deleteFrom('model_versions').where('name', '=', name).execute();
      await trx.deleteFrom('registered_model_tags').where('name', '=', name).execute();
      const deleted = await trx.deleteFrom('registered_models').where('name', '=', name).executeTakeFirst();
      await this.aliasesRemoved(trx, name, aliases, actor);
      if (Number(deleted.numDeletedRows) > 0) await this.outbox.append(trx, { type: 'model.deleted', model: name, payload: { model: name }, actor });
    });
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await this.db
      .insertInto('registered_model_tags')
      .values({ name, key, value })
      .onConflict((oc) => oc.columns(['name', 'key']).doUpdateSet({ value }))
      .execute();
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<boolean> {
    const r = await this.db.deleteFrom('registered_model_tags').where('name', '=', name).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async createModelVersion(input: NewModelVersion, actor: Actor): Promise<ModelVersion> {
    // Touching the model row first locks it (Postgres) until commit, so concurrent registrations
    // of one model queue there and each reads the max the previous one committed. SQLite runs one
    // write transaction at a time. Should two writers still collide, the primary key catches it.
    for (let attempt = 0; ; attempt++) {
      try {
        const version = await this.outbox.transaction(async (trx) => {
          const now = Date.now();
          await trx.updateTable('registered_models').set({ last_updated_time: now }).where('name', '=', input.name).execute();
          const max = await trx
            .selectFrom('model_versions')
            .select(({ fn }) => fn.max('version').as('m'))
            .where('name', '=', input.name)
            .executeTakeFirst();
          const version = Number(max?.m ?? 0) + 1;
          await trx
            .insertInto('model_versions')
            .values({
              name: input.name,
              version,
              source: input.source,
              run_id: input.runId,
              storage_location: input.storageLocation,
              status: input.status,
              status_message: input.statusMessage,
              flavor: input.flavor,
              run_link: input.runLink,
              model_id: input.modelId,
              description: input.description,
              current_stage: 'None',
              user_id: input.userId,
              signature: input.signature === null ? '' : JSON.stringify(input.signature),
              metrics: JSON.stringify(input.metrics),
              creation_time: now,
              last_updated_time: now,
            })
            .execute();
          if (input.tags.length > 0) {
            await trx
              .insertInto('model_version_tags')
              .values(input.tags.map((t) => ({ name: input.name, version, key: t.key, value: t.value })))
              .execute();
          }
          await this.outbox.append(trx, {
            type: 'model.version.created',
            model: input.name,
            runId: input.runId === '' ? undefined : input.runId,
            payload: { model: input.name, version: String(version), run_id: input.runId, source: input.source },
            actor,
          });
          return version;
        });
        return (await this.getModelVersion(input.name, version))!;
      } catch (e) {
        if (attempt < 5 && isUniqueViolation(e)) continue;
        throw e;
      }
    }
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion | undefined> {
    const row = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('name', '=', name)
      .where('version', '=', version)
      .where('current_stage', '!=', DELETED_STAGE)
      .executeTakeFirst();
    return row ? (await this.hydrateVersions([row]))[0] : undefined;
  }

  async searchModelVersions(q: { filter: SearchClause[]; orderBy: SearchOrder[]; maxResults: number; offset: number }): Promise<Page<ModelVersion>> {
    let query = this.db.selectFrom('model_versions as v').selectAll('v').where('v.current_stage', '!=', DELETED_STAGE);
    for (const c of q.filter) query = query.where((eb) => this.versionClause(eb, c));
    // Ties (and an empty order) fall back to name, then newest version first.
    const orders = [...q.orderBy];
    if (!orders.some((o) => o.key === 'name')) orders.push({ entity: 'attribute', key: 'name', ascending: true });
    if (!orders.some((o) => o.key === 'version_number')) orders.push({ entity: 'attribute', key: 'version_number', ascending: false });
    for (const o of orders) query = query.orderBy(VERSION_COLUMNS[o.key] ?? 'v.name', o.ascending ? 'asc' : 'desc');
    const rows = await query.limit(q.maxResults + 1).offset(q.offset).execute();
    const more = rows.length > q.maxResults;
    return { items: await this.hydrateVersions(rows.slice(0, q.maxResults)), nextPageToken: more ? encodePageToken(q.offset + q.maxResults) : undefined };
  }

  private versionClause(eb: ExpressionBuilder<Database & { v: VersionRow }, 'v'>, c: SearchClause): Expression<SqlBool> {
    if (c.entity === 'tag') {
      return eb.exists(
        eb
          .selectFrom('model_version_tags as t')
          .select(sql.lit(1).as('one'))
          .whereRef('t.name', '=', 'v.name')
          .whereRef('t.version', '=', 'v.version')
          .where('t.key', '=', c.key)
          .where((tb) => compareSql(tb.ref('t.value'), c.comparator, c.value, this.dialect)),
      );
    }
    const column = VERSION_COLUMNS[c.key];
    if (c.entity !== 'attribute' || column === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `cannot search model versions by ${c.entity} ${c.key}`);
    return compareSql(eb.ref(column), c.comparator, c.value, this.dialect);
  }

  async updateModelVersion(name: string, version: number, patch: { description?: string; stage?: Stage; archiveOthersIn?: Stage }): Promise<void> {
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      if (patch.archiveOthersIn !== undefined) {
        await trx
          .updateTable('model_versions')
          .set({ current_stage: 'Archived', last_updated_time: now })
          .where('name', '=', name)
          .where('version', '!=', version)
          .where('current_stage', '=', patch.archiveOthersIn)
          .execute();
      }
      await trx
        .updateTable('model_versions')
        .set({
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.stage !== undefined ? { current_stage: patch.stage } : {}),
          last_updated_time: now,
        })
        .where('name', '=', name)
        .where('version', '=', version)
        .execute();
      // A stage change is a change of the model (MLflow reports it in the model's update time).
      if (patch.stage !== undefined) {
        await trx.updateTable('registered_models').set({ last_updated_time: now }).where('name', '=', name).execute();
      }
    });
  }

  async deleteModelVersion(name: string, version: number, actor: Actor): Promise<void> {
    await this.outbox.transaction(async (trx) => {
      // The version row first: that locks it (Postgres), so an alias being set on it at this
      // moment (which locks it FOR SHARE, see setAlias) either commits before and is deleted
      // below, or waits and then finds the version deleted.
      const deleted = await trx
        .updateTable('model_versions')
        .set({ current_stage: DELETED_STAGE, last_updated_time: Date.now() })
        .where('name', '=', name)
        .where('version', '=', version)
        .where('current_stage', '!=', DELETED_STAGE)
        .executeTakeFirst();
      const aliases = await trx.deleteFrom('model_aliases').where('name', '=', name).where('version', '=', version).returning(['alias', 'version']).execute();
      await trx.deleteFrom('model_version_tags').where('name', '=', name).where('version', '=', version).execute();
      await trx.updateTable('registered_models').set({ last_updated_time: Date.now() }).where('name', '=', name).execute();
      await this.aliasesRemoved(trx, name, aliases, actor);
      if (Number(deleted.numUpdatedRows) > 0) {
        await this.outbox.append(trx, { type: 'model.version.deleted', model: name, payload: { model: name, version: String(version) }, actor });
      }
    });
  }

  async setModelVersionTag(name: string, version: number, key: string, value: string): Promise<void> {
    await this.db
      .insertInto('model_version_tags')
      .values({ name, version, key, value })
      .onConflict((oc) => oc.columns(['name', 'version', 'key']).doUpdateSet({ value }))
      .execute();
  }

  async deleteModelVersionTag(name: string, version: number, key: string): Promise<boolean> {
    const r = await this.db.deleteFrom('model_version_tags').where('name', '=', name).where('version', '=', version).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Points the alias at the version only while the version is not deleted, in one statement that
   * reads the version row (locked FOR SHARE on Postgres): a version deleted by another server
   * between the service's check and this write gets no alias.
   */
  async setAlias(name: string, alias: string, version: number, actor: Actor): Promise<void> {
    await this.outbox.transaction(async (trx) => {
      const previous = await trx.selectFrom('model_aliases').select('version').where('name', '=', name).where('alias', '=', alias).executeTakeFirst();
      const written = await trx
        .insertInto('model_aliases')
        .columns(['name', 'alias', 'version'])
        .expression((eb) => {
          const live = eb
            .selectFrom('model_versions')
            .select(['name', sql<string>`cast(${alias} as text)`.as('alias'), 'version'])
            .where('name', '=', name)
            .where('version', '=', version)
            .where('current_stage', '!=', DELETED_STAGE);
          return this.dialect === 'postgres' ? live.forShare() : live;
        })
        .onConflict((oc) => oc.columns(['name', 'alias']).doUpdateSet({ version }))
        .executeTakeFirst();
      // A version deleted meanwhile gets no alias; setting an alias to where it already points
      // changes nothing; neither tells anyone.
      if (Number(written.numInsertedOrUpdatedRows ?? 0) === 0 || previous?.version === version) return;
      await this.outbox.append(trx, {
        type: 'model.alias.changed',
        model: name,
        payload: { model: name, alias, version: String(version), previous_version: previous === undefined ? null : String(previous.version) },
        actor,
      });
    });
  }

  async deleteAlias(name: string, alias: string, actor: Actor): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const removed = await trx.deleteFrom('model_aliases').where('name', '=', name).where('alias', '=', alias).returning('version').execute();
      await this.aliasesRemoved(trx, name, removed.map((r) => ({ alias, version: r.version })), actor);
      return removed.length > 0;
    });
  }

  /** `model.alias.changed` to null for each alias a delete took away. */
  private async aliasesRemoved(trx: Transaction<Database>, name: string, aliases: Array<{ alias: string; version: number }>, actor: Actor): Promise<void> {
    for (const a of aliases) {
      await this.outbox.append(trx, { type: 'model.alias.changed', model: name, payload: { model: name, alias: a.alias, version: null, previous_version: String(a.version) }, actor });
    }
  }

  async getAlias(name: string, alias: string): Promise<number | undefined> {
    const r = await this.db.selectFrom('model_aliases').select('version').where('name', '=', name).where('alias', '=', alias).executeTakeFirst();
    return r?.version;
  }
}
