import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of this run's fresh Postgres database; empty when Postgres is not reachable. */
    pgUrl: string;
  }
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** Databases left behind by a run that crashed are dropped once they are this old. */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Creates one fresh Postgres database for the whole test run and hands its URL to the tests
 * through `inject('pgUrl')`. Suites isolate themselves further with a schema each.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const adminUrl = process.env.FLUXOPS_TEST_PG_ADMIN_URL ?? DEFAULT_ADMIN_URL;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (e) {
    await admin.end().catch(() => undefined);
    const reason = e instanceof Error ? e.message : String(e);
    if (process.env.CI) {
      throw new Error(`Postgres not reachable at ${redact(adminUrl)} (${reason}); CI must run the Postgres conformance tests`);
    }
    console.log(`Postgres not reachable at ${redact(adminUrl)} (${reason}): Postgres conformance tests are skipped`);
    project.provide('pgUrl', '');
    return undefined;
  }

  const name = `fluxops_test_${Date.now()}_${process.pid}`;
  try {
    await dropStaleDatabases(admin);
    await admin.query(`create database ${quoteIdent(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  project.provide('pgUrl', url.toString());

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await dropDatabase(client, name);
    } finally {
      await client.end();
    }
  };
}

async function dropStaleDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like 'fluxops\\_test\\_%'`);
  for (const { datname } of rows) {
    const created = Number(/^fluxops_test_(\d+)_\d+$/.exec(datname)?.[1]);
    if (Number.isFinite(created) && Date.now() - created > STALE_AFTER_MS) await dropDatabase(admin, datname);
  }
}

async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  try {
    // WITH (FORCE) (Postgres 13+) ends connections a crashed worker may have left open.
    await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
  } catch {
    await client.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [name]);
    await client.query(`drop database if exists ${quoteIdent(name)}`);
  }
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
