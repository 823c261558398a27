import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { uniqueOrAlreadyExists, type Database, type MetadataDb } from '../storage/db/index.js';
import type { AttemptOutcome, ClaimedDelivery, NewDelivery, WebhookStore } from './webhook-store.js';
import type { DeliveryAttempt, DeliveryState, EventBody, WebhookDelivery, WebhookFormat, WebhookRecord } from './types.js';

type HookRow = Selectable<Database['webhooks']>;
type DeliveryRow = Selectable<Database['webhook_deliveries']>;
type Eb = ExpressionBuilder<Database, 'webhook_deliveries'>;

const CURSOR = 'fanout';

/** A delivery a sender may take now: pending and due, or left delivering by a sender whose lease ran out. */
function due(eb: Eb, now: number) {
  return eb.or([eb.and([eb('state', '=', 'pending'), eb('next_attempt_at', '<=', now)]), eb.and([eb('state', '=', 'delivering'), eb('lease_until', '<=', now)])]);
}

export class KyselyWebhookStore implements WebhookStore {
  private readonly db: Kysely<Database>;

  constructor(m: MetadataDb) {
    this.db = m.db;
  }

  async create(w: WebhookRecord): Promise<void> {
    await uniqueOrAlreadyExists(
      () =>
        this.db
          .insertInto('webhooks')
          .values({
            id: w.id,
            name: w.name,
            url: w.url,
            secret: w.secret,
            events: JSON.stringify(w.events),
            filter_model: w.filter.model,
            filter_endpoint: w.filter.endpoint,
            format: w.format,
            enabled: w.enabled ? 1 : 0,
            created_seq: w.createdSeq,
            created_at: w.createdAt,
            created_by: w.createdBy,
            updated_at: w.updatedAt,
          })
          .execute(),
      `webhook '${w.name}' already exists`,
    );
  }

  async get(id: string): Promise<WebhookRecord | undefined> {
    const r = await this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    return r === undefined ? undefined : toWebhook(r);
  }

  async getByName(name: string): Promise<WebhookRecord | undefined> {
    const r = await this.db.selectFrom('webhooks').selectAll().where('name', '=', name).executeTakeFirst();
    return r === undefined ? undefined : toWebhook(r);
  }

  async list(): Promise<WebhookRecord[]> {
    return (await this.db.selectFrom('webhooks').selectAll().orderBy('name').execute()).map(toWebhook);
  }

  async enabled(): Promise<WebhookRecord[]> {
    return (await this.db.selectFrom('webhooks').selectAll().where('enabled', '=', 1).execute()).map(toWebhook);
  }

