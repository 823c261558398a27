import type { Kysely } from 'kysely';

/**
 * The embedded job queue (`KyselyJobQueue`): one row per job with its state, attempts, retry
 * policy, when it may run next, and the lease of the worker holding it (`owner`, `lease_until`,
 * extended by heartbeats). On Postgres the queue is pg-boss's own schema; the table is created
 * on both so the two schemas stay alike.
 */
export function jobs() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('retry_limit', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('retry_delay_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('retry_backoff', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('start_after', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('owner', 'text')
        .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('output', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'start_after']).execute();
    },
  };
}
