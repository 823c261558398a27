import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Component } from '../core/index.js';
import type { NewEvent } from '../events/index.js';
import type { Logger } from '../logging/index.js';
import { latestSlotBetween, nextSlot, slotsBetween } from './cron.js';
import type { ScheduleStore } from './schedule-store.js';
import type { ScheduleTarget } from './schedule-target.js';
import type { Firing, Schedule } from './types.js';

export interface SchedulerOptions {
  /** What time it is (default: the system clock); tests drive it. */
  clock?: { now(): number } | undefined;
  /** How often the schedules are looked at, in ms (default 1 s). */
  tickMs?: number | undefined;
  /** With catch-up `none`, how late a slot may still fire, in ms (default 60 s): later ones were missed. */
  graceMs?: number | undefined;
  /** A claimed firing not recorded as started after this long (its server stopped) is started again by any server, in ms (default 60 s). */
  claimTimeoutMs?: number | undefined;
  /** Names this server in the firings it claims (default host:pid:random). */
  serverId?: string | undefined;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
}

type Decision = { state: 'claimed' } | { state: 'skipped' | 'queued'; reason: string };

const iso = (ms: number): string => new Date(ms).toISOString();
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 1000);

/**
 * Fires the schedules: on each tick, every unpaused schedule whose next slot has come.
 *
 * One look at a due schedule, in this order:
 * 1. The due slots are those from its next slot to now. Catch-up `latest` fires the latest of
 *    them; `none` fires it only when it is within the grace window of now (a tick's normal
 *    case), and otherwise fires nothing. The others are skipped silently (no firing row).
 * 2. The overlap policy is applied to the slot to fire against the schedule's previous firing:
 *    if that one's run is still going (or it is still being started, or queued), `skip` records
 *    the slot skipped with the reason, and `queue` records it queued unless a firing is queued
 *    already (then it is skipped). Otherwise the slot is to start.
 * 3. The claim: one transaction inserts the firing row — `claimed` to start, or its final
 *    `skipped`/`queued` — and moves next_slot past the slot, conditional on next_slot being what
 *    this look read. The primary key (schedule, slot) lets one server's insert succeed; another
 *    server's finds the row and does nothing; a look whose next_slot moved meanwhile rolls back.
 *    A skipped firing's `schedule.fired` event is appended in that transaction.
 * 4. A claimed firing is started (`target.start`), then recorded `started` with its run id (or
 *    `failed` with the reason), with its event in that transaction.
 *
 * A server that stops between 3 and 4 leaves the firing `claimed`: any server takes a claim older
 * than the claim timeout over (a conditional update) and starts it again, which is why
 * `target.start` must be idempotent per slot (it returns the run a first call started). Queued
 * firings are started, by whichever server takes them over first, once the run they wait for ended.
 */
export class Scheduler implements Component {
  readonly name = 'scheduler';
  readonly serverId: string;
  private readonly clock: { now(): number };
  private readonly graceMs: number;
  private readonly claimTimeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;

