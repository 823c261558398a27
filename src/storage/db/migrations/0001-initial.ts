import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * The first schema. Column types are chosen so the same statements run on SQLite and Postgres:
 * times are 64-bit integers (epoch ms), metric values double precision. Only the experiment id
 * needs a dialect-specific type (an auto-incrementing integer). Primary keys say NOT NULL
 * explicitly: SQLite, unlike Postgres, lets a non-integer PRIMARY KEY column hold NULL.
 */
export function initial(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const idType = dialect === 'postgres' ? 'serial' : 'integer';
      await db.schema
        .createTable('experiments')
        .addColumn('experiment_id', sql.raw(idType), (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('artifact_location', 'text', (c) => c.notNull())
        .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('last_update_time', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('experiment_tags')
        .addColumn('experiment_id', 'integer', (c) => c.notNull().references('experiments.experiment_id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('experiment_tags_pk', ['experiment_id', 'key'])
        .execute();
      await db.schema
        .createTable('runs')
        .addColumn('run_uuid', 'text', (c) => c.primaryKey().notNull())
        .addColumn('experiment_id', 'integer', (c) => c.notNull().references('experiments.experiment_id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('start_time', 'bigint', (c) => c.notNull())
        .addColumn('end_time', 'bigint')
        .addColumn('source_type', 'text', (c) => c.notNull())
        .addColumn('source_name', 'text', (c) => c.notNull())
        .addColumn('source_version', 'text', (c) => c.notNull())
        .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
        .addColumn('artifact_uri', 'text', (c) => c.notNull())
        .addColumn('deleted_time', 'bigint')
        .execute();
      await db.schema.createIndex('runs_experiment_idx').on('runs').columns(['experiment_id', 'start_time']).execute();
      for (const table of ['params', 'tags']) {
        await db.schema
          .createTable(table)
          .addColumn('run_uuid', 'text', (c) => c.notNull().references('runs.run_uuid').onDelete('cascade'))
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['run_uuid', 'key'])
          .execute();
        await db.schema.createIndex(`${table}_key_idx`).on(table).columns(['key', 'value']).execute();
      }
      await db.schema
        .createTable('metrics')
        .addColumn('run_uuid', 'text', (c) => c.notNull().references('runs.run_uuid').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addColumn('is_nan', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('metrics_run_key_idx').on('metrics').columns(['run_uuid', 'key', 'step']).execute();
      await db.schema
        .createTable('latest_metrics')
        .addColumn('run_uuid', 'text', (c) => c.notNull().references('runs.run_uuid').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addColumn('is_nan', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('latest_metrics_pk', ['run_uuid', 'key'])
        .execute();
      await db.schema.createIndex('latest_metrics_key_idx').on('latest_metrics').columns(['key', 'value']).execute();
      await db.schema
        .createTable('run_inputs')
        .addColumn('run_uuid', 'text', (c) => c.notNull().references('runs.run_uuid').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('source_type', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('schema', 'text', (c) => c.notNull())
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_inputs_pk', ['run_uuid', 'name', 'digest'])
        .execute();
      await db.schema
        .createTable('registered_models')
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('last_updated_time', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('registered_model_tags')
        .addColumn('name', 'text', (c) => c.notNull().references('registered_models.name').onDelete('cascade').onUpdate('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('registered_model_tags_pk', ['name', 'key'])
        .execute();
      await db.schema
        .createTable('model_versions')
        .addColumn('name', 'text', (c) => c.notNull().references('registered_models.name').onDelete('cascade').onUpdate('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('storage_location', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_message', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('current_stage', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('metrics', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('last_updated_time', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_versions_pk', ['name', 'version'])
        .execute();
      await db.schema
        .createTable('model_version_tags')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_version_tags_pk', ['name', 'version', 'key'])
        .addForeignKeyConstraint('model_version_tags_fk', ['name', 'version'], 'model_versions', ['name', 'version'], (c) =>
          c.onDelete('cascade').onUpdate('cascade'),
        )
        .execute();
      await db.schema
        .createTable('model_aliases')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_aliases_pk', ['name', 'alias'])
        .addForeignKeyConstraint('model_aliases_fk', ['name', 'version'], 'model_versions', ['name', 'version'], (c) =>
          c.onDelete('cascade').onUpdate('cascade'),
        )
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('key_id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      // Every new store has experiment "0" named Default, as MLflow's does.
      const now = Date.now();
      await sql`insert into experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
                values (0, 'Default', 'mlflow-artifacts:/0', 'active', ${now}, ${now})`.execute(db);
    },
  };
}
