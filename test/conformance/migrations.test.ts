import path from 'node:path';
import { Migrator, sql, type MigrationProvider } from 'kysely';
import { describe, expect, inject, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { openPlatform } from '../../src/platform.js';
import { KyselyTrackingStore } from '../../src/tracking/index.js';
import { migrateToLatest, migrationsFor, openDatabase, type MetadataDb } from '../../src/storage/db/index.js';
import { postgresBackend, sqliteBackend, tmpDir, type StoreBackend } from '../helpers/backends.js';

/** Every table the latest schema must hold, besides the migrator's own two. */
const EXPECTED_TABLES = [
  'alert_rules',
  'alert_states',
  'api_keys',
  'audit_log',
  'deployments',
  'endpoints',
  'events',
  'experiment_tags',
  'experiments',
  'inference_labels',
  'inference_segments',
  'jobs',
  'latest_metrics',
  'logged_model_metrics',
  'logged_model_outputs',
  'logged_model_params',
  'logged_model_tags',
  'logged_models',
  'metrics',
  'model_aliases',
  'model_profiles',
  'model_version_tags',
  'model_versions',
  'monitor_results',
  'monitors',
  'params',
  'pipeline_logs',
  'pipeline_runs',
  'pipeline_steps',
  'pipeline_trigger_cursor',
  'pipeline_triggers',
  'registered_model_tags',
  'registered_models',
  'rollout_windows',
  'rollouts',
  'run_inputs',
  'runs',
  'schedule_firings',
  'schedules',
  'silences',
  'sweep_trials',
  'sweeps',
  'synthetic_checks',
  'tags',
  'webhook_cursor',
  'webhook_deliveries',
  'webhooks',
];
const MIGRATOR_TABLES = ['fluxops_migration', 'fluxops_migration_lock'];

const pgUrl = inject('pgUrl');
const backends: StoreBackend[] = [sqliteBackend(), postgresBackend(pgUrl)];

for (const backend of backends) {
  const unavailable = backend.name === 'postgres' && !pgUrl;
  const title = unavailable ? `migrations on postgres — SKIPPED: Postgres not reachable` : `migrations on ${backend.label}`;

  describe.skipIf(unavailable)(title, () => {
    it('migrates a fresh database once; running the migrations again changes nothing', async () => {
      const db = openDatabase(await backend.freshDatabaseUrl());
      try {
        expect(await migrateToLatest(db)).toEqual({ applied: Object.keys(migrationsFor(db.dialect)) });
        const schema = await describeSchema(db);
        expect(schema.map((t) => t.name)).toEqual([...EXPECTED_TABLES, ...MIGRATOR_TABLES].sort());

        expect(await migrateToLatest(db)).toEqual({ applied: [] });
        expect(await describeSchema(db)).toEqual(schema);
        const recorded = await sql<{ name: string }>`select name from fluxops_migration order by name`.execute(db.db);
        expect(recorded.rows.map((r) => r.name)).toEqual(Object.keys(migrationsFor(db.dialect)));
        const experiments = await db.db.selectFrom('experiments').select(['experiment_id', 'name']).execute();
        expect(experiments).toEqual([{ experiment_id: 0, name: 'Default' }]);
      } finally {
        await db.close();
      }
    });

    it('a database migrated one version at a time equals one migrated straight to the latest', async () => {
      const straight = openDatabase(await backend.freshDatabaseUrl());
      const stepwise = openDatabase(await backend.freshDatabaseUrl());
      try {
        await migrateToLatest(straight);
        const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrationsFor(stepwise.dialect)) };
        const schemaName = stepwise.dialect === 'postgres' ? await currentSchema(stepwise) : undefined;
        const migrator = new Migrator({
          db: stepwise.db,
          provider,
          migrationTableName: 'fluxops_migration',
          migrationLockTableName: 'fluxops_migration_lock',
          ...(schemaName !== undefined ? { migrationTableSchema: schemaName } : {}),
        });
        const steps: string[] = [];
        for (;;) {
          const { error, results } = await migrator.migrateUp();
          expect(error).toBeUndefined();
          if (results === undefined || results.length === 0) break;
          steps.push(...results.map((r) => r.migrationName));
        }
        expect(steps).toEqual(Object.keys(migrationsFor(stepwise.dialect)));
        expect(await describeSchema(stepwise, { withTypes: true })).toEqual(await describeSchema(straight, { withTypes: true }));
        expect(await migrateToLatest(stepwise)).toEqual({ applied: [] });
      } finally {
        await straight.close();
        await stepwise.close();
      }
    });

    it('0003 gives dataset inputs a tags column; an input logged before reads back with its context as its one tag', async () => {
      const db = openDatabase(await backend.freshDatabaseUrl());
      try {
        const schemaName = db.dialect === 'postgres' ? await currentSchema(db) : undefined;
        const migrator = new Migrator({
          db: db.db,
          provider: { getMigrations: () => Promise.resolve(migrationsFor(db.dialect)) },
          migrationTableName: 'fluxops_migration',
          migrationLockTableName: 'fluxops_migration_lock',
          ...(schemaName !== undefined ? { migrationTableSchema: schemaName } : {}),
        });
        expect((await migrator.migrateTo('0002-logged-models')).error).toBeUndefined();
        const runId = 'a'.repeat(32);
        const row = { run_uuid: runId, experiment_id: 0, name: 'old', user_id: '', status: 'FINISHED', start_time: 1, end_time: 2, source_type: 'LOCAL', source_name: '', source_version: '', lifecycle_stage: 'active', artifact_uri: `mlflow-artifacts:/0/${runId}/artifacts`, deleted_time: null };
        await db.db.insertInto('runs').values(row).execute();
        // Written as 0002 knew the table: no tags column yet.
        await sql`insert into run_inputs (run_uuid, name, digest, source_type, source, schema, profile, context) values (${runId}, ${'old-train'}, ${'d'}, ${'local'}, ${'s'}, ${''}, ${''}, ${'training'})`.execute(db.db);
        await sql`insert into run_inputs (run_uuid, name, digest, source_type, source, schema, profile, context) values (${runId}, ${'old-plain'}, ${'d'}, ${'local'}, ${'s'}, ${''}, ${''}, ${''})`.execute(db.db);
        // A key made before roles existed, as 0002 knew the table.
        await sql`insert into api_keys (key_id, name, secret_hash, created_at, revoked_at) values (${'0123456789ab'}, ${'old-key'}, ${'0'.repeat(64)}, ${1}, ${null})`.execute(db.db);
        expect(await migrateToLatest(db)).toEqual({ applied: Object.keys(migrationsFor(db.dialect)).filter((n) => n > '0002-logged-models') });
        // 0004: it becomes an unscoped predict key that never expires.
        const key = await db.db.selectFrom('api_keys').selectAll().where('key_id', '=', '0123456789ab').executeTakeFirstOrThrow();
        expect(key).toMatchObject({ role: 'predict', scopes: '[]', expires_at: null, last_used_at: null });
        const inputs = (await new KyselyTrackingStore(db).getRun(runId))!.inputs.sort((a, b) => a.name.localeCompare(b.name));
        const base = { digest: 'd', sourceType: 'local', source: 's', schema: '', profile: '' };
        expect(inputs).toEqual([
          { ...base, name: 'old-plain', context: '', tags: [] },
          { ...base, name: 'old-train', context: 'training', tags: [{ key: 'mlflow.data.context', value: 'training' }] },
        ]);
      } finally {
        await db.close();
      }
    });

    it('applies a known migration missing from a database even after a later one ran (numbers are reserved ahead of merges)', async () => {
      const db = openDatabase(await backend.freshDatabaseUrl());
      try {
        await migrateToLatest(db);
        // As a database looks that ran 0005 before 0003 existed in its build.
        await sql`delete from fluxops_migration where name = '0003-run-input-tags'`.execute(db.db);
        await sql`alter table run_inputs drop column tags`.execute(db.db);
        expect(await migrateToLatest(db)).toEqual({ applied: ['0003-run-input-tags'] });
        const recorded = await sql<{ name: string }>`select name from fluxops_migration order by name`.execute(db.db);
        expect(recorded.rows.map((r) => r.name)).toEqual(Object.keys(migrationsFor(db.dialect)));
      } finally {
        await db.close();
      }
    });

    it('0005 gives the outbox an ever-growing sequence that a rollback or delete does not reuse', async () => {
      const db = openDatabase(await backend.freshDatabaseUrl());
      try {
        await migrateToLatest(db);
        const row = { type: 'model.created', time: 1, model: 'm', run_id: null, experiment_id: null, payload: '{}', actor: null };
        const first = await db.db.insertInto('events').values(row).returning('seq').executeTakeFirstOrThrow();
        await db.db
          .transaction()
          .execute(async (trx) => {
            await trx.insertInto('events').values(row).execute();
            throw new Error('roll back');
          })
          .catch(() => undefined);
        await db.db.deleteFrom('events').execute();
        const next = await db.db.insertInto('events').values(row).returning('seq').executeTakeFirstOrThrow();
        expect(next.seq).toBeGreaterThan(first.seq);
        expect(typeof next.seq).toBe('number');
      } finally {
        await db.close();
      }
    });

    it('refuses to open a database that a newer FluxOps migrated (SCHEMA_TOO_NEW)', async () => {
      const databaseUrl = await backend.freshDatabaseUrl();
      const home = tmpDir();
      const config = { home, databaseUrl, artifactRoot: path.join(home, 'artifacts') };
      const first = await openPlatform(config);
      try {
        await sql`insert into fluxops_migration (name, timestamp) values ('9999-future', ${new Date().toISOString()})`.execute(first.db.db);
      } finally {
        await first.close();
      }

      const error = await openPlatform(config).then(
        async (p) => {
          await p.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FluxError);
      const e = error as FluxError;
      expect(e.code).toBe('SCHEMA_TOO_NEW');
      expect(e.message).toMatch(/schema version 9999-future, newer than this FluxOps understands/);
      expect(e.message).toContain(`latest ${Object.keys(migrationsFor(backend.name)).at(-1)}`);
      expect(e.message).toMatch(/upgrade FluxOps/);
      expect(e.message).not.toMatch(/:\/\/[^/@]*:[^@]*@/); // no password in the message

      // The refusal touched nothing: the future migration is still recorded and the data is there.
      const db = openDatabase(databaseUrl);
      try {
        const names = await sql<{ name: string }>`select name from fluxops_migration order by name`.execute(db.db);
        expect(names.rows.map((r) => r.name)).toEqual([...Object.keys(migrationsFor(db.dialect)), '9999-future']);
        expect(await db.db.selectFrom('experiments').select('name').execute()).toEqual([{ name: 'Default' }]);
      } finally {
        await db.close();
      }
    });
  });
}