  constructor(
    private readonly store: ScheduleStore,
    private readonly target: ScheduleTarget,
    private readonly opts: SchedulerOptions = {},
  ) {
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.graceMs = opts.graceMs ?? 60_000;
    this.claimTimeoutMs = opts.claimTimeoutMs ?? 60_000;
    this.serverId = opts.serverId ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.current !== undefined) return;
      this.tick().catch((e: unknown) => this.opts.log?.warn({ err: messageOf(e) }, 'scheduler tick failed'));
    }, this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.current?.catch(() => undefined);
  }

  /**
   * One look at everything (after the look under way, if any): claims left by a stopped server,
   * queued firings whose wait is over, then the due schedules. Rejects with the first failure
   * after looking at everything else.
   */
  tick(): Promise<void> {
    const look = (this.current ?? Promise.resolve()).catch(() => undefined).then(() => this.lookAll());
    const tracked = look.finally(() => {
      if (this.current === tracked) this.current = undefined;
    });
    this.current = tracked;
    return tracked;
  }

  private async lookAll(): Promise<void> {
    const now = this.clock.now();
    const errors: unknown[] = [];
    const each = async <T>(items: T[], fn: (x: T) => Promise<void>): Promise<void> => {
      for (const x of items) {
        try {
          await fn(x);
        } catch (e) {
          errors.push(e);
        }
      }
    };
    // Recovery first, then the queue, so a queued firing starts before the slot after it is judged.
    await each(await this.store.firingsIn('claimed', { updatedBefore: now - this.claimTimeoutMs }), (f) => this.retryClaim(f, now));
    await each(await this.store.firingsIn('queued'), (f) => this.startQueued(f, now));
    await each(await this.store.due(now), (s) => this.fireDue(s, now));
    if (errors.length > 0) {
      for (const e of errors.slice(1)) this.opts.log?.warn({ err: messageOf(e) }, 'scheduler: a schedule failed');
      throw errors[0];
    }
  }

  private async fireDue(s: Schedule, now: number): Promise<void> {
    const from = s.nextSlot;
    if (from === null) return;
    // next_slot is itself a slot, so there is one at least (unless the expression was changed).
    const slot = latestSlotBetween(s.cron, s.timezone, from - 1, now) ?? from;
    const next = nextSlot(s.cron, s.timezone, Math.max(slot, now));
    const fires = s.catchUp === 'latest' || now - slot <= this.graceMs;
    const missed = slotsBetween(s.cron, s.timezone, from - 1, fires ? slot - 1 : slot);
    if (missed.length > 0) {
      this.opts.log?.info({ schedule: s.name, missed: missed.length, first: iso(missed[0]!), catchUp: s.catchUp }, 'schedule: missed slots skipped');
    }
    if (!fires) {
      await this.store.advance(s.id, from, next, now);
      return;
    }
    const decision = await this.decide(s, slot);
    const firing: Firing = {
      scheduleId: s.id,
      slot,
      state: decision.state,
      pipelineRun: null,
      reason: decision.state === 'claimed' ? null : decision.reason,
      attempts: 0,
      firedAt: now,
      firedBy: this.serverId,
      updatedAt: now,
    };
    const event = decision.state === 'skipped' ? this.fired(s, slot, null, decision.reason) : undefined;
    const outcome = await this.store.claim(firing, from, next, event);
    if (outcome === 'claimed' && decision.state === 'claimed') await this.startClaimed(s, firing);
  }

  /** The overlap policy, against the schedule's previous firing that may still be going. */
  private async decide(s: Schedule, slot: number): Promise<Decision> {
    const prev = await this.store.previousFiring(s.id, slot, ['started', 'claimed', 'queued']);
    if (prev === undefined) return { state: 'claimed' };
    if (prev.state === 'queued') return { state: 'skipped', reason: `the firing of ${iso(prev.slot)} is queued already (one at most)` };
    let busy: string | undefined;
    if (prev.state === 'claimed') busy = `the firing of ${iso(prev.slot)} is still being started`;
    else if (prev.pipelineRun !== null && (await this.target.isActive(prev.pipelineRun))) busy = `pipeline run ${prev.pipelineRun} (slot ${iso(prev.slot)}) is still running`;
    if (busy === undefined) return { state: 'claimed' };
    return s.overlap === 'queue' ? { state: 'queued', reason: `waits: ${busy}` } : { state: 'skipped', reason: busy };
  }

  /** A queued firing starts once the firing before it is no longer going; the first server to take it over starts it. */
  private async startQueued(f: Firing, now: number): Promise<void> {
    const s = await this.store.byId(f.scheduleId);
    if (s === undefined || s.paused) return;
    const prev = await this.store.previousFiring(s.id, f.slot, ['started', 'claimed']);
    if (prev?.state === 'claimed') return;
    if (prev?.pipelineRun !== undefined && prev.pipelineRun !== null && (await this.target.isActive(prev.pipelineRun))) return;
    if (!(await this.store.updateFiring(f.scheduleId, f.slot, { states: ['queued'], updatedAt: f.updatedAt }, { state: 'claimed', firedBy: this.serverId, reason: null }, now, undefined))) return;
    await this.startClaimed(s, { ...f, state: 'claimed', updatedAt: now });
  }

  /** A claim whose server stopped before recording its start: taken over, and started (again; `start` is idempotent per slot). */
  private async retryClaim(f: Firing, now: number): Promise<void> {
    const s = await this.store.byId(f.scheduleId);
    if (s === undefined) return;
    if (!(await this.store.updateFiring(f.scheduleId, f.slot, { states: ['claimed'], updatedAt: f.updatedAt }, { state: 'claimed', firedBy: this.serverId, attempt: true }, now, undefined))) return;
    this.opts.log?.info({ schedule: s.name, slot: iso(f.slot), previousServer: f.firedBy }, 'schedule: a claimed firing was not started in time; starting it here');
    await this.startClaimed(s, { ...f, updatedAt: now });
  }

  private async startClaimed(s: Schedule, f: Firing): Promise<void> {
    let run: string;
    try {
      run = await this.target.start(s, f.slot);
    } catch (e) {
      const reason = `the pipeline could not be started: ${messageOf(e)}`;
      this.opts.log?.warn({ schedule: s.name, slot: iso(f.slot), err: reason }, 'schedule: firing failed');
      await this.store.updateFiring(s.id, f.slot, { states: ['claimed'] }, { state: 'failed', reason }, this.clock.now(), this.fired(s, f.slot, null, reason));
      return;
    }
    // Conditional on the claim only: a server that took a slow claim over and started it too got
    // the same run (start is idempotent per slot); whichever records first, the record is that run.
    await this.store.updateFiring(s.id, f.slot, { states: ['claimed'] }, { state: 'started', pipelineRun: run, reason: null }, this.clock.now(), this.fired(s, f.slot, run, null));
  }

  private fired(s: Schedule, slot: number, run: string | null, skipped: string | null): NewEvent {
    return { type: 'schedule.fired', payload: { schedule: s.name, slot, pipeline_run: run, skipped }, actor: `schedule:${s.name}` };
  }
}
