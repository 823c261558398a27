import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Pipeline runs and their step runs. A run keeps its pipeline file whole (`spec`) and the params
 * it ran with, so a run can be shown, retried and audited whatever became of the file. A step
 * run moves only by conditional updates (`WHERE status = …`), so servers and workers racing on a
 * step agree on one outcome; its `job_id` is chosen before the job is queued, so a queue that
 * crashed in between is filled in again with the same id. `cache_key` finds an earlier step run
 * with the same inputs. Logs are appended lines with a growing id, which `logs -f` pages by.
 */
export function pipelines(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('pipeline_runs')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('pipeline', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('spec_hash', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('started_by', 'text')
        .addColumn('base_dir', 'text')
        .addColumn('no_cache', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('retry_of', 'text')
        .addColumn('reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('pipeline_runs_by_pipeline').on('pipeline_runs').columns(['pipeline', 'created_at']).execute();
      await db.schema.createIndex('pipeline_runs_by_status').on('pipeline_runs').columns(['status', 'created_at']).execute();
      await db.schema
        .createTable('pipeline_steps')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('job_id', 'text')
        .addColumn('cache_key', 'text')
        .addColumn('cached_from', 'text')
        .addColumn('inputs', 'text')
        .addColumn('outputs', 'text')
        .addColumn('error', 'text')
        .addColumn('tracking_run_id', 'text')
        .addColumn('model_name', 'text')
        .addColumn('model_version', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('decided_by', 'text')
        .addColumn('decision_reason', 'text')
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('pipeline_steps_pk', ['run_id', 'step'])
        .execute();
      await db.schema.createIndex('pipeline_steps_cache').on('pipeline_steps').columns(['cache_key', 'status']).execute();
      await db.schema
        .createTable('pipeline_logs')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().notNull().generatedAlwaysAsIdentity() : c.primaryKey().notNull().autoIncrement(),
        )
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pipeline_logs_by_run').on('pipeline_logs').columns(['run_id', 'id']).execute();
    },
  };
}
