import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * The transactional outbox: every domain change appends its event here in the same transaction,
 * so an event exists exactly when its change committed. `seq` only ever grows (an identity column
 * on Postgres, AUTOINCREMENT on SQLite, which never reuses a deleted rowid) and is the cursor
 * readers page with. The subject columns (`model`, `run_id`, `experiment_id`) are nullable and
 * indexed through `type`: subscribers filter on them without parsing the payload. `actor` is the
 * API key name that made the change, when one did.
 */
export function events(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('events')
        // SQLite makes only an `integer primary key` the rowid; AUTOINCREMENT keeps it from ever
        // handing out a number again, which a cursor needs.
        .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().notNull().generatedAlwaysAsIdentity() : c.primaryKey().notNull().autoIncrement(),
        )
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('model', 'text')
        .addColumn('run_id', 'text')
        .addColumn('experiment_id', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('actor', 'text')
        .execute();
      await db.schema.createIndex('events_type_idx').on('events').columns(['type', 'seq']).execute();
    },
  };
}
