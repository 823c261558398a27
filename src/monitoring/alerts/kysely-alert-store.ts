import type { Kysely, Selectable } from 'kysely';
import { outboxFor, type Actor, type NewEvent, type Outbox } from '../../events/index.js';
import { uniqueOrAlreadyExists, type Database, type MetadataDb } from '../../storage/db/index.js';
import { nextRunAfter } from '../next-run.js';
import type { AlertState, Silence } from './alert-evaluator.js';
import type { AlertDefinition, AlertRecord, AlertStore, SyntheticCheck } from './alert-store.js';

type DefRow = Selectable<Database['alert_rules']>;
type CheckRow = Selectable<Database['synthetic_checks']>;

export class KyselyAlertStore implements AlertStore {
  private readonly db: Kysely<Database>;
  private readonly outbox: Outbox;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.outbox = outboxFor(m);
  }

  async createDefinition(d: AlertDefinition): Promise<void> {
    await uniqueOrAlreadyExists(
      () =>
        this.db
          .insertInto('alert_rules')
          .values({
            name: d.name,
            kind: d.kind,
            spec: JSON.stringify(d.kind === 'rule' ? d.rule : d.slo),
            notify: JSON.stringify(d.notify),
            every_ms: d.everyMs,
            enabled: d.enabled ? 1 : 0,
            next_run_at: d.nextRunAt,
            owner: d.owner,
            created_at: d.createdAt,
            updated_at: d.updatedAt,
          })
          .execute(),
      `alert rule '${d.name}' already exists`,
    );
  }

  async getDefinition(name: string): Promise<AlertDefinition | undefined> {
    const r = await this.db.selectFrom('alert_rules').selectAll().where('name', '=', name).executeTakeFirst();
    return r === undefined ? undefined : toDefinition(r);
  }

  async listDefinitions(): Promise<AlertDefinition[]> {
    return (await this.db.selectFrom('alert_rules').selectAll().orderBy('name').execute()).map(toDefinition);
  }

  async deleteDefinition(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('alert_states').where('rule', '=', name).execute();
      const r = await trx.deleteFrom('alert_rules').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async claimDefinitions(now: number): Promise<AlertDefinition[]> {
    const due = await this.db.selectFrom('alert_rules').selectAll().where('enabled', '=', 1).where('next_run_at', '<=', now).execute();
    const claimed: AlertDefinition[] = [];
    for (const r of due) {
      const prev = Number(r.next_run_at);
      const next = now + Number(r.every_ms);
      const u = await this.db.updateTable('alert_rules').set({ next_run_at: next }).where('name', '=', r.name).where('next_run_at', '=', prev).executeTakeFirst();
      if (Number(u.numUpdatedRows) === 1) claimed.push(toDefinition({ ...r, next_run_at: next }));
    }
    return claimed;
  }

  async dueAt(name: string, at: number): Promise<void> {
    await this.db.updateTable('alert_rules').set({ next_run_at: at }).where('name', '=', name).where('next_run_at', '>', at).execute();
  }

  async getState(alert: string): Promise<AlertRecord | undefined> {
    const r = await this.db.selectFrom('alert_states').selectAll().where('alert', '=', alert).executeTakeFirst();
    return r === undefined ? undefined : toRecord(r);
  }

  async listStates(): Promise<AlertRecord[]> {
    return (await this.db.selectFrom('alert_states').selectAll().orderBy('alert').execute()).map(toRecord);
  }

  async putState(r: AlertRecord, events: NewEvent[], actor: Actor): Promise<void> {
    const row = {
      alert: r.alert,
      rule: r.rule,
      status: r.status,
      severity: r.severity,
      labels: JSON.stringify(r.labels),
      state: JSON.stringify(stateJson(r.state)),
      silenced_by: r.silencedBy,
      updated_at: r.updatedAt,
    };
    await this.outbox.transaction(async (trx) => {
      await trx
        .insertInto('alert_states')
        .values(row)
        .onConflict((oc) => oc.column('alert').doUpdateSet({ status: row.status, severity: row.severity, labels: row.labels, state: row.state, silenced_by: row.silenced_by, updated_at: row.updated_at }))
        .execute();
      for (const e of events) await this.outbox.append(trx, { ...e, actor });
    });
  }

  async createSilence(s: Silence): Promise<void> {
    await this.db
      .insertInto('silences')
      .values({ id: s.id, matchers: JSON.stringify(s.matchers), starts_at: s.startsAt.getTime(), ends_at: s.endsAt.getTime(), comment: s.comment, created_by: s.createdBy, created_at: Date.now() })
      .execute();
  }

  async listSilences(): Promise<Silence[]> {
    const rows = await this.db.selectFrom('silences').selectAll().orderBy('starts_at', 'desc').execute();
    return rows.map((r) => ({ id: r.id, matchers: JSON.parse(r.matchers) as Silence['matchers'], startsAt: new Date(Number(r.starts_at)), endsAt: new Date(Number(r.ends_at)), comment: r.comment, createdBy: r.created_by }));
  }

  async expireSilence(id: string, now: Date): Promise<boolean> {
    const r = await this.db.updateTable('silences').set({ ends_at: now.getTime() }).where('id', '=', id).where('ends_at', '>', now.getTime()).executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return true;
    return (await this.db.selectFrom('silences').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async createCheck(c: SyntheticCheck): Promise<void> {
    await uniqueOrAlreadyExists(
      () =>
        this.db
          .insertInto('synthetic_checks')
          .values({
            name: c.name,
            endpoint: c.endpoint,
            body: JSON.stringify(c.body),
            expect_status: c.expectStatus,
            every_ms: c.everyMs,
            timeout_ms: c.timeoutMs,
            alert_after: c.alertAfter,
            enabled: c.enabled ? 1 : 0,
            next_run_at: c.nextRunAt,
            created_at: c.createdAt,
            updated_at: c.updatedAt,
          })
          .execute(),
      `synthetic check '${c.name}' already exists`,
    );
  }

  async getCheck(name: string): Promise<SyntheticCheck | undefined> {
    const r = await this.db.selectFrom('synthetic_checks').selectAll().where('name', '=', name).executeTakeFirst();
    return r === undefined ? undefined : toCheck(r);
  }

  async listChecks(): Promise<SyntheticCheck[]> {
    return (await this.db.selectFrom('synthetic_checks').selectAll().orderBy('name').execute()).map(toCheck);
  }

  async deleteCheck(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('synthetic_checks').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async claimChecks(now: number): Promise<SyntheticCheck[]> {
    const due = await this.db.selectFrom('synthetic_checks').selectAll().where('enabled', '=', 1).where('next_run_at', '<=', now).execute();
    const claimed: SyntheticCheck[] = [];
    for (const r of due) {
      const prev = Number(r.next_run_at);
      const next = nextRunAfter(prev, Number(r.every_ms), now);
      const u = await this.db.updateTable('synthetic_checks').set({ next_run_at: next }).where('name', '=', r.name).where('next_run_at', '=', prev).executeTakeFirst();
      if (Number(u.numUpdatedRows) === 1) claimed.push(toCheck({ ...r, next_run_at: next }));
    }
    return claimed;
  }

  async recordCheck(name: string, o: { ok: boolean; status: number | null; error: string | null; ms: number; at: number }): Promise<SyntheticCheck | undefined> {
    await this.db
      .updateTable('synthetic_checks')
      .set((eb) => ({
        consecutive_failures: o.ok ? 0 : eb('consecutive_failures', '+', 1),
        failures: o.ok ? eb.ref('failures') : eb('failures', '+', 1),
        runs: eb('runs', '+', 1),
        last_status: o.status,
        last_error: o.error,
        last_ms: o.ms,
        last_run_at: o.at,
        updated_at: o.at,
      }))
      .where('name', '=', name)
      .execute();
    return this.getCheck(name);
  }
}

function toDefinition(r: DefRow): AlertDefinition {
  const base = {
    name: r.name,
    notify: JSON.parse(r.notify) as { email: string[] },
    everyMs: Number(r.every_ms),
    enabled: Number(r.enabled) === 1,
    nextRunAt: Number(r.next_run_at),
    owner: r.owner,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
  return r.kind === 'slo' ? { ...base, kind: 'slo', slo: JSON.parse(r.spec) as never } : { ...base, kind: 'rule', rule: JSON.parse(r.spec) as never };
}

type StateJson = { status: AlertState['status']; activeSince: number | null; firingSince: number | null; resolvedAt: number | null; lastValue: number | null; lastEvaluated: number };

function stateJson(s: AlertState): StateJson {
  return {
    status: s.status,
    activeSince: s.activeSince?.getTime() ?? null,
    firingSince: s.firingSince?.getTime() ?? null,
    resolvedAt: s.resolvedAt?.getTime() ?? null,
    lastValue: s.lastValue ?? null,
    lastEvaluated: s.lastEvaluated.getTime(),
  };
}

function toRecord(r: Selectable<Database['alert_states']>): AlertRecord {
  const s = JSON.parse(r.state) as StateJson;
  const d = (v: number | null): Date | undefined => (v === null ? undefined : new Date(v));
  return {
    alert: r.alert,
    rule: r.rule,
    status: r.status as AlertState['status'],
    severity: r.severity,
    labels: JSON.parse(r.labels) as Record<string, string>,
    state: { status: s.status, activeSince: d(s.activeSince), firingSince: d(s.firingSince), resolvedAt: d(s.resolvedAt), lastValue: s.lastValue ?? undefined, lastEvaluated: new Date(s.lastEvaluated) },
    silencedBy: r.silenced_by,
    updatedAt: Number(r.updated_at),
  };
}

function toCheck(r: CheckRow): SyntheticCheck {
  const n = (v: number | null): number | null => (v === null ? null : Number(v));
  return {
    name: r.name,
    endpoint: r.endpoint,
    body: JSON.parse(r.body) as unknown,
    expectStatus: Number(r.expect_status),
    everyMs: Number(r.every_ms),
    timeoutMs: Number(r.timeout_ms),
    alertAfter: Number(r.alert_after),
    consecutiveFailures: Number(r.consecutive_failures),
    lastStatus: n(r.last_status),
    lastError: r.last_error,
    lastMs: n(r.last_ms),
    lastRunAt: n(r.last_run_at),
    runs: Number(r.runs),
    failures: Number(r.failures),
    enabled: Number(r.enabled) === 1,
    nextRunAt: Number(r.next_run_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
