import type { Kysely } from 'kysely';

/**
 * Endpoints and their deployments. An endpoint's traffic split and mirror settings are JSON
 * objects on its row (`{"blue": 90, "green": 10}`), written whole in one statement, so a change of
 * split is atomic and readers never see a half-moved one; `generation` grows with every change of
 * the endpoint or its deployments and lets a server tell whether its snapshot is current.
 */
export function endpoints() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('endpoints')
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        // JSON list of the roles that may predict (null: every role with the predict permission).
        .addColumn('predict_roles', 'text')
        .addColumn('sticky_header', 'text')
        .addColumn('traffic', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('mirror', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('generation', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('deployments')
        .addColumn('endpoint', 'text', (c) => c.notNull().references('endpoints.name').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('model_ref', 'text', (c) => c.notNull())
        // JSON {max_batch, max_wait_ms}, or null: no micro-batching.
        .addColumn('batching', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployments_pk', ['endpoint', 'name'])
        .execute();
      // Events about an endpoint name it, so subscribers filter without parsing the payload.
      await db.schema.alterTable('events').addColumn('endpoint', 'text').execute();
    },
  };
}
