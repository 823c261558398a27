import type { Kysely } from 'kysely';

/**
 * Hyperparameter sweeps and their trials. A sweep's id is derived from the pipeline step that
 * runs it, so the step's job, retried after its worker died, finds the sweep and goes on: trials
 * that finished stay finished, trials still running are waited for, and only the rest of the
 * budget is suggested. A trial moves by conditional updates (running → completed/failed/pruned).
 */
export function sweeps() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('sweeps')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('pipeline_run', 'text')
        .addColumn('step', 'text')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('best_trial', 'integer')
        .addColumn('best_value', 'double precision')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema
        .createTable('sweep_trials')
        .addColumn('sweep_id', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision')
        .addColumn('intermediate', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('job_id', 'text')
        .addColumn('run_id', 'text')
        .addColumn('error', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addPrimaryKeyConstraint('sweep_trials_pk', ['sweep_id', 'number'])
        .execute();
    },
  };
}
