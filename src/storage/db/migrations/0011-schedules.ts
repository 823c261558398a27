import { sql, type Kysely } from 'kysely';

/**
 * Schedules and their firings. A schedule starts a run of its pipeline (the spec text kept whole,
 * as given) at the slots of its cron expression in its time zone; `next_slot` is the next slot it
 * will fire, moved only by updates conditional on its old value. A firing is one slot of one
 * schedule: its primary key (schedule_id, slot) is what makes a slot fire once however many servers
 * tick, since each claims it by inserting the row. At most one firing per schedule waits `queued`
 * behind a running pipeline (a partial unique index).
 */
export function schedules() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('schedules')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('cron', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
        .addColumn('pipeline', 'text', (c) => c.notNull())
        .addColumn('pipeline_spec', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('overlap', 'text', (c) => c.notNull().defaultTo('skip'))
        .addColumn('catch_up', 'text', (c) => c.notNull().defaultTo('none'))
        .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_slot', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('schedules_due').on('schedules').columns(['paused', 'next_slot']).execute();
      await db.schema
        .createTable('schedule_firings')
        .addColumn('schedule_id', 'text', (c) => c.notNull())
        .addColumn('slot', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('pipeline_run', 'text')
        .addColumn('reason', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('fired_at', 'bigint', (c) => c.notNull())
        .addColumn('fired_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('schedule_firings_pk', ['schedule_id', 'slot'])
        .execute();
      await db.schema.createIndex('schedule_firings_state').on('schedule_firings').columns(['state', 'updated_at']).execute();
      await db.schema.createIndex('schedule_firings_one_queued').on('schedule_firings').column('schedule_id').unique().where(sql.ref('state'), '=', 'queued').execute();
    },
  };
}
