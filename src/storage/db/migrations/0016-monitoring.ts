import type { Kysely } from 'kysely';
import type { MetadataDb } from '../database.js';

/**
 * Monitoring: the inference table (every logged prediction, with its inputs and outputs, in segments), labels
 * attached later by request id, reference profiles of model versions given by a dataset the user
 * names (those computed at training travel in the model folder instead), monitors and the time
 * series of their results. `seq` orders segments and results as they were written, so exports
 * and readers page by it.
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
      // The inference table, stored as segments: the records one flush wrote for one endpoint, as
      // one JSON array, with the figures alerts read summed beside it. A row per request cost
      // more to insert than the prediction it logged.
      await identity('inference_segments')(db)
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('min_time', 'bigint', (c) => c.notNull())
        .addColumn('max_time', 'bigint', (c) => c.notNull())
        .addColumn('record_count', 'integer', (c) => c.notNull())
        // Requests answered with a status of 500 or more.
        .addColumn('error_count', 'integer', (c) => c.notNull())
        // JSON list of counts per latency bucket (LATENCY_BUCKETS_MS, then one above the last).
        .addColumn('latency_buckets', 'text', (c) => c.notNull())
        // JSON list of records: [deployment, request_id, time, model, version, status, latency_ms, rows, inputs, outputs, error].
        .addColumn('records', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('inference_segments_endpoint_time_idx').on('inference_segments').columns(['endpoint', 'max_time']).execute();
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
