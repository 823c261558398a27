import type { Actor, NewEvent } from '../../events/index.js';
import type { AlertRule } from './alert-rule.js';
import type { AlertState } from './alert-evaluator.js';
import type { Silence } from './alert-evaluator.js';
import type { Slo } from './slo.js';

/** A stored alert definition: a rule on a metric, or an SLO. */
export type AlertDefinition = ({ kind: 'rule'; rule: AlertRule } | { kind: 'slo'; slo: Slo }) & {
  name: string;
  notify: { email: string[] };
  everyMs: number;
  enabled: boolean;
  nextRunAt: number;
  /** The synthetic check that owns it, or null. */
  owner: string | null;
  createdAt: number;
  updatedAt: number;
};

/** One alert as it stands: a rule's, or one burn-rate window pair of an SLO. */
export interface AlertRecord {
  alert: string;
  rule: string;
  status: AlertState['status'];
  severity: string;
  labels: Record<string, string>;
  state: AlertState;
  /** The silence that muted its last transition, if one did. */
  silencedBy: string | null;
  updatedAt: number;
}

export interface SyntheticCheck {
  name: string;
  endpoint: string;
  body: unknown;
  expectStatus: number;
  everyMs: number;
  timeoutMs: number;
  alertAfter: number;
  consecutiveFailures: number;
  lastStatus: number | null;
  lastError: string | null;
  lastMs: number | null;
  lastRunAt: number | null;
  runs: number;
  failures: number;
  enabled: boolean;
  nextRunAt: number;
  createdAt: number;
  updatedAt: number;
}

/** Port for alert rules, alert states, silences and synthetic checks. */
export interface AlertStore {
  createDefinition(d: AlertDefinition): Promise<void>;
  getDefinition(name: string): Promise<AlertDefinition | undefined>;
  listDefinitions(): Promise<AlertDefinition[]>;
  deleteDefinition(name: string): Promise<boolean>;
  /** Definitions due at `now` that this call claimed (their next run moved on). */
  claimDefinitions(now: number): Promise<AlertDefinition[]>;
  /** Brings a definition's next evaluation forward to `at`. */
  dueAt(name: string, at: number): Promise<void>;
  getState(alert: string): Promise<AlertRecord | undefined>;
  listStates(): Promise<AlertRecord[]>;
  /** Writes an alert's state, with its events in the same transaction. */
  putState(r: AlertRecord, events: NewEvent[], actor: Actor): Promise<void>;
  createSilence(s: Silence): Promise<void>;
  listSilences(): Promise<Silence[]>;
  /** Ends a silence now; false when it does not exist. */
  expireSilence(id: string, now: Date): Promise<boolean>;
  createCheck(c: SyntheticCheck): Promise<void>;
  getCheck(name: string): Promise<SyntheticCheck | undefined>;
  listChecks(): Promise<SyntheticCheck[]>;
  deleteCheck(name: string): Promise<boolean>;
  claimChecks(now: number): Promise<SyntheticCheck[]>;
  recordCheck(name: string, outcome: { ok: boolean; status: number | null; error: string | null; ms: number; at: number }): Promise<SyntheticCheck | undefined>;
}
