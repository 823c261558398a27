import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { FluxError } from '../../core/errors.js';
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
 * backend, as MLflow picks its stores.
 */
export function openDatabase(url: string): MetadataDb {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // An idle client that loses its server emits 'error'; without a listener that would crash.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', location: redact(url), close: () => db.destroy() };
  }
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `unsupported database URL scheme in '${redact(url)}': use sqlite:<path> or postgres://…`);
  }
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new SQLite(file);
  // WAL lets readers run beside the writer; synchronous=FULL makes every acknowledged commit
  // durable across a crash (the WAL is fsynced at each commit).
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return { db, dialect: 'sqlite', location: `sqlite:${file}`, close: () => db.destroy() };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** Cheap liveness probe used by the health endpoint. */
export async function pingDatabase(m: MetadataDb): Promise<void> {
  await sql`select 1`.execute(m.db);
}
