import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupCommitter, openDatabase, type MetadataDb } from '../../src/storage/db/index.js';

/** The group committer over a real SQLite file (WAL, synchronous=FULL, as the store opens it). */
describe('GroupCommitter on SQLite', () => {
  let dir: string;
  let m: MetadataDb;
  let file: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-group-'));
    file = path.join(dir, 'g.db');
    m = openDatabase(`sqlite:${file}`);
    await sql`create table items (seq integer primary key autoincrement, caller integer not null unique)`.execute(m.db);
  });
  afterAll(async () => {
    await m.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const insert = (caller: number) => (db: MetadataDb['db']) => sql`insert into items (caller) values (${caller})`.execute(db).then(() => caller);

  it('commits concurrent callers together; a failing item fails alone and leaves nothing behind', async () => {
    const committer = new GroupCommitter(m.db);
    const callers = Array.from({ length: 40 }, (_, i) => i);
    const outcomes = await Promise.allSettled(
      callers.map((i) =>
        committer.run(async (db) => {
          await insert(i)(db);
          // Caller 13 writes, then fails: its row must be rolled back, the others must commit.
          if (i === 13) throw new Error('caller 13 refused');
          return i;
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(callers.map((i) => (i === 13 ? 'rejected' : 'fulfilled')));
    expect((outcomes[13] as PromiseRejectedResult).reason).toMatchObject({ message: 'caller 13 refused' });
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o).value)).toEqual(callers.filter((i) => i !== 13));
    // In queue order, so one caller's successive writes keep their order.
    const rows = await sql<{ caller: number }>`select caller from items order by seq`.execute(m.db);
    expect(rows.rows.map((r) => r.caller)).toEqual(callers.filter((i) => i !== 13));
  });

  it('settles a caller only after its commit: another connection already sees the row', async () => {
    const committer = new GroupCommitter(m.db);
    const other = new SQLite(file, { readonly: true });
    try {
      const done = await Promise.all([100, 101, 102].map((i) => committer.run(insert(i)).then((c) => other.prepare('select count(*) as n from items where caller = ?').get(c) as { n: number })));
      expect(done.map((r) => r.n)).toEqual([1, 1, 1]);
    } finally {
      other.close();
    }
  });

  it('a lone item that fails rejects with its own error', async () => {
    const committer = new GroupCommitter(m.db);
    await expect(committer.run(insert(0))).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(await committer.run(insert(200))).toBe(200);
  });
});
