import type { Kysely, Selectable } from 'kysely';
import { outboxFor, type NewEvent, type Outbox } from '../events/index.js';
import { uniqueOrAlreadyExists, type Database, type MetadataDb } from '../storage/db/index.js';
import type { RolloutPatch, RolloutStore, StoredWindow } from './rollout-store.js';
import type { Rollout, RolloutSpec, RolloutState, StepResult } from './types.js';

type Row = Selectable<Database['rollouts']>;

export class KyselyRolloutStore implements RolloutStore {
  private readonly db: Kysely<Database>;
  private readonly outbox: Outbox;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.outbox = outboxFor(m);
  }

  async create(r: Rollout, event: NewEvent): Promise<void> {
    await this.outbox.transaction(async (trx) => {
      // The partial unique index on active rollouts decides, also against another server starting one now.
      await uniqueOrAlreadyExists(
        () =>
          trx
            .insertInto('rollouts')
            .values({
              id: r.id,
              endpoint: r.endpoint,
              stable: r.stable,
              target: r.target,
              strategy: r.strategy,
              spec: JSON.stringify(r.spec),
              state: r.state,
              step: r.step,
              step_started_at: r.stepStartedAt,
              results: JSON.stringify(r.results),
              reason: r.reason,
              started_by: r.startedBy,
              started_at: r.startedAt,
              updated_at: r.updatedAt,
              finished_at: r.finishedAt,
              owner: null,
              lease_until: 0,
            })
            .execute(),
        `endpoint '${r.endpoint}' already has a rollout in progress: promote, abort or wait for it first`,
      );
      await this.outbox.append(trx, event);
    });
  }

  async get(id: string): Promise<Rollout | undefined> {
    const r = await this.db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
    return r === undefined ? undefined : toRollout(r);
  }

  async list(q: { endpoint?: string | undefined; active?: boolean | undefined; states?: readonly RolloutState[] | undefined; limit: number }): Promise<Rollout[]> {
    let query = this.db.selectFrom('rollouts').selectAll();
    if (q.endpoint !== undefined) query = query.where('endpoint', '=', q.endpoint);
    if (q.active === true) query = query.where('state', 'in', ['running', 'paused']);
    if (q.states !== undefined && q.states.length > 0) query = query.where('state', 'in', [...q.states]);
    const rows = await query.orderBy('started_at', 'desc').orderBy('id').limit(q.limit).execute();
    return rows.map(toRollout);
  }

  async update(id: string, from: readonly RolloutState[], patch: RolloutPatch, events: NewEvent[], owner?: string): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const now = Date.now();
      let q = trx.selectFrom('rollouts').select(['results']).where('id', '=', id).where('state', 'in', [...from]);
      if (owner !== undefined) q = q.where('owner', '=', owner).where('lease_until', '>', now);
      const row = await q.executeTakeFirst();
      if (row === undefined) return false;
      const results = JSON.parse(row.results) as StepResult[];
      if (patch.result !== undefined) results.push(patch.result);
      let u = trx
        .updateTable('rollouts')
        .set({
          updated_at: now,
          results: JSON.stringify(results),
          ...(patch.state !== undefined ? { state: patch.state } : {}),
          ...(patch.step !== undefined ? { step: patch.step } : {}),
          ...(patch.stepStartedAt !== undefined ? { step_started_at: patch.stepStartedAt } : {}),
          ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
          ...(patch.finishedAt !== undefined ? { finished_at: patch.finishedAt } : {}),
        })
        .where('id', '=', id)
        .where('state', 'in', [...from]);
      if (owner !== undefined) u = u.where('owner', '=', owner).where('lease_until', '>', now);
      const done = await u.executeTakeFirst();
      if (Number(done.numUpdatedRows) === 0) return false;
      for (const e of events) await this.outbox.append(trx, e);
      return true;
    });
  }

  async lease(id: string, owner: string, now: number, until: number): Promise<boolean> {
    const r = await this.db
      .updateTable('rollouts')
      .set({ owner, lease_until: until })
      .where('id', '=', id)
      .where('state', 'in', ['running', 'paused'])
      .where((eb) => eb.or([eb('owner', '=', owner), eb('owner', 'is', null), eb('lease_until', '<=', now)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async release(id: string, owner: string): Promise<void> {
    await this.db.updateTable('rollouts').set({ owner: null, lease_until: 0 }).where('id', '=', id).where('owner', '=', owner).execute();
  }

  async reportWindow(w: StoredWindow): Promise<void> {
    const values = { requests: w.part.requests, errors: w.part.errors, latency: JSON.stringify(w.part.latency), classes: JSON.stringify(w.part.classes), updated_at: w.updatedAt };
    await this.db
      .insertInto('rollout_windows')
      .values({ rollout_id: w.rolloutId, step: w.step, server: w.server, deployment: w.deployment, ...values })
      .onConflict((oc) => oc.columns(['rollout_id', 'step', 'server', 'deployment']).doUpdateSet(values))
      .execute();
  }

  async windows(rolloutId: string, step: number): Promise<StoredWindow[]> {
    const rows = await this.db.selectFrom('rollout_windows').selectAll().where('rollout_id', '=', rolloutId).where('step', '=', step).execute();
    return rows.map((r) => ({
      rolloutId: r.rollout_id,
      step: Number(r.step),
      server: r.server,
      deployment: r.deployment,
      part: { requests: Number(r.requests), errors: Number(r.errors), latency: JSON.parse(r.latency) as Record<string, number>, classes: JSON.parse(r.classes) as Record<string, number> },
      updatedAt: Number(r.updated_at),
    }));
  }
}

function toRollout(r: Row): Rollout {
  return {
    id: r.id,
    endpoint: r.endpoint,
    stable: r.stable,
    target: r.target,
    strategy: r.strategy as Rollout['strategy'],
    spec: JSON.parse(r.spec) as RolloutSpec,
    state: r.state as RolloutState,
    step: Number(r.step),
    stepStartedAt: Number(r.step_started_at),
    results: JSON.parse(r.results) as StepResult[],
    reason: r.reason,
    startedBy: r.started_by,
    startedAt: Number(r.started_at),
    updatedAt: Number(r.updated_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}
