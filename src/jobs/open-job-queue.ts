import { sql } from 'kysely';
import { postgresSettings, type MetadataDb } from '../storage/db/index.js';
import type { JobQueue } from './job-queue.js';
import { KyselyJobQueue } from './kysely-job-queue.js';
import { PgBossJobQueue } from './pg-boss-job-queue.js';

export interface OpenJobQueueOptions {
  /** The metadata store's URL (Postgres: pg-boss connects with it). */
  databaseUrl: string;
  /** pg-boss's schema; default `<schema>_jobs` beside the store's own schema (`fluxops_jobs` for `public`). */
  schema?: string | undefined;
  superviseSeconds?: number | undefined;
  onError?: ((e: unknown) => void) | undefined;
}

/** The queue that goes with a metadata store: the embedded one on SQLite, pg-boss on Postgres. */
export async function openJobQueue(m: MetadataDb, opts: OpenJobQueueOptions): Promise<JobQueue> {
  if (m.dialect === 'sqlite') return new KyselyJobQueue(m);
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(m.db);
  const own = rows[0]?.schema ?? 'public';
  const schema = opts.schema ?? `${own === 'public' ? 'fluxops' : own}_jobs`;
  return new PgBossJobQueue({ connectionString: postgresSettings(opts.databaseUrl).connectionString, schema, superviseSeconds: opts.superviseSeconds, onError: opts.onError });
}
