import { sql, type Kysely } from 'kysely';

/**
 * Rollouts: one row each, its declared spec (JSON), where it is (state, step, when the step
 * began), what each step measured (JSON), and the lease of the server driving it (`owner`,
 * `lease_until`): a server drives a rollout only while it holds an unexpired lease, taken and
 * renewed by a conditional update, so one controller acts at a time whatever the number of
 * replicas. At most one rollout per endpoint is active (running or paused): a partial unique index.
 */
export function rollouts() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('rollouts')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('stable', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('step', 'integer', (c) => c.notNull())
        .addColumn('step_started_at', 'bigint', (c) => c.notNull())
        .addColumn('results', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('reason', 'text')
        .addColumn('started_by', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('owner', 'text')
        .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('rollouts_endpoint').on('rollouts').columns(['endpoint', 'started_at']).execute();
      await db.schema
        .createIndex('rollouts_one_active')
        .on('rollouts')
        .column('endpoint')
        .unique()
        .where(sql.ref('state'), 'in', ['running', 'paused'])
        .execute();
    },
  };
}
