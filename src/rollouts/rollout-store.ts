import type { Actor, NewEvent } from '../events/index.js';
import type { Rollout, RolloutState, StepResult } from './types.js';
import type { WindowPart } from './gates.js';

export interface RolloutPatch {
  state?: RolloutState;
  step?: number;
  stepStartedAt?: number;
  /** Appended to the results. */
  result?: StepResult;
  reason?: string | null;
  finishedAt?: number | null;
}

/**
 * Port for rollouts. Every change is conditional (on the state it expects, and for a controller on
 * its lease) and appends its event in the same transaction, so a rollout moves only by events that
 * exist exactly when the move committed.
 */
export interface RolloutStore {
  /** Refused with RESOURCE_ALREADY_EXISTS while the endpoint has an active rollout. */
  create(r: Rollout, event: NewEvent): Promise<void>;
  get(id: string): Promise<Rollout | undefined>;
  list(q: { endpoint?: string | undefined; active?: boolean | undefined; states?: readonly RolloutState[] | undefined; limit: number }): Promise<Rollout[]>;
  /** Applies the patch when the rollout is in one of `from` (and, with `owner`, while that owner holds the lease); false otherwise. */
  update(id: string, from: readonly RolloutState[], patch: RolloutPatch, events: NewEvent[], owner?: string): Promise<boolean>;
  /** Takes or renews the lease for `owner` until `until` when it is free, expired or already its own. */
  lease(id: string, owner: string, now: number, until: number): Promise<boolean>;
  release(id: string, owner: string): Promise<void>;
  /** Stores (replaces) what one server saw of a deployment in a rollout step. */
  reportWindow(w: StoredWindow): Promise<void>;
  /** Every server's report for a rollout step. */
  windows(rolloutId: string, step: number): Promise<StoredWindow[]>;
}

/** One server's report of one deployment's traffic in a rollout step. */
export interface StoredWindow {
  rolloutId: string;
  step: number;
  server: string;
  deployment: string;
  part: WindowPart;
  updatedAt: number;
}

export type { Actor };
