import type { Kysely, Selectable } from 'kysely';
import { outboxFor, type NewEvent, type Outbox } from '../events/index.js';
import { isUniqueViolation, uniqueOrAlreadyExists, type Database, type MetadataDb } from '../storage/db/index.js';
import type { ClaimOutcome, FiringPatch, ScheduleStore } from './schedule-store.js';
import type { CatchUpPolicy, Firing, FiringState, OverlapPolicy, Schedule, ScheduleParam } from './types.js';

type ScheduleRow = Selectable<Database['schedules']>;
type FiringRow = Selectable<Database['schedule_firings']>;

/** Thrown inside a claim's transaction to roll the firing's insert back when next_slot moved. */
class NextSlotMoved extends Error {}

export class KyselyScheduleStore implements ScheduleStore {
  private readonly db: Kysely<Database>;
  private readonly outbox: Outbox;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.outbox = outboxFor(m);
  }

  async create(s: Schedule): Promise<void> {
    // The unique name decides, also against another server creating the same name now.
    await uniqueOrAlreadyExists(
      () =>
        this.db
          .insertInto('schedules')
          .values({
            id: s.id,
            name: s.name,
            cron: s.cron,
            timezone: s.timezone,
            pipeline: s.pipeline,
            pipeline_spec: s.pipelineSpec,
            params: JSON.stringify(s.params),
            overlap: s.overlap,
            catch_up: s.catchUp,
            paused: s.paused ? 1 : 0,
            next_slot: s.nextSlot,
            created_at: s.createdAt,
            created_by: s.createdBy,
            updated_at: s.updatedAt,
          })
          .execute(),
      `schedule '${s.name}' already exists: delete it first or pick another name`,
    );
  }

  async byId(id: string): Promise<Schedule | undefined> {
    const r = await this.db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
    return r === undefined ? undefined : toSchedule(r);
  }

  async byName(name: string): Promise<Schedule | undefined> {
    const r = await this.db.selectFrom('schedules').selectAll().where('name', '=', name).executeTakeFirst();
    return r === undefined ? undefined : toSchedule(r);
  }

  async list(): Promise<Schedule[]> {
    return (await this.db.selectFrom('schedules').selectAll().orderBy('name').execute()).map(toSchedule);
  }

  async setPaused(id: string, paused: boolean, nextSlot: number | null | undefined, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('schedules')
      .set({ paused: paused ? 1 : 0, updated_at: now, ...(nextSlot !== undefined ? { next_slot: nextSlot } : {}) })
      .where('id', '=', id)
      .where('paused', '=', paused ? 0 : 1)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const r = await trx.deleteFrom('schedules').where('id', '=', id).executeTakeFirst();
      await trx.deleteFrom('schedule_firings').where('schedule_id', '=', id).execute();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async due(now: number): Promise<Schedule[]> {
    const rows = await this.db.selectFrom('schedules').selectAll().where('paused', '=', 0).where('next_slot', '<=', now).orderBy('next_slot').orderBy('id').execute();
    return rows.map(toSchedule);
  }

  async advance(id: string, from: number, to: number | null, now: number): Promise<boolean> {
    const r = await this.db.updateTable('schedules').set({ next_slot: to, updated_at: now }).where('id', '=', id).where('next_slot', '=', from).where('paused', '=', 0).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async claim(f: Firing, from: number, to: number | null, event: NewEvent | undefined): Promise<ClaimOutcome> {
    try {
      return await this.outbox.transaction(async (trx) => {
        // The insert first: on Postgres a second server inserting the same slot waits here for
        // this transaction, then finds the row and does nothing.
        const inserted = await trx
          .insertInto('schedule_firings')
          .values({
            schedule_id: f.scheduleId,
            slot: f.slot,
            state: f.state,
            pipeline_run: f.pipelineRun,
            reason: f.reason,
            attempts: f.attempts,
            fired_at: f.firedAt,
            fired_by: f.firedBy,
            updated_at: f.updatedAt,
          })
          .onConflict((oc) => oc.columns(['schedule_id', 'slot']).doNothing())
          .returning('slot')
          .executeTakeFirst();
        if (inserted === undefined) return 'taken' as const;
        const moved = await trx
          .updateTable('schedules')
          .set({ next_slot: to, updated_at: f.firedAt })
          .where('id', '=', f.scheduleId)
          .where('next_slot', '=', from)
          .where('paused', '=', 0)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) === 0) throw new NextSlotMoved();
        if (event !== undefined) await this.outbox.append(trx, event);
        return 'claimed' as const;
      });
    } catch (e) {
      if (e instanceof NextSlotMoved) return 'moved';
      // The one-queued-firing index: another firing of the schedule was queued meanwhile. The
      // slot is not claimed; the next look decides it again (and finds that queued firing).
      if (isUniqueViolation(e)) return 'moved';
      throw e;
    }
  }

  async updateFiring(scheduleId: string, slot: number, from: { states: readonly FiringState[]; updatedAt?: number }, patch: FiringPatch, now: number, event: NewEvent | undefined): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      let q = trx
        .updateTable('schedule_firings')
        .set((eb) => ({
          state: patch.state,
          updated_at: now,
          ...(patch.pipelineRun !== undefined ? { pipeline_run: patch.pipelineRun } : {}),
          ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
          ...(patch.firedBy !== undefined ? { fired_by: patch.firedBy } : {}),
          ...(patch.attempt === true ? { attempts: eb('attempts', '+', 1) } : {}),
        }))
        .where('schedule_id', '=', scheduleId)
        .where('slot', '=', slot)
        .where('state', 'in', [...from.states]);
      if (from.updatedAt !== undefined) q = q.where('updated_at', '=', from.updatedAt);
      const r = await q.executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      if (event !== undefined) await this.outbox.append(trx, event);
      return true;
    });
  }

  async previousFiring(scheduleId: string, slot: number, states: readonly FiringState[]): Promise<Firing | undefined> {
    const r = await this.db
      .selectFrom('schedule_firings')
      .selectAll()
      .where('schedule_id', '=', scheduleId)
      .where('slot', '<', slot)
      .where('state', 'in', [...states])
      .orderBy('slot', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r === undefined ? undefined : toFiring(r);
  }

  async firingsIn(state: FiringState, opts: { updatedBefore?: number | undefined; limit?: number | undefined } = {}): Promise<Firing[]> {
    let q = this.db.selectFrom('schedule_firings').selectAll().where('state', '=', state);
    if (opts.updatedBefore !== undefined) q = q.where('updated_at', '<=', opts.updatedBefore);
    const rows = await q.orderBy('updated_at').orderBy('schedule_id').orderBy('slot').limit(opts.limit ?? 1000).execute();
    return rows.map(toFiring);
  }

  async firings(scheduleId: string, limit: number): Promise<Firing[]> {
    const rows = await this.db.selectFrom('schedule_firings').selectAll().where('schedule_id', '=', scheduleId).orderBy('slot', 'desc').limit(limit).execute();
    return rows.map(toFiring);
  }
}

function toSchedule(r: ScheduleRow): Schedule {
  return {
    id: r.id,
    name: r.name,
    cron: r.cron,
    timezone: r.timezone,
    pipeline: r.pipeline,
    pipelineSpec: r.pipeline_spec,
    params: JSON.parse(r.params) as Record<string, ScheduleParam>,
    overlap: r.overlap as OverlapPolicy,
    catchUp: r.catch_up as CatchUpPolicy,
    paused: Number(r.paused) !== 0,
    nextSlot: r.next_slot === null ? null : Number(r.next_slot),
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
    updatedAt: Number(r.updated_at),
  };
}

function toFiring(r: FiringRow): Firing {
  return {
    scheduleId: r.schedule_id,
    slot: Number(r.slot),
    state: r.state as FiringState,
    pipelineRun: r.pipeline_run,
    reason: r.reason,
    attempts: Number(r.attempts),
    firedAt: Number(r.fired_at),
    firedBy: r.fired_by,
    updatedAt: Number(r.updated_at),
  };
}
