import type { Kysely } from 'kysely';

/**
 * Event triggers of registered pipelines (`fluxops pipelines register FILE`): one row per entry of
 * the file's `on:` list, with the file kept whole, replaced when the pipeline is registered again.
 */
export function pipelineTriggers() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('pipeline_triggers')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('pipeline', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('filter', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('base_dir', 'text')
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pipeline_triggers_by_pipeline').on('pipeline_triggers').columns(['pipeline', 'position']).unique().execute();
    },
  };
}
