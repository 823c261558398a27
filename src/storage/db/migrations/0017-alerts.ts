import type { Kysely } from 'kysely';

/**
 * Alerting: rules (a threshold on a platform metric, or an SLO with its burn-rate windows), the
 * state of each alert between evaluations, silences, and synthetic checks. A rule or check due is
 * taken by one process: its `next_run_at` moves forward by a conditional update, and only the
 * process whose update matched evaluates it.
 */
export function alerts() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('alert_rules')
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        // 'rule' or 'slo'; spec is the rule or SLO as JSON.
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        // JSON {email: [addresses]}: who is mailed besides the alert.* events webhooks receive.
        .addColumn('notify', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('every_ms', 'bigint', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('next_run_at', 'bigint', (c) => c.notNull())
        // The synthetic check that owns the rule (deleted with it), or null.
        .addColumn('owner', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('alert_states')
        // The alert: a rule's name, or an SLO's name with its window pair (`latency-slo:1h/5m`).
        .addColumn('alert', 'text', (c) => c.primaryKey().notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('silenced_by', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('silences')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('matchers', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'bigint', (c) => c.notNull())
        .addColumn('ends_at', 'bigint', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('synthetic_checks')
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('expect_status', 'integer', (c) => c.notNull())
        .addColumn('every_ms', 'bigint', (c) => c.notNull())
        .addColumn('timeout_ms', 'bigint', (c) => c.notNull())
        .addColumn('alert_after', 'integer', (c) => c.notNull())
        .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('last_ms', 'double precision')
        .addColumn('last_run_at', 'bigint')
        .addColumn('runs', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('failures', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('next_run_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
