import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * One caller's writes, run inside the group's transaction. It may run twice (see `commit`), so it
 * must act only through `db`.
 */
export type GroupWork<T> = (db: Kysely<Database>) => Promise<T>;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Item {
  work: GroupWork<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

// Compiled once: these run several times per group on the hot path.
const BEGIN = CompiledQuery.raw('begin immediate');
const SAVEPOINT = CompiledQuery.raw('savepoint group_item');
const RELEASE = CompiledQuery.raw('release group_item');
const ROLLBACK_TO = CompiledQuery.raw('rollback to group_item');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

/** A group larger than this is split, so one commit never holds the write lock for long. */
const MAX_GROUP = 512;

/**
 * Group commit for SQLite. With `synchronous=FULL` every commit waits for an fsync of the WAL, and
 * that fsync, not the SQL, bounds how many small writes (one metric, one param) a second the store
 * takes. Writes that arrive while a commit is under way are queued and committed together in the
 * next transaction: one fsync for the whole group. Each caller's promise settles only after the
 * commit that holds its writes returned, so an acknowledged write is on disk as before.
 *
 * An item that fails is rolled back alone and its caller gets its own error; the others commit.
 * Items fail rarely, so a group first runs straight through; only when an item fails is the
 * transaction rolled back and the group run again with a SAVEPOINT around each item (two statements
 * per item that the common case does without). Items run in the order they were queued, so two
 * writes to one run from one caller keep their order.
 *
 * better-sqlite3 is synchronous: a commit blocks the event loop for its fsync, and the requests
 * that arrive meanwhile are read only afterwards. The group is therefore started from
 * `setImmediate`, after the event loop has read every request that is ready, not from the first
 * one that queues.
 */
export class GroupCommitter {
  private queue: Item[] = [];
  private scheduled = false;

  constructor(private readonly db: Kysely<Database>) {}

  run<T>(work: GroupWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP);
    try {
      if (group.length > 0) await this.commit(group);
    } finally {
      this.scheduled = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async commit(group: Item[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.connection().execute(async (conn) => (await this.inTransaction(conn, () => this.straight(conn, group))) ?? (await this.inTransaction(conn, () => this.isolated(conn, group)))!);
    } catch (error) {
      // Nothing of the group was committed (begin, commit or a lone item failed): every caller learns it.
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }

  /** Runs `body` in a write transaction; commits when it returns outcomes, rolls back when it returns undefined or throws. */
  private async inTransaction(conn: Kysely<Database>, body: () => Promise<Outcome[] | undefined>): Promise<Outcome[] | undefined> {
    // IMMEDIATE takes the write lock first: a transaction that read before writing could
    // otherwise find its snapshot stale when another process wrote meanwhile (SQLITE_BUSY).
    await conn.executeQuery(BEGIN);
    let outcomes: Outcome[] | undefined;
    try {
      outcomes = await body();
    } catch (e) {
      await conn.executeQuery(ROLLBACK).catch(() => undefined);
      throw e;
    }
    if (outcomes === undefined) {
      await conn.executeQuery(ROLLBACK);
      return undefined;
    }
    try {
      await conn.executeQuery(COMMIT);
    } catch (e) {
      await conn.executeQuery(ROLLBACK).catch(() => undefined);
      throw e;
    }
    return outcomes;
  }

  /** Every item in turn with nothing between them; undefined as soon as one of several fails. */
  private async straight(conn: Kysely<Database>, group: Item[]): Promise<Outcome[] | undefined> {
    const outcomes: Outcome[] = [];
    for (const item of group) {
      try {
        outcomes.push({ ok: true, value: await item.work(conn) });
      } catch (error) {
        // Alone in its group, an item's failure is the group's: rolled back, and its caller told.
        if (group.length === 1) throw error;
        return undefined;
      }
    }
    return outcomes;
  }

  /** Every item inside its own savepoint: a failing one is undone alone. */
  private async isolated(conn: Kysely<Database>, group: Item[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const item of group) {
      await conn.executeQuery(SAVEPOINT);
      try {
        const value = await item.work(conn);
        await conn.executeQuery(RELEASE);
        outcomes.push({ ok: true, value });
      } catch (error) {
        await conn.executeQuery(ROLLBACK_TO);
        await conn.executeQuery(RELEASE);
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}

const committers = new WeakMap<Kysely<Database>, GroupCommitter>();

/**
 * The one group committer of a SQLite store, shared by every writer on it (tracking writes, the
 * audit log): writes of different kinds that arrive together still share one commit and one fsync.
 */
export function groupCommitterFor(db: Kysely<Database>): GroupCommitter {
  let c = committers.get(db);
  if (c === undefined) {
    c = new GroupCommitter(db);
    committers.set(db, c);
  }
  return c;
}
