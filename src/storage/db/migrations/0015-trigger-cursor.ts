import type { Kysely } from 'kysely';

/**
 * How far event triggers have read the outbox (one row, moved forward only, by any server), so a
 * server that starts goes over the events committed while none ran; and the newest event when
 * each trigger was registered, so a trigger never fires for an event older than itself.
 */
export function triggerCursor() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('pipeline_trigger_cursor')
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('pipeline_triggers').addColumn('created_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    },
  };
}
