import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parseDuration } from '../../core/index.js';
import { invalidDefinition, isPlainObject, schemaProblems, show, type AlertOp, type AlertRule, type AlertSeverity, type DefinitionProblem } from './alert-rule.js';

/*
 * The life of one alert, as Prometheus's rule manager runs it: inactive → pending while the
 * condition holds but its `for` has not yet elapsed → firing; a firing alert resolves as soon as the
 * condition stops holding, and a pending one drops back to inactive without a word. No data is a
 * condition that does not hold (Prometheus resolves an alert whose series vanished), so a dead
 * metric source resolves alerts instead of leaving them firing forever.
 */

export type AlertStatus = 'inactive' | 'pending' | 'firing';

export interface AlertState {
  status: AlertStatus;
  /** When the condition started to hold (the alert went pending); kept after a resolution for the notification. */
  activeSince: Date | undefined;
  /** When the alert went firing; kept after a resolution for the notification. */
  firingSince: Date | undefined;
  /** When the alert last resolved; cleared when it goes pending again. */
  resolvedAt: Date | undefined;
  /** The value of the last evaluation; undefined when it had no data. */
  lastValue: number | undefined;
  lastEvaluated: Date;
}

export interface StepResult {
  state: AlertState;
  /** Set on the evaluation where the alert went firing or resolved: the two moments that notify. */
  transition?: 'firing' | 'resolved';
}

/** Whether `value op threshold`; no data (undefined or NaN) never holds. */
export function conditionHolds(op: AlertOp, value: number | undefined, threshold: number): boolean {
  if (value === undefined || Number.isNaN(value)) return false;
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/**
 * One evaluation of a rule. Pure: the caller keeps the state between evaluations and acts on the
 * transition. A `for` of 0 fires on the first evaluation that holds (Prometheus does the same); a
 * condition that stops holding before `for` has elapsed resets the clock, so flapping faster than
 * `for` never fires. `for` is compared with the time since the alert went pending, so it fires on
 * the first evaluation at or after activeSince + for: the evaluation interval adds to the delay.
 */
export function step(state: AlertState | undefined, observed: number | undefined, rule: AlertRule, now: Date): StepResult {
  const value = observed === undefined || Number.isNaN(observed) ? undefined : observed;
  const holds = conditionHolds(rule.op, value, rule.threshold);
  const prev: AlertState = state ?? { status: 'inactive', activeSince: undefined, firingSince: undefined, resolvedAt: undefined, lastValue: undefined, lastEvaluated: now };
  const base = { ...prev, lastValue: value, lastEvaluated: now };
  if (!holds) {
    if (prev.status === 'firing') return { state: { ...base, status: 'inactive', resolvedAt: now }, transition: 'resolved' };
    if (prev.status === 'pending') return { state: { ...base, status: 'inactive', activeSince: undefined } };
    return { state: base };
  }
  if (prev.status === 'firing') return { state: base };
  const activeSince = prev.status === 'pending' && prev.activeSince !== undefined ? prev.activeSince : now;
  const forMs = parseDuration(rule.for, 'for');
  if (now.getTime() - activeSince.getTime() >= forMs) {
    return { state: { ...base, status: 'firing', activeSince, firingSince: now, resolvedAt: undefined }, transition: 'firing' };
  }
  return { state: { ...base, status: 'pending', activeSince, firingSince: undefined, resolvedAt: undefined } };
}

/** What a notifier is handed (email, Slack): one alert going firing or resolved. */
export interface AlertNotification {
  rule: string;
  severity: AlertSeverity;
  state: 'firing' | 'resolved';
  /** The value that fired or resolved it; undefined when it resolved for lack of data. */
  value: number | undefined;
  threshold: number;
  summary: string;
  labels: Record<string, string>;
  /** When it went firing (Prometheus's startsAt is the firing time, not the pending one). */
  startsAt: Date;
  endsAt?: Date;
  /** A link to the alert in FluxOps. */
  url?: string;
}

/**
 * The notification of a step that had a transition (undefined otherwise). `labels` are the alert's
 * full labels (typically the rule's over `selectorLabels(rule.metric)`); a rule without a summary
 * gets one that says the condition.
 */
export function notificationFor(rule: AlertRule, result: StepResult, labels: Record<string, string> = rule.labels ?? {}, url?: string): AlertNotification | undefined {
  const { state, transition } = result;
  if (transition === undefined) return undefined;
  const n: AlertNotification = {
    rule: rule.name,
    severity: rule.severity,
    state: transition,
    value: state.lastValue,
    threshold: rule.threshold,
    summary: rule.summary ?? `${rule.metric.kind} ${rule.op} ${rule.threshold} for ${rule.for}`,
    labels: { ...labels },
    startsAt: state.firingSince ?? state.lastEvaluated,
  };
  if (transition === 'resolved' && state.resolvedAt !== undefined) n.endsAt = state.resolvedAt;
  if (url !== undefined) n.url = url;
  return n;
}

/*
 * Silences are Alertmanager's: a time-bounded mute over the alerts that match every matcher. A
 * silenced alert still moves through pending, firing and resolved (its state stays true, so the
 * moment the silence ends the alert is shown as it is); only its notifications are suppressed. A
 * transition that happened under a silence is not replayed when the silence ends.
 */

/** A time with its zone, so that a silence means the same on every server. */
const ISO_TIME = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$', description: 'an ISO 8601 time with its zone, such as 2025-01-31T12:00:00Z' });

/** A silence as JSON (times as ISO 8601 strings): the body a route can declare. */
export const SilenceInputSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, description: 'a non-empty id' }),
    matchers: Type.Object(
      {
        rule: Type.Optional(Type.String({ minLength: 1, description: 'a rule name' })),
        labels: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String(), { description: 'a map of label names to the values they must equal' })),
      },
      { additionalProperties: false, description: 'an object with rule and/or labels' },
    ),
    startsAt: ISO_TIME,
    endsAt: ISO_TIME,
    comment: Type.String({ minLength: 1, maxLength: 2000, description: 'a non-empty text saying why' }),
    createdBy: Type.String({ minLength: 1, description: 'who created it' }),
  },
  { additionalProperties: false },
);
export type SilenceInput = Static<typeof SilenceInputSchema>;

