import { sql } from 'kysely';
import { describe, expect, inject, it } from 'vitest';
import { openDatabase, type MetadataDb } from '../../src/storage/db/index.js';
import { postgresBackend } from '../helpers/backends.js';

const pgUrl = inject('pgUrl');
const backend = postgresBackend(pgUrl);

async function withDb<T>(db: MetadataDb, fn: (db: MetadataDb) => Promise<T>): Promise<T> {
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const setting = async (db: MetadataDb): Promise<string> => (await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db.db)).rows[0]!.statement_timeout;

describe.skipIf(!pgUrl)('Postgres connection settings', () => {
  it('bounds every statement by the statement timeout: 30 s by default', async () => {
    await withDb(openDatabase(await backend.freshDatabaseUrl()), async (db) => expect(await setting(db)).toBe('30s'));
  });

  it('a statement that runs past the URL\'s statement_timeout fails with a clear error', async () => {
    const url = await backend.freshDatabaseUrl();
    await withDb(openDatabase(`${url}&statement_timeout=200&pool_size=2`), async (db) => {
      expect(await setting(db)).toBe('200ms');
      await expect(sql`select pg_sleep(2)`.execute(db.db)).rejects.toThrow(/canceling statement due to statement timeout/);
      // The connection is still usable afterwards.
      expect((await sql<{ one: number }>`select 1 as one`.execute(db.db)).rows).toEqual([{ one: 1 }]);
    });
  });

  it('takes the timeout from the settings (FLUXOPS_DB_STATEMENT_TIMEOUT_MS); the URL parameter wins; 0 is no limit', async () => {
    const url = await backend.freshDatabaseUrl();
    await withDb(openDatabase(url, { statementTimeoutMs: 250 }), async (db) => {
      expect(await setting(db)).toBe('250ms');
      await expect(sql`select pg_sleep(2)`.execute(db.db)).rejects.toThrow(/statement timeout/);
    });
    await withDb(openDatabase(`${url}&statement_timeout=300`, { statementTimeoutMs: 250 }), async (db) => expect(await setting(db)).toBe('300ms'));
    await withDb(openDatabase(url, { statementTimeoutMs: 0 }), async (db) => expect(await setting(db)).toBe('0'));
  });
});