  async setEnabled(id: string, enabled: boolean, now: number): Promise<boolean> {
    const r = await this.db.updateTable('webhooks').set({ enabled: enabled ? 1 : 0, updated_at: now }).where('id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // The webhook first: on SQLite a transaction starts with its write (see ARCHITECTURE.md), and
      // a fan-out that read it a moment ago then inserts deliveries only until this commits.
      const r = await trx.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async latestEventSeq(): Promise<number> {
    const r = await this.db
      .selectFrom('events')
      .select(({ fn }) => fn.max('seq').as('max'))
      .executeTakeFirst();
    return Number(r?.max ?? 0);
  }

  async enqueue(rows: readonly NewDelivery[]): Promise<number> {
    if (rows.length === 0) return 0;
    const r = await this.db
      .insertInto('webhook_deliveries')
      .values(rows.map((d) => newRow(d)))
      // Every server's fan-out sees every event; the first insert wins, the others do nothing.
      .onConflict((oc) => oc.columns(['webhook_id', 'event_seq']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0);
  }

  async insertClaimed(row: NewDelivery, owner: string, leaseUntil: number): Promise<ClaimedDelivery> {
    const values = { ...newRow(row), state: 'delivering', attempts: 1, lease_owner: owner, lease_until: leaseUntil };
    const r = await this.db.insertInto('webhook_deliveries').values(values).returningAll().executeTakeFirstOrThrow();
    return toClaimed(r);
  }

  async claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    // A read first: with nothing due (the usual case) a look writes nothing, so an idle server
    // never takes SQLite's write lock.
    const candidates = await this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where((eb) => due(eb, now))
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    if (candidates.length === 0) return [];
    // The condition is evaluated again on each row as it is updated (on Postgres against the row
    // as committed after a concurrent claim, which the update waits for), so a row two servers
    // both picked is claimed by one of them.
    const rows = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ state: 'delivering', lease_owner: owner, lease_until: leaseUntil, attempts: eb('attempts', '+', 1), updated_at: now }))
      .where(
        'id',
        'in',
        candidates.map((c) => c.id),
      )
      .where((eb) => due(eb, now))
      .returningAll()
      .execute();
    return rows.map(toClaimed);
  }

  async record(id: string, owner: string, attempt: number, o: AttemptOutcome): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set({
        state: o.state,
        next_attempt_at: o.nextAttemptAt,
        lease_owner: null,
        lease_until: 0,
        last_status: o.status,
        last_response: o.response,
        last_error: o.error,
        history: JSON.stringify(o.history),
        updated_at: o.now,
        finished_at: o.state === 'pending' ? null : o.now,
      })
      .where('id', '=', id)
      .where('state', '=', 'delivering')
      .where('lease_owner', '=', owner)
      .where('attempts', '=', attempt)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async release(id: string, owner: string, attempt: number, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ state: 'pending', lease_owner: null, lease_until: 0, attempts: eb('attempts', '-', 1), next_attempt_at: now, updated_at: now }))
      .where('id', '=', id)
      .where('state', '=', 'delivering')
      .where('lease_owner', '=', owner)
      .where('attempts', '=', attempt)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async getDelivery(id: string): Promise<WebhookDelivery | undefined> {
    const r = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return r === undefined ? undefined : toDelivery(r);
  }

  async deliveries(webhookId: string, q: { limit: number; state?: DeliveryState | undefined }): Promise<WebhookDelivery[]> {
    let query = this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
    if (q.state !== undefined) query = query.where('state', '=', q.state);
    const rows = await query.orderBy('created_at', 'desc').orderBy('event_seq', 'desc').orderBy('id').limit(q.limit).execute();
    return rows.map(toDelivery);
  }

  async nextDue(): Promise<number | undefined> {
    const r = await this.db
      .selectFrom('webhook_deliveries')
      .select(({ fn }) => fn.min('next_attempt_at').as('at'))
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return r?.at === null || r?.at === undefined ? undefined : Number(r.at);
  }

  async cursor(): Promise<number> {
    const r = await this.db.selectFrom('webhook_cursor').select('seq').where('name', '=', CURSOR).executeTakeFirst();
    return r === undefined ? 0 : Number(r.seq);
  }

  async advanceCursor(seq: number): Promise<void> {
    await this.db
      .insertInto('webhook_cursor')
      .values({ name: CURSOR, seq })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ seq: (eb) => eb.ref('excluded.seq') })
          .where('webhook_cursor.seq', '<', seq),
      )
      .execute();
  }
}

function newRow(d: NewDelivery) {
  return {
    id: d.id,
    webhook_id: d.webhookId,
    event_seq: d.eventSeq,
    event_type: d.event.type,
    event: JSON.stringify(d.event),
    state: 'pending',
    attempts: 0,
    max_attempts: d.maxAttempts,
    next_attempt_at: d.now,
    lease_owner: null,
    lease_until: 0,
    last_status: null,
    last_response: null,
    last_error: null,
    history: '[]',
    created_at: d.now,
    updated_at: d.now,
    finished_at: null,
  };
}

function toWebhook(r: HookRow): WebhookRecord {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    filter: { model: r.filter_model, endpoint: r.filter_endpoint },
    format: r.format as WebhookFormat,
    enabled: Number(r.enabled) === 1,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
    updatedAt: Number(r.updated_at),
    secret: r.secret,
    createdSeq: Number(r.created_seq),
  };
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    eventSeq: r.event_seq === null ? null : Number(r.event_seq),
    eventType: r.event_type,
    state: r.state as DeliveryState,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastResponse: r.last_response,
    lastError: r.last_error,
    history: JSON.parse(r.history) as DeliveryAttempt[],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

function toClaimed(r: DeliveryRow): ClaimedDelivery {
  return { ...toDelivery(r), event: JSON.parse(r.event) as EventBody, leaseOwner: r.lease_owner ?? '' };
}
