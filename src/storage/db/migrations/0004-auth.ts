import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Roles, scopes, expiry and last use for API keys, and the append-only audit log. Keys made
 * before roles existed become `predict` keys: they were handed out for /api/predict, and the
 * first admin key comes from the local CLI (`fluxops keys create NAME --role admin`).
 */
export function auth(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('api_keys').addColumn('role', 'text', (c) => c.notNull().defaultTo('predict')).execute();
      await db.schema.alterTable('api_keys').addColumn('scopes', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('api_keys').addColumn('expires_at', 'bigint').execute();
      await db.schema.alterTable('api_keys').addColumn('last_used_at', 'bigint').execute();
      const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', sql.raw(idType), (c) => c.primaryKey().notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .addColumn('key_name', 'text')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_time').on('audit_log').column('time').execute();
    },
  };
}
