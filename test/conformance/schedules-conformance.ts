import { describe, expect, it, onTestFinished } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import type { EventPayloads } from '../../src/events/index.js';
import type { Platform } from '../../src/platform.js';
import { KyselyScheduleStore, ScheduleService, type Schedule, type SchedulerOptions, type ScheduleTarget, type ValidateSpec } from '../../src/schedules/index.js';
import { openPlatformOn, tmpDir, type StoreBackend } from '../helpers/backends.js';
import { startScheduleWorker } from '../helpers/schedule-workers.js';

export const SPEC = `name: retrain
params:
  C: 1.0
steps:
  - name: train
    type: train
`;

const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad time ${iso}`);
  return ms;
};
const iso = (ms: number): string => new Date(ms).toISOString();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export class FakeClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

/** Records every start; a run stays active while `keepActive` until `finish(run)`; start is idempotent per slot as the port asks. */
export class FakeTarget implements ScheduleTarget {
  readonly starts: Array<{ schedule: string; slot: number; run: string }> = [];
  readonly active = new Set<string>();
  keepActive = false;
  failWith: string | undefined;
  /** When set, start waits for this before answering (a server stuck or dying mid-start). */
  gate: Promise<void> | undefined;
  private readonly bySlot = new Map<string, string>();

  async start(s: Schedule, slot: number): Promise<string> {
    if (this.failWith !== undefined) throw new Error(this.failWith);
    const key = `${s.id}:${slot}`;
    const existing = this.bySlot.get(key);
    if (existing !== undefined) return existing;
    const run = `run-${this.bySlot.size + 1}`;
    this.bySlot.set(key, run);
    this.starts.push({ schedule: s.name, slot, run });
    if (this.keepActive) this.active.add(run);
    if (this.gate !== undefined) await this.gate;
    return run;
  }

  isActive(run: string): Promise<boolean> {
    return Promise.resolve(this.active.has(run));
  }

  finish(run: string): void {
    this.active.delete(run);
  }
}

/**
 * The schedule suite, run on every metadata backend: slots fire at exactly the right times with
 * a clock the test drives, once per slot with two servers ticking the same instants, catch-up
 * after a downtime, the overlap policies, pause and resume, time zones across daylight saving,
 * crash recovery of a claimed firing, and the validation of what a schedule is made of.
 */
export function describeScheduleConformance(backend: StoreBackend): void {
  describe(`schedules on ${backend.label}`, () => {
    /** A fresh database per case: a scheduler looks at every schedule of its store. */
    async function setup(opts: { start: string; scheduler?: Partial<SchedulerOptions>; validateSpec?: ValidateSpec } = { start: '2025-03-01T00:00:00Z' }) {
      const url = await backend.freshDatabaseUrl();
      const p = await openPlatformOn(url);
      onTestFinished(() => p.close());
      const clock = new FakeClock(at(opts.start));
      const service = new ScheduleService(new KyselyScheduleStore(p.db), { clock, validateSpec: opts.validateSpec });
      const target = new FakeTarget();
      const scheduler = service.scheduler(target, { clock, serverId: 'server-a', ...opts.scheduler });
      const tickAt = async (t: string | number): Promise<void> => {
        clock.ms = typeof t === 'number' ? t : at(t);
        await scheduler.tick();
      };
      const firings = async (name: string) => (await service.firings(name, { limit: 1000 })).reverse();
      const create = (input: Partial<Parameters<ScheduleService['create']>[0]> & { name: string; cron: string }) => service.create({ pipelineSpec: SPEC, ...input });
      return { p, url, clock, service, target, scheduler, tickAt, firings, create };
    }

    const firedEvents = async (p: Platform): Promise<Array<{ payload: EventPayloads['schedule.fired']; actor: string | null }>> =>
      (await p.events.log.read({ types: ['schedule.fired'], limit: 1000 })).events.map((e) => ({ payload: e.payload as EventPayloads['schedule.fired'], actor: e.actor }));

    it("fires '41 22 * * *' in UTC at exactly 22:41:00Z each day over five simulated days, once each", async () => {
      const { p, service, target, tickAt, firings, create } = await setup({ start: '2025-03-01T00:00:00Z' });
      const s = await create({ name: 'nightly', cron: '41 22 * * *', timezone: 'UTC', params: { C: 0.1 } });
      expect(s).toMatchObject({ name: 'nightly', cron: '41 22 * * *', timezone: 'UTC', pipeline: 'retrain', pipelineSpec: SPEC, params: { C: 0.1 }, overlap: 'skip', catchUp: 'none', paused: false, createdBy: null });
      expect(s.id).toMatch(/^sc-[0-9a-f]{12}$/);
      expect(iso(s.nextSlot!)).toBe('2025-03-01T22:41:00.000Z');
      const expected: string[] = [];
      for (let day = 0; day < 5; day++) {
        const d = at('2025-03-01T00:00:00Z') + day * DAY;
        for (let h = 0; h < 24; h += 3) await tickAt(d + h * HOUR);
        const slot = d + 22 * HOUR + 41 * MINUTE;
        await tickAt(slot - 1);
        expect(await firings('nightly'), `day ${day}: nothing before the slot`).toHaveLength(day);
        await tickAt(slot);
        expected.push(iso(slot));
        expect((await firings('nightly')).map((f) => iso(f.slot)), `day ${day}: fired at the slot`).toEqual(expected);
        for (const later of [slot + 500, slot + 1000, slot + 59_000, slot + 30 * MINUTE]) await tickAt(later);
        expect(await firings('nightly'), `day ${day}: not again`).toHaveLength(day + 1);
      }
      const all = await firings('nightly');
      expect(all.map((f) => [iso(f.slot), f.state, f.firedBy])).toEqual(expected.map((t) => [t, 'started', 'server-a']));
      expect(all.map((f) => f.pipelineRun)).toEqual(['run-1', 'run-2', 'run-3', 'run-4', 'run-5']);
      expect(target.starts.map((x) => iso(x.slot))).toEqual(expected);
      expect(iso((await service.get('nightly')).nextSlot!)).toBe('2025-03-06T22:41:00.000Z');
      // One event per firing, appended with its record, naming the run.
      const events = await firedEvents(p);
      expect(events.map((e) => e.payload)).toEqual(all.map((f) => ({ schedule: 'nightly', slot: f.slot, pipeline_run: f.pipelineRun, skipped: null })));
      expect(events.every((e) => e.actor === 'schedule:nightly')).toBe(true);
    });

    it('fires each slot exactly once with two servers (own threads, own connections) ticking the same instants', async () => {
      const url = await backend.freshDatabaseUrl();
      const p = await openPlatformOn(url);
      onTestFinished(() => p.close());
      const start = at('2025-06-01T00:00:00Z');
      const clock = new FakeClock(start);
      const service = new ScheduleService(new KyselyScheduleStore(p.db), { clock });
      const crons: Array<[string, string, string, 'none' | 'latest'] | [string, string, string]> = [
        ['nightly', '41 22 * * *', 'UTC', 'latest'],
        ['quarter-hourly', '*/15 * * * *', 'UTC'],
        ['hourly', '0 * * * *', 'UTC'],
        ['berlin-night', '30 2 * * *', 'Europe/Berlin'],
        ['minutely', '* * * * *', 'UTC'],
      ];
      for (const [name, cron, timezone, catchUp] of crons) await service.create({ name, cron, timezone, catchUp, pipelineSpec: SPEC });
      const servers = await Promise.all(['server-a', 'server-b'].map((serverId) => startScheduleWorker({ home: tmpDir(), databaseUrl: url, serverId })));
      onTestFinished(async () => {
        await Promise.all(servers.map((w) => w.close()));
      });
      // Every 5 minutes for two days, both servers at the same instant.
      const instants: number[] = [];
      for (let t = start; t <= start + 2 * DAY; t += 5 * MINUTE) instants.push(t);
      for (const t of instants) await Promise.all(servers.map((w) => w.tick(t)));

      const firings = (await Promise.all(crons.map(([name]) => service.firings(name, { limit: 1000 })))).flat();
      const starts = (await Promise.all(servers.map((w) => w.starts()))).flat();
      const byServer = Object.fromEntries(servers.map((w) => [w.serverId, firings.filter((f) => f.firedBy === w.serverId).length]));
      console.log(`two servers on ${backend.label}: ${firings.length} firings over ${instants.length} instants, claimed ${JSON.stringify(byServer)}`);
      // Each schedule's expected slots: those in (start, end] on a 5-minute boundary, which a tick
      // meets on time; the nightly one's 22:41 is caught up (latest) at 22:45; the minutely one fires
      // at each tick the latest of its five due slots.
      const expectedCount = { nightly: 2, 'quarter-hourly': 2 * 96, hourly: 2 * 24, 'berlin-night': 2, minutely: instants.length - 1 };
      for (const [name] of crons) {
        const id = (await service.get(name)).id;
        const mine = firings.filter((f) => f.scheduleId === id);
        expect(mine, name).toHaveLength(expectedCount[name as keyof typeof expectedCount]);
        expect(mine.every((f) => f.state === 'started'), name).toBe(true);
        expect(starts.filter((x) => x.schedule === name), name).toHaveLength(mine.length);
      }
      // Once per slot: no (schedule, slot) started twice, and every recorded run is a start one server made.
      const keys = starts.map((x) => `${x.schedule}@${x.slot}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(starts).toHaveLength(firings.length);
      expect(new Set(firings.map((f) => f.pipelineRun))).toEqual(new Set(starts.map((x) => x.run)));
      expect((await firedEvents(p)).length).toBe(firings.length);
    }, 240_000);

    it('catch-up none after a downtime fires no missed slot, only one within the grace window of now', async () => {
      const { target, tickAt, firings, create, service } = await setup({ start: '2025-03-01T09:59:00Z' });
      await create({ name: 'hourly', cron: '0 * * * *', catchUp: 'none' });
      await tickAt('2025-03-01T10:00:00Z');
      // Down from 10:00 to 15:30: 11:00 … 15:00 were missed.
      await tickAt('2025-03-01T15:30:00Z');
      expect((await firings('hourly')).map((f) => iso(f.slot))).toEqual(['2025-03-01T10:00:00.000Z']);
      expect(iso((await service.get('hourly')).nextSlot!)).toBe('2025-03-01T16:00:00.000Z');
      await tickAt('2025-03-01T16:00:30Z'); // 30 s late: within the grace window
      // Down from 16:00 to 20:00:45: only 20:00, 45 s ago, fires.
      await tickAt('2025-03-01T20:00:45Z');
      expect((await firings('hourly')).map((f) => iso(f.slot))).toEqual(['2025-03-01T10:00:00.000Z', '2025-03-01T16:00:00.000Z', '2025-03-01T20:00:00.000Z']);
      expect(target.starts).toHaveLength(3);
    });

    it('catch-up latest after a downtime fires only the latest missed slot', async () => {
      const { target, tickAt, firings, create, service } = await setup({ start: '2025-03-01T09:59:00Z' });
      await create({ name: 'hourly', cron: '0 * * * *', catchUp: 'latest' });
      await tickAt('2025-03-01T10:00:00Z');
      await tickAt('2025-03-01T15:30:00Z');
      expect((await firings('hourly')).map((f) => iso(f.slot))).toEqual(['2025-03-01T10:00:00.000Z', '2025-03-01T15:00:00.000Z']);
      expect(iso((await service.get('hourly')).nextSlot!)).toBe('2025-03-01T16:00:00.000Z');
      await tickAt('2025-03-01T15:45:00Z');
      expect(target.starts).toHaveLength(2);
      // A downtime of 200 days on a minutely schedule costs one firing, not 288,000.
      await create({ name: 'minutely', cron: '* * * * *', catchUp: 'latest' });
      await tickAt(at('2025-03-01T15:45:00Z') + 200 * DAY + 30_000);
      expect((await firings('minutely')).map((f) => iso(f.slot))).toEqual([iso(at('2025-03-01T15:45:00Z') + 200 * DAY)]);
    });

    it('overlap skip: a slot whose previous run still goes is recorded skipped with the reason', async () => {
      const { p, target, tickAt, firings, create } = await setup({ start: '2025-03-01T09:59:00Z' });
      target.keepActive = true;
      await create({ name: 'hourly', cron: '0 * * * *', overlap: 'skip' });
      await tickAt('2025-03-01T10:00:00Z');
      await tickAt('2025-03-01T11:00:00Z');
      target.finish('run-1');
      await tickAt('2025-03-01T12:00:00Z');
      const f = await firings('hourly');
      expect(f.map((x) => [iso(x.slot), x.state, x.pipelineRun])).toEqual([
        ['2025-03-01T10:00:00.000Z', 'started', 'run-1'],
        ['2025-03-01T11:00:00.000Z', 'skipped', null],
        ['2025-03-01T12:00:00.000Z', 'started', 'run-2'],
      ]);
      expect(f[1]!.reason).toBe('pipeline run run-1 (slot 2025-03-01T10:00:00.000Z) is still running');
      expect((await firedEvents(p)).map((e) => e.payload)).toEqual([
        { schedule: 'hourly', slot: at('2025-03-01T10:00:00Z'), pipeline_run: 'run-1', skipped: null },
        { schedule: 'hourly', slot: at('2025-03-01T11:00:00Z'), pipeline_run: null, skipped: f[1]!.reason },
        { schedule: 'hourly', slot: at('2025-03-01T12:00:00Z'), pipeline_run: 'run-2', skipped: null },
      ]);
    });

    it('overlap queue: one slot waits for the running one and starts when it ends; later ones are skipped', async () => {
      const { p, target, tickAt, firings, create } = await setup({ start: '2025-03-01T09:59:00Z' });
      target.keepActive = true;
      await create({ name: 'hourly', cron: '0 * * * *', overlap: 'queue' });
      await tickAt('2025-03-01T10:00:00Z');
      await tickAt('2025-03-01T11:00:00Z');
      await tickAt('2025-03-01T12:00:00Z');
      await tickAt('2025-03-01T12:30:00Z');
      let f = await firings('hourly');
      expect(f.map((x) => [iso(x.slot), x.state, x.pipelineRun])).toEqual([
        ['2025-03-01T10:00:00.000Z', 'started', 'run-1'],
        ['2025-03-01T11:00:00.000Z', 'queued', null],
        ['2025-03-01T12:00:00.000Z', 'skipped', null],
      ]);
      expect(f[1]!.reason).toBe('waits: pipeline run run-1 (slot 2025-03-01T10:00:00.000Z) is still running');
      expect(f[2]!.reason).toBe('the firing of 2025-03-01T11:00:00.000Z is queued already (one at most)');
      expect(target.starts).toHaveLength(1);
      target.finish('run-1');
      await tickAt('2025-03-01T12:31:00Z');
      // 13:00 comes while the queued one's run goes: it queues behind that one.
      await tickAt('2025-03-01T13:00:00Z');
      f = await firings('hourly');
      expect(f.map((x) => [iso(x.slot), x.state, x.pipelineRun])).toEqual([
        ['2025-03-01T10:00:00.000Z', 'started', 'run-1'],
        ['2025-03-01T11:00:00.000Z', 'started', 'run-2'],
        ['2025-03-01T12:00:00.000Z', 'skipped', null],
        ['2025-03-01T13:00:00.000Z', 'queued', null],
      ]);
      expect(target.starts.map((x) => [iso(x.slot), x.run])).toEqual([
        ['2025-03-01T10:00:00.000Z', 'run-1'],
        ['2025-03-01T11:00:00.000Z', 'run-2'],
      ]);
      // The queued firing's event comes when it starts, with its run.
      expect((await firedEvents(p)).map((e) => [iso(e.payload.slot), e.payload.pipeline_run])).toEqual([
        ['2025-03-01T10:00:00.000Z', 'run-1'],
        ['2025-03-01T12:00:00.000Z', null],
        ['2025-03-01T11:00:00.000Z', 'run-2'],
      ]);
    });

    it('pause stops firing; resume fires from the next slot after now, with no burst even with catch-up latest', async () => {
      const { target, tickAt, firings, create, service, clock } = await setup({ start: '2025-03-01T09:59:00Z' });
      await create({ name: 'hourly', cron: '0 * * * *', catchUp: 'latest' });
      await tickAt('2025-03-01T10:00:00Z');
      clock.ms = at('2025-03-01T10:30:00Z');
      const paused = await service.pause('hourly');
      expect(paused.paused).toBe(true);
      expect((await service.pause('hourly')).updatedAt).toBe(paused.updatedAt); // pausing again changes nothing
      for (const t of ['11:00', '12:00', '13:00', '14:00']) await tickAt(`2025-03-01T${t}:00Z`);
      expect(await firings('hourly')).toHaveLength(1);
      clock.ms = at('2025-03-01T14:20:00Z');
      const resumed = await service.resume((await service.get('hourly')).id);
      expect(resumed.paused).toBe(false);
      expect(iso(resumed.nextSlot!)).toBe('2025-03-01T15:00:00.000Z');
      await tickAt('2025-03-01T14:20:00Z');
      await tickAt('2025-03-01T15:00:00Z');
      expect((await firings('hourly')).map((f) => iso(f.slot))).toEqual(['2025-03-01T10:00:00.000Z', '2025-03-01T15:00:00.000Z']);
      expect(target.starts).toHaveLength(2);
      // Resuming an active schedule leaves its next slot alone.
      clock.ms = at('2025-03-01T15:10:00Z');
      expect((await service.resume('hourly')).nextSlot).toBe(at('2025-03-01T16:00:00Z'));
    });

    it('reads cron in the time zone across daylight saving (Europe/Berlin)', async () => {
      const { tickAt, firings, create, service, clock } = await setup({ start: '2025-03-28T00:00:00Z' });
      await create({ name: 'berlin-nine', cron: '0 9 * * *', timezone: 'europe/berlin' });
      await create({ name: 'berlin-half-two', cron: '30 2 * * *', timezone: 'Europe/Berlin' });
      expect((await service.get('berlin-nine')).timezone).toBe('Europe/Berlin');
      // Spring forward (30 March 2025, 02:00 CET → 03:00 CEST), ticking every 5 minutes for four days.
      for (let t = at('2025-03-28T00:00:00Z'); t <= at('2025-04-01T00:00:00Z'); t += 5 * MINUTE) await tickAt(t);
      expect((await firings('berlin-nine')).map((f) => iso(f.slot))).toEqual(['2025-03-28T08:00:00.000Z', '2025-03-29T08:00:00.000Z', '2025-03-30T07:00:00.000Z', '2025-03-31T07:00:00.000Z']);
      // 02:30 does not exist on 30 March: croner fires it an hour later (03:30 CEST), once.
      expect((await firings('berlin-half-two')).map((f) => iso(f.slot))).toEqual(['2025-03-28T01:30:00.000Z', '2025-03-29T01:30:00.000Z', '2025-03-30T01:30:00.000Z', '2025-03-31T00:30:00.000Z']);
      const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' });
      expect((await firings('berlin-nine')).map((f) => berlin.format(f.slot))).toEqual(['09:00', '09:00', '09:00', '09:00']);
      // Fall back (26 October 2025, 03:00 CEST → 02:00 CET): 02:30 happens twice and fires once.
      await service.delete('berlin-nine');
      await service.pause('berlin-half-two');
      clock.ms = at('2025-10-25T00:00:00Z');
      await service.resume('berlin-half-two');
      for (let t = at('2025-10-25T00:00:00Z'); t <= at('2025-10-28T00:00:00Z'); t += 5 * MINUTE) await tickAt(t);
      const autumn = (await firings('berlin-half-two')).filter((f) => f.slot >= at('2025-10-25T00:00:00Z'));
      expect(autumn.map((f) => iso(f.slot))).toEqual(['2025-10-25T00:30:00.000Z', '2025-10-26T01:30:00.000Z', '2025-10-27T01:30:00.000Z']);
    });

    it('a claimed firing whose server stopped before recording the start is taken over after the claim timeout, with one run', async () => {
      const { p, service, tickAt, clock, firings, create } = await setup({ start: '2025-03-01T09:59:00Z', scheduler: { claimTimeoutMs: 60_000 } });
      await create({ name: 'hourly', cron: '0 * * * *' });
      // Server A claims 10:00 and hangs in start (it crashed there); its run had begun.
      const dying = new FakeTarget();
      let release!: () => void;
      dying.gate = new Promise<void>((r) => (release = r));
      const a = service.scheduler(dying, { clock, serverId: 'server-dying' });
      clock.ms = at('2025-03-01T10:00:00Z');
      const hung = a.tick();
      await expect.poll(async () => (await firings('hourly')).map((f) => f.state), { timeout: 10_000 }).toEqual(['claimed']);
      // Server B, whose target is the same pipeline engine (idempotent per slot: it knows the run).
      const b = service.scheduler(dying, { clock, serverId: 'server-b', claimTimeoutMs: 60_000 });
      clock.ms = at('2025-03-01T10:00:30Z');
      await b.tick();
      expect((await firings('hourly')).map((f) => f.state)).toEqual(['claimed']); // not yet stale
      clock.ms = at('2025-03-01T10:01:01Z');
      dying.gate = undefined;
      await b.tick();
      const [f] = await firings('hourly');
      expect(f).toMatchObject({ state: 'started', pipelineRun: 'run-1', attempts: 1, firedBy: 'server-b' });
      release();
      await hung; // A's late answer finds the firing recorded and changes nothing
      expect(await firings('hourly')).toEqual([f]);
      expect(dying.starts).toHaveLength(1);
      expect((await firedEvents(p)).length).toBe(1);
      // The next slot goes on as usual.
      await tickAt('2025-03-01T11:00:00Z');
      expect((await firings('hourly')).map((x) => x.state)).toEqual(['started', 'started']);
    });

    it('a pipeline that cannot be started is recorded failed with the reason; the next slot fires', async () => {
      const { p, target, tickAt, firings, create } = await setup({ start: '2025-03-01T09:59:00Z' });
      await create({ name: 'hourly', cron: '0 * * * *' });
      target.failWith = 'step train: unknown dataset';
      await tickAt('2025-03-01T10:00:00Z');
      target.failWith = undefined;
      await tickAt('2025-03-01T11:00:00Z');
      const f = await firings('hourly');
      expect(f.map((x) => [x.state, x.pipelineRun, x.reason])).toEqual([
        ['failed', null, 'the pipeline could not be started: step train: unknown dataset'],
        ['started', 'run-1', null],
      ]);
      expect((await firedEvents(p)).map((e) => e.payload.skipped)).toEqual(['the pipeline could not be started: step train: unknown dataset', null]);
    });

    it('lists, gets by name or id, refuses a taken name, and deletes with the firing history', async () => {
      const { tickAt, firings, create, service } = await setup({ start: '2025-03-01T09:59:00Z' });
      await create({ name: 'b-hourly', cron: '0 * * * *' });
      const a = await create({ name: 'a-daily', cron: '@daily', timezone: 'Asia/Tokyo' });
      expect((await service.list()).map((s) => s.name)).toEqual(['a-daily', 'b-hourly']);
      expect(await service.get(a.id)).toEqual(a);
      expect(iso(a.nextSlot!)).toBe('2025-03-01T15:00:00.000Z'); // midnight in Tokyo
      await expectRefusal(create({ name: 'a-daily', cron: '0 * * * *' }), 'RESOURCE_ALREADY_EXISTS', /schedule 'a-daily' already exists/);
      await tickAt('2025-03-01T10:00:00Z');
      expect(await firings('b-hourly')).toHaveLength(1);
      await service.delete('b-hourly');
      await expectRefusal(service.get('b-hourly'), 'RESOURCE_DOES_NOT_EXIST', /schedule 'b-hourly' does not exist/);
      await expectRefusal(service.delete('b-hourly'), 'RESOURCE_DOES_NOT_EXIST', /does not exist/);
      await expectRefusal(service.get('sc-000000000000'), 'RESOURCE_DOES_NOT_EXIST', /schedule sc-000000000000 does not exist/);
      // A new schedule of the old name starts with no history.
      await create({ name: 'b-hourly', cron: '0 * * * *' });
      expect(await firings('b-hourly')).toEqual([]);
    });

    it('refuses bad input with one sentence naming the field', async () => {
      const { create, service } = await setup({ start: '2025-03-01T09:59:00Z' });
      const cases: Array<[Record<string, unknown>, string, RegExp]> = [
        [{ cron: '61 * * * *' }, 'cron', /^cron '61 \* \* \* \*' is not a valid cron expression: invalid value for minute: 61$/i],
        [{ cron: '* * *' }, 'cron', /^cron '\* \* \*' must have five fields \(minute hour day-of-month month day-of-week/],
        [{ cron: '*/5 * * * * *' }, 'cron', /must have five fields/],
        [{ cron: '0 0 31 2 *' }, 'cron', /^cron '0 0 31 2 \*' never fires \(in UTC\)$/],
        [{ cron: '@sometimes' }, 'cron', /must have five fields .* or be one of @yearly/],
        [{ cron: 42 }, 'cron', /^cron must be a cron expression such as '41 22 \* \* \*'/],
        [{ timezone: 'Mars/Olympus' }, 'timezone', /^timezone must be an IANA time zone such as UTC or Europe\/Berlin; got "Mars\/Olympus"$/],
        [{ timezone: '+02:00' }, 'timezone', /^timezone must be an IANA time zone/],
        [{ name: 'Nightly Retrain' }, 'name', /^name must be 1 to 63 lower-case letters/],
        [{ name: 'sc-0123456789ab' }, 'name', /not look like a schedule id/],
        [{ overlap: 'parallel' }, 'overlap', /^overlap must be skip or queue/],
        [{ catchUp: 'all' }, 'catchUp', /^catchUp must be none or latest/],
        [{ params: ['C=1'] }, 'params', /^params must be an object/],
        [{ params: { C: { nested: true } } }, 'params', /^params\.C must be a string, a finite number or a boolean/],
        [{ pipelineSpec: '' }, 'pipelineSpec', /^pipelineSpec must be the pipeline file's text/],
        [{ pipelineSpec: 'name: [unclosed' }, 'pipelineSpec', /^pipelineSpec is not YAML/],
        [{ pipelineSpec: '- a\n- b\n' }, 'pipelineSpec', /must be a pipeline file: a YAML mapping/],
        [{ pipelineSpec: 'steps: []\n' }, 'pipeline', /^pipeline must be given: the spec declares no name/],
        [{ pipeline: 'other' }, 'pipeline', /^pipeline 'other' does not match the spec, which declares pipeline "retrain"$/],
      ];
      for (const [patch, field, message] of cases) {
        const e = await create({ name: 'ok-name', cron: '0 * * * *', ...patch }).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e, JSON.stringify(patch)).toBeInstanceOf(FluxError);
        expect((e as FluxError).code, JSON.stringify(patch)).toBe('INVALID_PARAMETER_VALUE');
        expect((e as FluxError).message, JSON.stringify(patch)).toMatch(message);
        expect((e as FluxError).details, JSON.stringify(patch)).toEqual({ field });
        expect((e as FluxError).message.split('. ').length, 'one sentence').toBe(1);
      }
      expect(await service.list()).toEqual([]);
      // With no name in the spec, the given one is used.
      expect((await create({ name: 'named', cron: '0 * * * *', pipeline: 'deploy', pipelineSpec: 'steps: []\n' })).pipeline).toBe('deploy');
    });

    it("uses the pipeline engine's validator when one is plugged in", async () => {
      const validateSpec: ValidateSpec = (text) => {
        if (!text.includes('steps:')) throw new FluxError('INVALID_PARAMETER_VALUE', 'pipeline spec line 1, column 1: steps is required', { field: 'pipelineSpec' });
        return { name: 'from-validator' };
      };
      const { create } = await setup({ start: '2025-03-01T09:59:00Z', validateSpec });
      expect((await create({ name: 'v', cron: '0 * * * *' })).pipeline).toBe('from-validator');
      await expectRefusal(create({ name: 'w', cron: '0 * * * *', pipelineSpec: 'name: x\n' }), 'INVALID_PARAMETER_VALUE', /^pipeline spec line 1, column 1: steps is required$/);
      await expectRefusal(create({ name: 'w', cron: '0 * * * *', pipeline: 'retrain' }), 'INVALID_PARAMETER_VALUE', /^pipeline "retrain" does not match the spec, which declares pipeline 'from-validator'$/);
    });
  });
}

async function expectRefusal(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(FluxError);
  expect((e as FluxError).code).toBe(code);
  expect((e as FluxError).message).toMatch(message);
}