export interface Silence {
  id: string;
  /** Every matcher given must match: the rule's name and each label's exact value. */
  matchers: { rule?: string; labels?: Record<string, string> };
  startsAt: Date;
  /** Exclusive: the silence no longer applies at endsAt. */
  endsAt: Date;
  comment: string;
  createdBy: string;
}

const checkSilence = TypeCompiler.Compile(SilenceInputSchema);

/** Validates a silence (times as ISO 8601 strings or Dates); one with no matcher is refused, as Alertmanager does, since it would mute everything. */
export function parseSilence(input: unknown): Silence {
  if (!isPlainObject(input)) throw invalidDefinition('silence', [{ field: '', message: `a silence must be an object; got ${show(input)}` }]);
  // A silence built in code may carry Dates; they are checked as the strings JSON would carry.
  const json = { ...input };
  for (const k of ['startsAt', 'endsAt'] as const) {
    const v = json[k];
    if (v instanceof Date) json[k] = Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  }
  const problems: DefinitionProblem[] = schemaProblems(checkSilence, json, '');
  if (problems.length > 0) throw invalidDefinition('silence', problems);
  const s = json as SilenceInput;
  const startsAt = toDate(s.startsAt, 'startsAt', problems);
  const endsAt = toDate(s.endsAt, 'endsAt', problems);
  if (startsAt !== undefined && endsAt !== undefined && endsAt.getTime() <= startsAt.getTime()) problems.push({ field: 'endsAt', message: 'endsAt must be after startsAt' });
  if (s.matchers.rule === undefined && Object.keys(s.matchers.labels ?? {}).length === 0) problems.push({ field: 'matchers', message: 'matchers must name a rule or at least one label (a silence without matchers would mute every alert)' });
  if (problems.length > 0 || startsAt === undefined || endsAt === undefined) throw invalidDefinition('silence', problems);
  const matchers: Silence['matchers'] = {};
  if (s.matchers.rule !== undefined) matchers.rule = s.matchers.rule;
  if (s.matchers.labels !== undefined) matchers.labels = { ...s.matchers.labels };
  return { id: s.id, matchers, startsAt, endsAt, comment: s.comment, createdBy: s.createdBy };
}

function toDate(v: string, field: string, problems: DefinitionProblem[]): Date | undefined {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) {
    problems.push({ field, message: `${field} must be an ISO 8601 time; got ${show(v)}` });
    return undefined;
  }
  return d;
}

/** The first silence in force at `now` that matches the alert, if any (for saying which silence muted it). */
export function matchingSilence(ruleName: string, labels: Record<string, string>, silences: readonly Silence[], now: Date): Silence | undefined {
  const t = now.getTime();
  return silences.find((s) => {
    if (t < s.startsAt.getTime() || t >= s.endsAt.getTime()) return false;
    const { rule, labels: wanted = {} } = s.matchers;
    const entries = Object.entries(wanted);
    // Defence in depth: a silence that slipped past parseSilence without matchers mutes nothing.
    if (rule === undefined && entries.length === 0) return false;
    if (rule !== undefined && rule !== ruleName) return false;
    return entries.every(([k, v]) => labels[k] === v);
  });
}

/** Whether the alert's notifications are muted at `now`: a silence in force whose every matcher matches. */
export function isSilenced(ruleName: string, labels: Record<string, string>, silences: readonly Silence[], now: Date): boolean {
  return matchingSilence(ruleName, labels, silences, now) !== undefined;
}
