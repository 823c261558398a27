import type { Kysely } from 'kysely';

/**
 * Webhooks and their deliveries.
 *
 * `webhooks`: one subscription each (a unique name, the URL, the signing secret, the event
 * patterns as a JSON list, an optional subject filter, the body format), and `created_seq`, the
 * newest event when it was made: it hears of the events after that one.
 *
 * `webhook_deliveries`: one row per event and webhook, made by whichever server's fan-out comes
 * first — the unique key (webhook_id, event_seq) makes the others' inserts do nothing, so several
 * servers reading one outbox create one delivery. A test delivery has no event (a NULL seq, which
 * no unique key compares equal). A sender claims a due row by a conditional update of its state
 * and lease (`lease_owner`, `lease_until`), so two servers never send the same attempt; the row
 * keeps the body's event as JSON (every attempt sends the same bytes), the attempts made (each
 * with its status or error, in `history`) and the last response's first KiB.
 *
 * `webhook_cursor`: how far the fan-out got (the highest seq any server fanned out), so a server
 * that starts after a stop catches up on the events committed meanwhile.
 */
export function webhooks() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('filter_model', 'text')
        .addColumn('filter_endpoint', 'text')
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_seq', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('event_seq', 'bigint')
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_status', 'integer')
        .addColumn('last_response', 'text')
        .addColumn('last_error', 'text')
        .addColumn('history', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addUniqueConstraint('webhook_deliveries_once', ['webhook_id', 'event_seq'])
        .execute();
      // The senders' look for due work: pending rows by time, and delivering rows whose lease ran out.
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['state', 'next_attempt_at']).execute();
      await db.schema.createIndex('webhook_deliveries_by_webhook').on('webhook_deliveries').columns(['webhook_id', 'created_at']).execute();
      await db.schema
        .createTable('webhook_cursor')
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
