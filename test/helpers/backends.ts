import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import type { ConfigInput } from '../../src/core/index.js';
import { openPlatform, type Platform } from '../../src/platform.js';

export type BackendName = 'sqlite' | 'postgres';

/** One metadata-store backend the conformance suites run against. */
export interface StoreBackend {
  name: BackendName;
  /** Where the data lives, for log lines and suite names: `sqlite` or `postgres (<database>)`. */
  label: string;
  /** URL of a fresh, empty database that no other open() or suite can see. */
  freshDatabaseUrl(): Promise<string>;
  /** A migrated platform over a fresh database and a fresh artifact folder; closed after the file. */
  open(): Promise<Platform>;
}

// Everything a helper creates is undone after the test file, newest first, so platforms close
// before their folders and schemas go. Registered when a test file imports this module.
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  const errors: unknown[] = [];
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
});

/** Runs `fn` after the test file, before what was registered earlier (newest first). */
export function afterFile(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** A fresh temporary folder, removed after the test file. */
export function tmpDir(prefix = 'fluxops-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.promises.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The backends to run: SQLite always, Postgres when the global setup reached a server. */
export function storeBackends(): StoreBackend[] {
  const pgUrl = inject('pgUrl');
  return pgUrl ? [sqliteBackend(), postgresBackend(pgUrl)] : [sqliteBackend()];
}

export function sqliteBackend(): StoreBackend {
  return {
    name: 'sqlite',
    label: 'sqlite',
    freshDatabaseUrl: () => Promise.resolve(`sqlite:${path.join(tmpDir(), 'fluxops.db')}`),
    open() {
      return openTracked(this);
    },
  };
}

/**
 * Postgres over this run's database, one schema per fresh database: the schema is created here
 * and named as the connection's search_path (`options=-c search_path=…`, which libpq and
 * node-postgres both honour), so every table FluxOps creates lands in it.
 */
export function postgresBackend(pgUrl: string): StoreBackend {
  return {
    name: 'postgres',
    label: `postgres (${postgresDatabaseName(pgUrl)})`,
    async freshDatabaseUrl() {
      if (!pgUrl) throw new Error('Postgres is not reachable in this run (see the global setup message)');
      const schema = `s_${randomBytes(8).toString('hex')}`;
      await withClient(pgUrl, (c) => c.query(`create schema ${schema}`));
      // Not dropped after the file: the run's database goes whole at the end (global setup).
      // Dropping schemas while other files' stores start raced Kysely's migrator, which lists
      // every schema's tables (has_schema_privilege fails for a schema dropped meanwhile).
      return withSearchPath(pgUrl, schema);
    },
    open() {
      return openTracked(this);
    },
  };
}

/** The database name in a Postgres URL. */
export function postgresDatabaseName(url: string): string {
  return url ? decodeURIComponent(new URL(url).pathname.slice(1)) : '';
}

/** The schema named by a URL's `options=-c search_path=…`, or undefined. */
export function postgresSchemaOf(url: string): string | undefined {
  const options = new URL(url).searchParams.get('options') ?? '';
  return /search_path=([A-Za-z0-9_]+)/.exec(options)?.[1];
}

export function withSearchPath(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function openTracked(backend: StoreBackend): Promise<Platform> {
  return openPlatformOn(await backend.freshDatabaseUrl());
}

/** A platform over a given database (a second instance of one store, say), closed after the test file. */
export async function openPlatformOn(databaseUrl: string, config: Omit<ConfigInput, 'databaseUrl'> = {}): Promise<Platform> {
  const home = tmpDir();
  const platform = await openPlatform({ home, databaseUrl, artifactRoot: path.join(home, 'artifacts'), ...config });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= platform.close());
  cleanups.push(close);
  return { ...platform, close };
}
