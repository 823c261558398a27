import type { NewEvent } from '../events/index.js';
import type { Firing, FiringState, Schedule } from './types.js';

/** What `claim` did: inserted the firing and moved next_slot, found the slot fired already, or found next_slot moved (or the schedule paused). */
export type ClaimOutcome = 'claimed' | 'taken' | 'moved';

export interface FiringPatch {
  state: FiringState;
  pipelineRun?: string | null;
  reason?: string | null;
  /** The server taking the firing over (a stale claim, a queued firing whose wait is over). */
  firedBy?: string;
  /** Counts a take-over. */
  attempt?: boolean;
}

/**
 * Port for schedules and their firings. The slot's firing row is the claim: its primary key
 * (schedule, slot) lets exactly one insert succeed whatever the number of servers, and every other
 * move is an update conditional on what the caller saw, with the `schedule.fired` event appended
 * in the transaction that records the firing's outcome.
 */
export interface ScheduleStore {
  /** Refused with RESOURCE_ALREADY_EXISTS when the name is taken. */
  create(s: Schedule): Promise<void>;
  byId(id: string): Promise<Schedule | undefined>;
  byName(name: string): Promise<Schedule | undefined>;
  list(): Promise<Schedule[]>;
  /** Pauses or resumes (resuming sets the next slot); false when the schedule is gone or already so. */
  setPaused(id: string, paused: boolean, nextSlot: number | null | undefined, now: number): Promise<boolean>;
  /** Removes the schedule and its firings; false when it was gone. */
  delete(id: string): Promise<boolean>;
  /** Unpaused schedules whose next slot has come. */
  due(now: number): Promise<Schedule[]>;
  /** Moves next_slot from `from` to `to` (slots skipped without a firing); false when it moved meanwhile or the schedule was paused. */
  advance(id: string, from: number, to: number | null, now: number): Promise<boolean>;
  /**
   * In one transaction: inserts the firing (nothing when the slot has one: `taken`), moves the
   * schedule's next_slot from `from` to `to` (rolled back when it is not `from` any more or the
   * schedule is paused: `moved`), and appends `event` when the firing is already final (skipped).
   */
  claim(f: Firing, from: number, to: number | null, event: NewEvent | undefined): Promise<ClaimOutcome>;
  /**
   * Moves a firing that is in one of `from` (and, with `updatedAt`, last changed then) to the
   * patch, appending `event` in the same transaction; false when it moved meanwhile.
   */
  updateFiring(scheduleId: string, slot: number, from: { states: readonly FiringState[]; updatedAt?: number }, patch: FiringPatch, now: number, event: NewEvent | undefined): Promise<boolean>;
  /** The schedule's latest firing before `slot` in one of `states`. */
  previousFiring(scheduleId: string, slot: number, states: readonly FiringState[]): Promise<Firing | undefined>;
  /** Firings in `state` (of every schedule), optionally only those last changed at or before `updatedBefore`, oldest first. */
  firingsIn(state: FiringState, opts?: { updatedBefore?: number | undefined; limit?: number | undefined }): Promise<Firing[]>;
  /** A schedule's firings, newest slot first. */
  firings(scheduleId: string, limit: number): Promise<Firing[]>;
}
