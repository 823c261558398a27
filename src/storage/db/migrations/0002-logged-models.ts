import type { Kysely } from 'kysely';

/**
 * MLflow 3's logged models: a model logged from a run (or on its own) with its own id, artifact
 * folder, params, tags and linked metrics, which registry versions can be created from, and the
 * runs that output them. The model
 * versions table gains what registration from a logged model needs: the logged model it came from,
 * the MLflow `run_link`, and the flavor FluxOps recognised in the model folder. Added columns carry
 * defaults so existing rows stay valid (SQLite also needs them to add a NOT NULL column).
 */
export function loggedModels() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('logged_models')
        .addColumn('model_id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('experiment_id', 'integer', (c) => c.notNull().references('experiments.experiment_id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('artifact_location', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_message', 'text', (c) => c.notNull())
        .addColumn('model_type', 'text', (c) => c.notNull())
        .addColumn('source_run_id', 'text', (c) => c.notNull())
        .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('last_updated_time', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('logged_models_experiment_idx').on('logged_models').columns(['experiment_id', 'creation_time']).execute();
      await db.schema.createIndex('logged_models_run_idx').on('logged_models').columns(['source_run_id']).execute();
      for (const table of ['logged_model_params', 'logged_model_tags']) {
        await db.schema
          .createTable(table)
          .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.model_id').onDelete('cascade'))
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['model_id', 'key'])
          .execute();
      }
      await db.schema
        .createTable('logged_model_metrics')
        .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.model_id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addColumn('is_nan', 'integer', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('dataset_name', 'text', (c) => c.notNull())
        .addColumn('dataset_digest', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('logged_model_metrics_model_idx').on('logged_model_metrics').columns(['model_id', 'key', 'step']).execute();
      // Which logged models a run produced, at which step (MLflow 3's run outputs).
      await db.schema
        .createTable('logged_model_outputs')
        .addColumn('run_uuid', 'text', (c) => c.notNull().references('runs.run_uuid').onDelete('cascade'))
        .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.model_id').onDelete('cascade'))
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('logged_model_outputs_pk', ['run_uuid', 'model_id'])
        .execute();
      await db.schema.alterTable('model_versions').addColumn('run_link', 'text', (c) => c.notNull().defaultTo('')).execute();
      await db.schema.alterTable('model_versions').addColumn('model_id', 'text', (c) => c.notNull().defaultTo('')).execute();
      await db.schema.alterTable('model_versions').addColumn('flavor', 'text', (c) => c.notNull().defaultTo('')).execute();
    },
  };
}
