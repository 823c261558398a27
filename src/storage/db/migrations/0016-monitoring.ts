import type { Kysely } from 'kysely';
import type { MetadataDb } from '../database.js';

/**
 * Monitoring: the inference table (every logged prediction, with its inputs and outputs), labels
 * attached later by request id, reference profiles of model versions given by a dataset the user
 * names (those computed at training travel in the model folder instead), monitors and the time
 * series of their results. `seq` orders inferences and results as they were written, so exports
 * and readers page by it; `time` is when the request was answered.
 */
export function monitoring(dialect: MetadataDb['dialect']) {
  const identity = (table: string) => (db: Kysely<unknown>) =>
    db.schema
      .createTable(table)
      .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey().notNull().generatedAlwaysAsIdentity() : c.primaryKey().notNull().autoIncrement(),
      );
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await identity('inferences')(db)
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('model', 'text')
        .addColumn('version', 'text')
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'double precision', (c) => c.notNull())
        .addColumn('row_count', 'integer', (c) => c.notNull())
        // The request's native body ({"inputs": [records]} or {"columns", "data"}), as JSON.
        .addColumn('inputs', 'text', (c) => c.notNull())
        // {"predictions", "probabilities"?, "classes"?} as JSON; null for a failed request.
        .addColumn('outputs', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('inferences_endpoint_time_idx').on('inferences').columns(['endpoint', 'time']).execute();
      await db.schema.createIndex('inferences_request_idx').on('inferences').columns(['endpoint', 'request_id']).execute();
      await db.schema
        .createTable('inference_labels')
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('row', 'integer', (c) => c.notNull())
        // The true value as JSON (a class label or a number).
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('inference_labels_pk', ['endpoint', 'request_id', 'row'])
        .execute();
      // JSON {sample_rate, retention_days}; null: the defaults.
      await db.schema.alterTable('endpoints').addColumn('inference_log', 'text').execute();
      await db.schema
        .createTable('model_profiles')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_profiles_pk', ['model', 'version'])
        .execute();
      await db.schema
        .createTable('monitors')
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        // The settings as JSON (deployment, reference, window, columns, shares, thresholds).
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('every_ms', 'bigint')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        // The next scheduled check; moved forward by a conditional update, so one server takes each.
        .addColumn('next_run_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await identity('monitor_results')(db)
        .addColumn('monitor', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('window_end', 'bigint', (c) => c.notNull())
        .addColumn('row_count', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('drifted', 'integer', (c) => c.notNull())
        .addColumn('drift_share', 'double precision')
        .addColumn('result', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('monitor_results_monitor_idx').on('monitor_results').columns(['monitor', 'seq']).execute();
    },
  };
}
