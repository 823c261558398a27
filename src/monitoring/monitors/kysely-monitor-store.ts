import type { Kysely, Selectable } from 'kysely';
import { outboxFor, type Actor, type NewEvent, type Outbox } from '../../events/index.js';
import { uniqueOrAlreadyExists, type Database, type MetadataDb } from '../../storage/db/index.js';
import { nextRunAfter } from '../next-run.js';
import type { MonitorSettings } from './monitor-spec.js';
import type { MonitorStore, StoredProfile } from './monitor-store.js';
import type { Monitor, MonitorResult } from './types.js';

type MonitorRow = Selectable<Database['monitors']>;
type ResultRow = Selectable<Database['monitor_results']>;

export class KyselyMonitorStore implements MonitorStore {
  private readonly db: Kysely<Database>;
  private readonly outbox: Outbox;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.outbox = outboxFor(m);
  }

  async create(m: MonitorSettings, nextRunAt: number | null, now: number): Promise<void> {
    await uniqueOrAlreadyExists(
      () =>
        this.db
          .insertInto('monitors')
          .values({ name: m.name, endpoint: m.endpoint, spec: JSON.stringify(specOf(m)), every_ms: m.everyMs, enabled: m.enabled ? 1 : 0, next_run_at: nextRunAt, created_at: now, updated_at: now })
          .execute(),
      `monitor '${m.name}' already exists`,
    );
  }

  async get(name: string): Promise<Monitor | undefined> {
    const r = await this.db.selectFrom('monitors').selectAll().where('name', '=', name).executeTakeFirst();
    return r === undefined ? undefined : toMonitor(r);
  }

  async list(): Promise<Monitor[]> {
    return (await this.db.selectFrom('monitors').selectAll().orderBy('name').execute()).map(toMonitor);
  }

  async update(m: MonitorSettings, nextRunAt: number | null, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('monitors')
      .set({ endpoint: m.endpoint, spec: JSON.stringify(specOf(m)), every_ms: m.everyMs, enabled: m.enabled ? 1 : 0, next_run_at: nextRunAt, updated_at: now })
      .where('name', '=', m.name)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('monitor_results').where('monitor', '=', name).execute();
      const r = await trx.deleteFrom('monitors').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async claimDue(now: number): Promise<Monitor[]> {
    const due = await this.db
      .selectFrom('monitors')
      .selectAll()
      .where('enabled', '=', 1)
      .where('every_ms', 'is not', null)
      .where('next_run_at', 'is not', null)
      .where('next_run_at', '<=', now)
      .execute();
    const claimed: Monitor[] = [];
    for (const r of due) {
      const prev = Number(r.next_run_at);
      const next = nextRunAfter(prev, Number(r.every_ms), now);
      const u = await this.db.updateTable('monitors').set({ next_run_at: next }).where('name', '=', r.name).where('next_run_at', '=', prev).executeTakeFirst();
      if (Number(u.numUpdatedRows) === 1) claimed.push(toMonitor({ ...r, next_run_at: next }));
    }
    return claimed;
  }

  async addResult(r: Omit<MonitorResult, 'seq'>, events: (seq: number) => NewEvent[], actor: Actor): Promise<number> {
    return this.outbox.transaction(async (trx) => {
      const row = await trx
        .insertInto('monitor_results')
        .values({
          monitor: r.monitor,
          time: r.time,
          window_start: r.windowStart,
          window_end: r.windowEnd,
          row_count: r.rows,
          status: r.status,
          drifted: r.status === 'drift' ? 1 : 0,
          drift_share: r.dataset?.driftedShare ?? null,
          result: JSON.stringify(bodyOf(r)),
        })
        .returning('seq')
        .executeTakeFirstOrThrow();
      const seq = Number(row.seq);
      for (const e of events(seq)) await this.outbox.append(trx, { ...e, actor });
      return seq;
    });
  }

  async results(name: string, q: { limit: number; before?: number | undefined; since?: number | undefined }): Promise<MonitorResult[]> {
    let s = this.db.selectFrom('monitor_results').selectAll().where('monitor', '=', name);
    if (q.before !== undefined) s = s.where('seq', '<', q.before);
    if (q.since !== undefined) s = s.where('time', '>=', q.since);
    return (await s.orderBy('seq', 'desc').limit(q.limit).execute()).map(toResult);
  }

  async latestResults(): Promise<MonitorResult[]> {
    const rows = await this.db
      .selectFrom('monitor_results')
      .selectAll()
      .where('seq', 'in', (eb) => eb.selectFrom('monitor_results').select((e) => e.fn.max('seq').as('seq')).groupBy('monitor'))
      .execute();
    return rows.map(toResult);
  }

  async putProfile(p: StoredProfile): Promise<void> {
    await this.db
      .insertInto('model_profiles')
      .values({ model: p.model, version: p.version, profile: p.profile, source: p.source, created_at: p.createdAt })
      .onConflict((oc) => oc.columns(['model', 'version']).doUpdateSet({ profile: p.profile, source: p.source, created_at: p.createdAt }))
      .execute();
  }

  async getProfile(model: string, version: string): Promise<StoredProfile | undefined> {
    const r = await this.db.selectFrom('model_profiles').selectAll().where('model', '=', model).where('version', '=', version).executeTakeFirst();
    return r === undefined ? undefined : { model: r.model, version: r.version, profile: r.profile, source: r.source, createdAt: Number(r.created_at) };
  }
}

type Spec = Omit<MonitorSettings, 'name' | 'endpoint' | 'everyMs' | 'enabled'>;

function specOf(m: MonitorSettings): Spec {
  return { deployment: m.deployment, reference: m.reference, windowMs: m.windowMs, minRows: m.minRows, maxRows: m.maxRows, driftShare: m.driftShare, columns: m.columns, ignore: m.ignore };
}

function toMonitor(r: MonitorRow): Monitor {
  const spec = JSON.parse(r.spec) as Spec;
  return {
    name: r.name,
    endpoint: r.endpoint,
    ...spec,
    everyMs: r.every_ms === null ? null : Number(r.every_ms),
    enabled: Number(r.enabled) === 1,
    nextRunAt: r.next_run_at === null ? null : Number(r.next_run_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

type Body = Omit<MonitorResult, 'seq' | 'monitor' | 'time' | 'windowStart' | 'windowEnd' | 'rows' | 'status'>;

function bodyOf(r: Omit<MonitorResult, 'seq'>): Body {
  return { endpoint: r.endpoint, message: r.message, reference: r.reference, versions: r.versions, columns: r.columns, dataset: r.dataset, predictions: r.predictions, predictionDrift: r.predictionDrift, performance: r.performance };
}

function toResult(r: ResultRow): MonitorResult {
  const body = JSON.parse(r.result) as Body;
  return {
    seq: Number(r.seq),
    monitor: r.monitor,
    time: Number(r.time),
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    rows: Number(r.row_count),
    status: r.status as MonitorResult['status'],
    ...body,
  };
}