describe.skipIf(!pgUrl)(pgUrl ? 'schema parity of sqlite and postgres' : 'schema parity — SKIPPED: Postgres not reachable', () => {
  it('has the same tables with the same columns (and nullability) on both', async () => {
    const schemas = [];
    for (const backend of backends) {
      const db = openDatabase(await backend.freshDatabaseUrl());
      try {
        await migrateToLatest(db);
        schemas.push(await describeSchema(db));
      } finally {
        await db.close();
      }
    }
    const [sqlite, postgres] = schemas;
    expect(sqlite!.map((t) => t.name)).toEqual(postgres!.map((t) => t.name));
    for (const table of sqlite!) {
      expect(table.columns, `columns of ${table.name}`).toEqual(postgres!.find((t) => t.name === table.name)?.columns);
    }
  });
});

interface TableShape {
  name: string;
  columns: Array<Record<string, unknown>>;
}

/**
 * The tables of the store's own schema, sorted, with their columns in declaration order. Without
 * types it is comparable across dialects; with them, across two databases of one dialect.
 */
async function describeSchema(m: MetadataDb, opts: { withTypes?: boolean } = {}): Promise<TableShape[]> {
  const schema = m.dialect === 'postgres' ? await currentSchema(m) : undefined;
  const tables = await m.db.introspection.getTables({ withInternalKyselyTables: true });
  return tables
    .filter((t) => schema === undefined || t.schema === schema)
    .map((t) => ({
      name: t.name,
      columns: t.columns.map((c) =>
        opts.withTypes
          ? { name: c.name, dataType: c.dataType, nullable: c.isNullable, hasDefault: c.hasDefaultValue, autoIncrement: c.isAutoIncrementing }
          : { name: c.name, nullable: c.isNullable },
      ),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function currentSchema(m: MetadataDb): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(m.db);
  return rows[0]!.schema;
}

