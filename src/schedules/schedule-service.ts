import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { FluxError } from '../core/index.js';
import { actorOf, type WriteContext } from '../events/index.js';
import { nextSlot, parseCron, parseTimezone } from './cron.js';
import type { ScheduleStore } from './schedule-store.js';
import type { ScheduleTarget } from './schedule-target.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import {
  SCHEDULE_ID,
  catchUpPolicy,
  overlapPolicy,
  pipelineName,
  pipelineSpecText,
  scheduleName,
  scheduleParams,
  type CreateScheduleInput,
  type Firing,
  type Schedule,
} from './types.js';

export interface Clock {
  now(): number;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };

/** Checks a pipeline file and says which pipeline it declares; throws a FluxError naming what is wrong. */
export type ValidateSpec = (text: string) => { name: string };

export interface ScheduleServiceOptions {
  /** Time for created/updated stamps and for the next slot of a new or resumed schedule (default: the system clock). */
  clock?: Clock | undefined;
  /**
   * The pipeline engine's validator of a pipeline file, plugged in by the composition root.
   * Without it a spec must be a YAML mapping, and its name comes from `pipeline` or its `name:`.
   */
  validateSpec?: ValidateSpec | undefined;
}

/**
 * Schedules: a cron expression in a time zone that starts a pipeline run at each slot. This is
 * the validation and the operators' moves; the firing is the `Scheduler`'s (see scheduler.ts),
 * made by `scheduler(target)` once the composition root has a target to start runs on.
 */
export class ScheduleService {
  readonly clock: Clock;
  private readonly validateSpec: ValidateSpec | undefined;

  constructor(
    private readonly store: ScheduleStore,
    opts: ScheduleServiceOptions = {},
  ) {
    this.clock = opts.clock ?? SYSTEM_CLOCK;
    this.validateSpec = opts.validateSpec;
  }

  async create(input: CreateScheduleInput, ctx?: WriteContext): Promise<Schedule> {
    const name = scheduleName(input.name);
    const cron = parseCron(input.cron);
    const timezone = parseTimezone(input.timezone);
    const pipelineSpec = pipelineSpecText(input.pipelineSpec);
    const pipeline = this.pipelineOf(pipelineSpec, input.pipeline);
    const params = scheduleParams(input.params);
    const overlap = overlapPolicy(input.overlap);
    const catchUp = catchUpPolicy(input.catchUp);
    const now = this.clock.now();
    const next = nextSlot(cron, timezone, now);
    if (next === null) throw new FluxError('INVALID_PARAMETER_VALUE', `cron '${cron}' never fires (in ${timezone})`, { field: 'cron' });
    const s: Schedule = {
      id: `sc-${randomBytes(6).toString('hex')}`,
      name,
      cron,
      timezone,
      pipeline,
      pipelineSpec,
      params,
      overlap,
      catchUp,
      paused: false,
      nextSlot: next,
      createdAt: now,
      createdBy: actorOf(ctx),
      updatedAt: now,
    };
    await this.store.create(s);
    return s;
  }

  list(): Promise<Schedule[]> {
    return this.store.list();
  }

  /** A schedule by name or id. */
  async get(ref: unknown): Promise<Schedule> {
    if (typeof ref === 'string' && SCHEDULE_ID.test(ref)) {
      const s = await this.store.byId(ref);
      if (s === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `schedule ${ref} does not exist`);
      return s;
    }
    const name = scheduleName(ref);
    const s = await this.store.byName(name);
    if (s === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `schedule '${name}' does not exist`);
    return s;
  }

  /** Stops firing; slots passing while paused never fire. Pausing a paused schedule changes nothing. */
  async pause(ref: unknown, _ctx?: WriteContext): Promise<Schedule> {
    const s = await this.get(ref);
    await this.store.setPaused(s.id, true, undefined, this.clock.now());
    return this.get(s.id);
  }

  /**
   * Fires again from the next slot after now: the slots passed while paused are not caught up,
   * whatever the catch-up policy (that is for downtime, not for a pause). Resuming an active
   * schedule changes nothing.
   */
  async resume(ref: unknown, _ctx?: WriteContext): Promise<Schedule> {
    const s = await this.get(ref);
    const now = this.clock.now();
    await this.store.setPaused(s.id, false, nextSlot(s.cron, s.timezone, now), now);
    return this.get(s.id);
  }

  /** Removes the schedule and its firing history; runs it started are not touched. */
  async delete(ref: unknown, _ctx?: WriteContext): Promise<void> {
    const s = await this.get(ref);
    if (!(await this.store.delete(s.id))) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `schedule '${s.name}' does not exist`);
  }

  /** The schedule's firings, newest slot first. */
  async firings(ref: unknown, opts: { limit?: number | undefined } = {}): Promise<Firing[]> {
    const limit = opts.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FluxError('INVALID_PARAMETER_VALUE', 'limit must be an integer from 1 to 1000', { field: 'limit' });
    const s = await this.get(ref);
    return this.store.firings(s.id, limit);
  }

  /** The background part that fires the schedules on `target`; the composition root adds it to the lifecycle. */
  scheduler(target: ScheduleTarget, opts: Omit<SchedulerOptions, 'clock'> & { clock?: Clock | undefined } = {}): Scheduler {
    return new Scheduler(this.store, target, { ...opts, clock: opts.clock ?? this.clock });
  }

  private pipelineOf(spec: string, given: unknown): string {
    if (this.validateSpec !== undefined) {
      const declared = this.validateSpec(spec).name;
      if (given !== undefined && given !== null && given !== declared) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `pipeline ${JSON.stringify(given)} does not match the spec, which declares pipeline '${declared}'`, { field: 'pipeline' });
      }
      return pipelineName(declared);
    }
    let doc: unknown;
    try {
      doc = parseYaml(spec, { schema: 'core' });
    } catch (e) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `pipelineSpec is not YAML: ${(e as Error).message.split('\n')[0]}`, { field: 'pipelineSpec' });
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new FluxError('INVALID_PARAMETER_VALUE', 'pipelineSpec must be a pipeline file: a YAML mapping (name, params, steps …)', { field: 'pipelineSpec' });
    const declared = (doc as Record<string, unknown>).name;
    if (given !== undefined && given !== null) {
      const name = pipelineName(given);
      if (declared !== undefined && declared !== name) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `pipeline '${name}' does not match the spec, which declares pipeline ${JSON.stringify(declared)}`, { field: 'pipeline' });
      }
      return name;
    }
    if (declared === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', "pipeline must be given: the spec declares no name (add 'name:' to it, or pass pipeline)", { field: 'pipeline' });
    return pipelineName(declared, 'the name the spec declares');
  }
}
