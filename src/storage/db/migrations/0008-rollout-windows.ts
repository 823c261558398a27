import type { Kysely } from 'kysely';

/**
 * What each server saw of a rollout step's traffic (one row per rollout, step, server and
 * deployment, replaced as the server reports again): counts, a latency histogram and predicted
 * values as JSON. The rollout's controller adds up every server's rows, so replicas and
 * `--workers` processes all count towards its gates.
 */
export function rolloutWindows() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('rollout_windows')
        .addColumn('rollout_id', 'text', (c) => c.notNull())
        .addColumn('step', 'integer', (c) => c.notNull())
        .addColumn('server', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('requests', 'bigint', (c) => c.notNull())
        .addColumn('errors', 'bigint', (c) => c.notNull())
        .addColumn('latency', 'text', (c) => c.notNull())
        .addColumn('classes', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollout_windows_pk', ['rollout_id', 'step', 'server', 'deployment'])
        .execute();
    },
  };
}
