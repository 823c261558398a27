import { Migrator, type Migration, type MigrationProvider, sql } from 'kysely';
import { FluxError } from '../../core/index.js';
import type { MetadataDb } from './database.js';
import { initial } from './migrations/0001-initial.js';
import { loggedModels } from './migrations/0002-logged-models.js';
import { runInputTags } from './migrations/0003-run-input-tags.js';
import { auth } from './migrations/0004-auth.js';
import { events } from './migrations/0005-events.js';
import { endpoints } from './migrations/0006-endpoints.js';
import { rollouts } from './migrations/0007-rollouts.js';
import { rolloutWindows } from './migrations/0008-rollout-windows.js';
import { jobs } from './migrations/0009-jobs.js';
import { pipelines } from './migrations/0012-pipelines.js';
import { pipelineTriggers } from './migrations/0013-pipeline-triggers.js';
import { sweeps } from './migrations/0014-sweeps.js';
import { triggerCursor } from './migrations/0015-trigger-cursor.js';
import { monitoring } from './migrations/0016-monitoring.js';
import { alerts } from './migrations/0017-alerts.js';
import { webhooks } from './migrations/0010-webhooks.js';
import { schedules } from './migrations/0011-schedules.js';

/** Ordered list of this build's migrations; names sort in order. Never rename or edit one that shipped. */
export function migrationsFor(dialect: MetadataDb['dialect']): Record<string, Migration> {
  return {
    '0001-initial': initial(dialect),
    '0002-logged-models': loggedModels(),
    '0003-run-input-tags': runInputTags(),
    '0004-auth': auth(dialect),
    '0005-events': events(dialect),
    '0006-endpoints': endpoints(),
    '0007-rollouts': rollouts(),
    '0008-rollout-windows': rolloutWindows(),
    '0009-jobs': jobs(),
    '0010-webhooks': webhooks(),
    '0011-schedules': schedules(),
    '0012-pipelines': pipelines(dialect),
    '0013-pipeline-triggers': pipelineTriggers(),
    '0014-sweeps': sweeps(),
    '0015-trigger-cursor': triggerCursor(),
    '0016-monitoring': monitoring(dialect),
    '0017-alerts': alerts(),
  };
}

const MIGRATION_TABLE = 'fluxops_migration';
const LOCK_TABLE = 'fluxops_migration_lock';

/**
 * Brings the schema up to this build's latest version. Refuses a database that has migrations
 * this build does not know, which means a newer FluxOps wrote it.
 */
export async function migrateToLatest(m: MetadataDb): Promise<{ applied: string[] }> {
  const known = migrationsFor(m.dialect);
  // Without a schema Kysely's Migrator takes a migration table in ANY schema of the database as
  // its own, so a second FluxOps store in another schema of the same Postgres database would skip
  // creating its tables and fail. Name the connection's own schema (the first on its search_path).
  const schema = m.dialect === 'postgres' ? await currentSchema(m) : undefined;
  const applied = await appliedMigrations(m, schema);
  const unknown = applied.filter((name) => !(name in known));
  if (unknown.length > 0) {
    throw new FluxError(
      'SCHEMA_TOO_NEW',
      `the database at ${m.location} has schema version ${unknown.at(-1)}, newer than this FluxOps understands ` +
        `(latest ${Object.keys(known).at(-1)}); upgrade FluxOps or point it at another database`,
    );
  }
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(known) };
  const migrator = new Migrator({
    db: m.db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: LOCK_TABLE,
    // Numbers are handed out to branches ahead of their merge (0004 may land after 0005 shipped),
    // so a known migration missing from a database is applied even when a later one already ran.
    allowUnorderedMigrations: true,
    ...(schema !== undefined ? { migrationTableSchema: schema } : {}),
  });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely's migrator looks for its tables by listing every schema's tables, and Postgres's
  // has_schema_privilege() in that listing fails with 3F000 for a schema another session drops
  // at that moment (tests drop theirs; so may other applications sharing the database). Nothing
  // ran yet: look again.
  for (let retry = 0; retry < 5 && error !== undefined && isOtherSchemaGone(error, schema); retry++) {
    await new Promise((r) => setTimeout(r, 20 * (retry + 1)));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new FluxError('INTERNAL_ERROR', `database migration ${failed} failed: ${(error as Error).message}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

async function appliedMigrations(m: MetadataDb, schema: string | undefined): Promise<string[]> {
  const table = schema === undefined ? MIGRATION_TABLE : `${schema}.${MIGRATION_TABLE}`;
  try {
    const rows = await sql<{ name: string }>`select name from ${sql.table(table)} order by name`.execute(m.db);
    return rows.rows.map((r) => r.name);
  } catch {
    return []; // no migration table yet: a fresh database
  }
}

function isOtherSchemaGone(error: unknown, ours: string | undefined): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const named = typeof e.message === 'string' ? /schema "([^"]+)" does not exist/.exec(e.message)?.[1] : undefined;
  return e.code === '3F000' && named !== undefined && named !== ours;
}

async function currentSchema(m: MetadataDb): Promise<string | undefined> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(m.db);
  return rows[0]?.schema ?? undefined;
}
