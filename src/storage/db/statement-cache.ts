import type { SqliteDatabase, SqliteStatement } from 'kysely';
import type SQLite from 'better-sqlite3';

/** Distinct SQL texts kept prepared; search queries vary (IN lists), the write path does not. */
const MAX_STATEMENTS = 500;

/**
 * better-sqlite3 for Kysely with its prepared statements reused. Kysely's SQLite driver prepares
 * every query it runs; on the single-write path (a metric per request) preparing cost about as
 * much as running, so each SQL text is prepared once and kept (oldest dropped past the limit).
 * A statement is safe to reuse here: the connection runs one query at a time, and SQLite
 * re-prepares a kept statement itself after a schema change.
 */
export function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sqlText: string): SqliteStatement {
      let stmt = cache.get(sqlText);
      if (stmt === undefined) {
        stmt = database.prepare(sqlText);
        if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value!);
        cache.set(sqlText, stmt);
      }
      return stmt;
    },
  };
}
