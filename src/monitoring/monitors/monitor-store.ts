import type { Actor, NewEvent } from '../../events/index.js';
import type { MonitorSettings } from './monitor-spec.js';
import type { Monitor, MonitorResult } from './types.js';

/** A reference profile stored for a model version (one computed from a dataset a user named). */
export interface StoredProfile {
  model: string;
  version: string;
  /** The profile's JSON text. */
  profile: string;
  source: string;
  createdAt: number;
}

/**
 * Port for monitors, their results and stored profiles. A scheduled check is taken by one
 * process: `claimDue` moves a monitor's next run forward by a conditional update, and only the
 * process whose update matched runs the check. A result is written with its events in one
 * transaction (the outbox).
 */
export interface MonitorStore {
  create(m: MonitorSettings, nextRunAt: number | null, now: number): Promise<void>;
  get(name: string): Promise<Monitor | undefined>;
  list(): Promise<Monitor[]>;
  update(m: MonitorSettings, nextRunAt: number | null, now: number): Promise<boolean>;
  delete(name: string): Promise<boolean>;
  /** Monitors due at `now` that this call claimed (their next run moved on by their interval). */
  claimDue(now: number): Promise<Monitor[]>;
  addResult(r: Omit<MonitorResult, 'seq'>, events: (seq: number) => NewEvent[], actor: Actor): Promise<number>;
  /** A monitor's results, newest first. */
  results(name: string, q: { limit: number; before?: number | undefined; since?: number | undefined }): Promise<MonitorResult[]>;
  /** The newest result of every monitor. */
  latestResults(): Promise<MonitorResult[]>;
  putProfile(p: StoredProfile): Promise<void>;
  getProfile(model: string, version: string): Promise<StoredProfile | undefined>;
}
