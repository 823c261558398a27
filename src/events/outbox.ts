import { sql, type Transaction } from 'kysely';
import type { Database, MetadataDb } from '../storage/db/index.js';
import type { NewEvent } from './types.js';

/**
 * The Postgres channel of a store, computed by the server from the connection's schema: one per
 * schema, so two stores in one database do not wake each other (md5 keeps it under the 63-byte limit).
 */
export const CHANNEL_EXPRESSION = `'fluxops_events_' || md5(current_schema())`;
const CHANNEL_SQL = sql.raw<string>(CHANNEL_EXPRESSION);
const TAKE_WRITE_LOCK = sql`delete from events where 0 = 1`;

/**
 * The write side of the outbox for one metadata store. `transaction()` wraps Kysely's and, once
 * the commit is done, tells this process's dispatcher (`onCommitted`); `append()` adds an event to
 * the transaction. There is one outbox per store (`outboxFor`), so the stores, which are built
 * from the store alone, and the dispatcher meet without wiring.
 */
export class Outbox {
  private readonly listeners = new Set<() => void>();
  private readonly withEvents = new WeakSet<Transaction<Database>>();

  constructor(private readonly m: MetadataDb) {}

  /** Runs `fn` in a transaction; after a commit that appended events, wakes this process's listeners. */
  async transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    let appended = false;
    const result = await this.m.db.transaction().execute(async (trx) => {
      // SQLite: take the write lock before anything reads. A WAL transaction that reads and then
      // writes fails (SQLITE_BUSY, which no busy timeout waits out) when another process committed
      // in between; one that holds the write lock from its first statement waits its turn instead.
      // A write statement that matches nothing takes the lock and changes nothing.
      if (this.m.dialect === 'sqlite') await TAKE_WRITE_LOCK.execute(trx);
      const r = await fn(trx);
      appended = this.withEvents.has(trx);
      return r;
    });
    // After the commit, not before: a dispatcher woken earlier would read before the row is visible.
    if (appended) for (const l of this.listeners) l();
    return result;
  }

  /**
   * Appends an event to the transaction. Call it as the transaction's last write: on Postgres it
   * takes the outbox lock, which it holds until commit so that sequence numbers are handed out in
   * commit order (a reader paging by `seq` then never skips a number that commits later); taken
   * last, it is never held while waiting for another lock, so it cannot deadlock.
   */
  async append(trx: Transaction<Database>, event: NewEvent): Promise<number> {
    if (this.m.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext('fluxops_events.' || current_schema()))`.execute(trx);
    }
    const row = await trx
      .insertInto('events')
      .values({
        type: event.type,
        time: Date.now(),
        model: event.model ?? null,
        run_id: event.runId ?? null,
        endpoint: event.endpoint ?? null,
        experiment_id: event.experimentId ?? null,
        payload: JSON.stringify(event.payload),
        actor: event.actor,
      })
      .returning('seq')
      .executeTakeFirstOrThrow();
    // NOTIFY inside the transaction is delivered only at commit, and never on a rollback: other
    // replicas hear of exactly the events that exist.
    if (this.m.dialect === 'postgres') await sql`select pg_notify(${CHANNEL_SQL}, ${String(row.seq)})`.execute(trx);
    this.withEvents.add(trx);
    return row.seq;
  }

  /** Called after each commit in this process that appended events. */
  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const outboxes = new WeakMap<MetadataDb, Outbox>();

/** The one outbox of a metadata store. */
export function outboxFor(m: MetadataDb): Outbox {
  let o = outboxes.get(m);
  if (o === undefined) {
    o = new Outbox(m);
    outboxes.set(m, o);
  }
  return o;
}
