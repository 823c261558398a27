import path from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseSettings } from '../../core/index.js';
import { FluxError } from '../../core/index.js';
import { createFolder } from '../fs/index.js';
import { describeDatabaseError } from './database-error.js';
import { postgresSettings } from './postgres-settings.js';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';

export type Dialect = 'sqlite' | 'postgres';

export interface MetadataDb {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Human-readable description of where the data lives, with any password removed. */
  readonly location: string;
  close(): Promise<void>;
}

// Postgres returns int8 as strings by default; every bigint column here holds epoch ms or a
// step, well inside Number's exact range.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * Opens the metadata store named by a URL: `sqlite:/path/to/file.db` (or a bare path) for the
 * embedded default, `postgres://…`/`postgresql://…` for a shared server. The scheme decides the
 * backend, as MLflow picks its stores. `settings` (from the environment) size the Postgres pool and
 * its statement timeout; the URL's own `pool_size`/`statement_timeout` parameters win over them.
 */
export function openDatabase(url: string, settings: Partial<DatabaseSettings> = {}): MetadataDb {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const conn = postgresSettings(url, settings);
    const pool = new pg.Pool({
      connectionString: conn.connectionString,
      max: conn.poolSize,
      connectionTimeoutMillis: conn.connectTimeoutMs,
      // pg sends it as a start-up parameter: every statement of every pooled session is bounded.
      ...(conn.statementTimeoutMs > 0 ? { statement_timeout: conn.statementTimeoutMs } : {}),
    });
    // An idle client that loses its server emits 'error'; without a listener that would crash.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', location: redact(url), close: () => db.destroy() };
  }
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `unsupported database URL scheme in '${redact(url)}': use sqlite:<path> or postgres://…`);
  }
  const location = `sqlite:${file}`;
  if (file !== ':memory:') createFolder(path.dirname(path.resolve(file)), 'the folder of the database file');
  let database: SQLite.Database | undefined;
  try {
    database = new SQLite(file);
    // WAL lets readers run beside the writer; synchronous=FULL makes every acknowledged commit
    // durable across a crash (the WAL is fsynced at each commit).
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
  } catch (e) {
    // The first pragma is where a file that is not a database is found out.
    database?.close();
    throw describeDatabaseError(e, location);
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return { db, dialect: 'sqlite', location, close: () => db.destroy() };
}

/**
 * The URL without its password and query string (which may carry `password=` too): safe for
 * logs and error messages, `postgres://user@host:5432/db`.
 */
export function redact(url: string): string {
  return url.replace(/\?.*$/s, '').replace(/\/\/([^:/@]*):[^@]*@/, '//$1@');
}

/** Cheap liveness probe used by the health endpoint. */
export async function pingDatabase(m: MetadataDb): Promise<void> {
  await sql`select 1`.execute(m.db);
}
