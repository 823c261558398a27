import { FluxError } from '../../core/index.js';
import type { Direction, TrialRecord } from './samplers.js';
import { showValue } from './search-space.js';

/**
 * Early termination of sweep trials, with the three policies of Azure ML sweep jobs. Pure: the
 * runner calls shouldTerminate each time a trial reports an intermediate value and prunes the
 * trial when it says stop. Trials are compared with every other trial of the sweep that reached the
 * step, whatever its status: a failed or pruned trial's reports up to there are still evidence.
 */
interface Schedule {
  /** Evaluate at steps that are multiples of this (default 1). */
  evaluationInterval: number;
  /** Evaluate only at steps after this one (default 0). */
  delayEvaluation: number;
}

export type EarlyTerminationPolicy =
  | (Schedule & { policy: 'median-stopping' })
  | (Schedule & { policy: 'truncation-selection'; truncationPercentage: number })
  | (Schedule & { policy: 'bandit'; slack: { kind: 'factor' | 'amount'; value: number } });

export type PolicyName = EarlyTerminationPolicy['policy'];
export const POLICY_NAMES: readonly PolicyName[] = ['median-stopping', 'truncation-selection', 'bandit'];

export interface TerminationDecision {
  stop: boolean;
  /** One sentence, with the figures the decision was made on. */
  reason: string;
}

const COMMON_KEYS = ['policy', 'type', 'evaluation_interval', 'delay_evaluation'];
const OWN_KEYS: Record<PolicyName, readonly string[]> = {
  'median-stopping': [],
  'truncation-selection': ['truncation_percentage'],
  bandit: ['slack_factor', 'slack_amount'],
};

function refuse(field: string, message: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message, { field });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `median-stopping` or Azure's `median_stopping`; the key may be `policy` or Azure's `type`. */
function policyName(raw: Record<string, unknown>, field: string): PolicyName {
  if (raw.policy !== undefined && raw.type !== undefined) throw refuse(`${field}.policy`, `${field} gives both policy and type; give one.`);
  const given = raw.policy ?? raw.type;
  const name = typeof given === 'string' ? given.trim().toLowerCase().replaceAll('_', '-') : '';
  if (!(POLICY_NAMES as readonly string[]).includes(name)) {
    throw refuse(`${field}.policy`, `${field}.policy must be one of ${POLICY_NAMES.join(', ')}; got ${showValue(given)}.`);
  }
  return name as PolicyName;
}

function integer(v: unknown, fallback: number, min: number, field: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw refuse(field, `${field} must be an integer of at least ${min}; got ${showValue(v)}.`);
  return v;
}

export function parseEarlyTermination(raw: unknown, field = 'early_termination'): EarlyTerminationPolicy {
  if (!isRecord(raw)) throw refuse(field, `${field} must be a mapping such as { policy: median-stopping, evaluation_interval: 1, delay_evaluation: 5 }.`);
  const policy = policyName(raw, field);
  for (const key of Object.keys(raw)) {
    if (COMMON_KEYS.includes(key) || OWN_KEYS[policy].includes(key)) continue;
    const owner = POLICY_NAMES.find((p) => OWN_KEYS[p].includes(key));
    throw refuse(`${field}.${key}`, owner === undefined ? `${field} has an unknown key '${key}'.` : `${field}.${key} applies to the ${owner} policy only, not ${policy}.`);
  }
  const schedule: Schedule = {
    evaluationInterval: integer(raw.evaluation_interval, 1, 1, `${field}.evaluation_interval`),
    delayEvaluation: integer(raw.delay_evaluation, 0, 0, `${field}.delay_evaluation`),
  };
  switch (policy) {
    case 'median-stopping':
      return { policy, ...schedule };
    case 'truncation-selection': {
      const f = `${field}.truncation_percentage`;
      const p = raw.truncation_percentage;
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 99) throw refuse(f, `${f} must be an integer from 1 to 99; got ${showValue(p)}.`);
      return { policy, ...schedule, truncationPercentage: p };
    }
    case 'bandit':
      return { policy, ...schedule, slack: banditSlack(raw, field) };
  }
}

function banditSlack(raw: Record<string, unknown>, field: string): { kind: 'factor' | 'amount'; value: number } {
  const { slack_factor: factor, slack_amount: amount } = raw;
  if ((factor === undefined) === (amount === undefined)) {
    throw refuse(`${field}.slack_factor`, `${field} must give exactly one of slack_factor and slack_amount for the bandit policy.`);
  }
  const kind = factor !== undefined ? 'factor' : 'amount';
  const value = factor ?? amount;
  const f = `${field}.slack_${kind}`;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw refuse(f, `${f} must be a non-negative number; got ${showValue(value)}.`);
  return { kind, value };
}

type Report = { step: number; value: number };

function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}

/** Reports up to and including a step, NaN left out. */
function reportsUpTo(t: TrialRecord, step: number): Report[] {
  return t.intermediate.filter((r) => r.step <= step && !Number.isNaN(r.value));
}

function reached(t: TrialRecord, step: number): boolean {
  return t.intermediate.some((r) => r.step >= step);
}

/** A trial's value at a step: its report there, or the last one before if it skipped the step. */
function valueAt(t: TrialRecord, step: number): number | undefined {
  let at: Report | undefined;
  for (const r of reportsUpTo(t, step)) if (at === undefined || r.step >= at.step) at = r;
  return at?.value;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function worse(a: number, b: number, direction: Direction): boolean {
  return direction === 'maximize' ? a < b : a > b;
}

function best(xs: readonly number[], direction: Direction): number {
  return direction === 'maximize' ? Math.max(...xs) : Math.min(...xs);
}

/**
 * Whether to stop a trial after its latest intermediate report. Evaluated only at steps that are
 * multiples of evaluation_interval and later than delay_evaluation; otherwise the trial goes on.
 */
export function shouldTerminate(
  policy: EarlyTerminationPolicy,
  trial: TrialRecord,
  all: readonly TrialRecord[],
  direction: Direction,
): TerminationDecision {
  const report = trial.intermediate.at(-1);
  if (report === undefined) return { stop: false, reason: `Trial ${trial.number} has reported no intermediate value yet.` };
  const { step } = report;
  const { evaluationInterval: every, delayEvaluation: delay } = policy;
  if (step % every !== 0 || step <= delay) {
    return { stop: false, reason: `Step ${step} is not an evaluation step (every ${every === 1 ? 'step' : `${every} steps`} after step ${delay}).` };
  }
  if (Number.isNaN(report.value)) return { stop: true, reason: `Trial ${trial.number} reported NaN at step ${step}.` };
  const others = all.filter((t) => t.number !== trial.number && reached(t, step));
  switch (policy.policy) {
    case 'median-stopping':
      return medianStopping(trial, others, report, direction);
    case 'truncation-selection':
      return truncation(policy.truncationPercentage, trial, others, report, direction);
    case 'bandit':
      return bandit(policy.slack, trial, others, report, direction);
  }
}

function medianStopping(trial: TrialRecord, others: TrialRecord[], report: Report, direction: Direction): TerminationDecision {
  const { step } = report;
  const averages = others
    .map((t) => reportsUpTo(t, step).map((r) => r.value))
    .filter((vs) => vs.length > 0)
    .map((vs) => vs.reduce((a, b) => a + b, 0) / vs.length);
  if (averages.length === 0) return { stop: false, reason: `No other trial has reached step ${step} yet.` };
  const m = median(averages);
  const own = best(reportsUpTo(trial, step).map((r) => r.value), direction);
  const stop = worse(own, m, direction);
  const n = averages.length;
  return {
    stop,
    reason: `Trial ${trial.number}'s best value up to step ${step}, ${fmt(own)}, is ${stop ? '' : 'not '}worse than ${fmt(m)}, the median of the running averages of the ${n} other trial${n === 1 ? '' : 's'} that reached it.`,
  };
}

function truncation(percentage: number, trial: TrialRecord, others: TrialRecord[], report: Report, direction: Direction): TerminationDecision {
  const { step, value } = report;
  const peers = others.map((t) => valueAt(t, step)).filter((v): v is number => v !== undefined);
  if (peers.length < 2) {
    return { stop: false, reason: `Truncation selection needs at least 2 other trials at step ${step}; ${peers.length} reached it.` };
  }
  const n = peers.length + 1;
  // Never more than the percentage: of 3 trials, 20 % stops none. A tie ranks the trial as high as
  // it can go, so trials tied across the cut all go on rather than all stop.
  const cut = Math.floor((n * percentage) / 100);
  const below = peers.filter((v) => !worse(value, v, direction)).length;
  const stop = below < cut;
  return {
    stop,
    reason: `Trial ${trial.number}'s value at step ${step}, ${fmt(value)}, is ${stop ? '' : 'not '}in the lowest ${percentage} % of the ${n} trials there (the worst ${cut} stop; ${below} did no better).`,
  };
}

/**
 * Azure's bound is best / (1 + slack_factor) when maximising and best · (1 + slack_factor) when
 * minimising; written as a distance of |best| · … it keeps its meaning for negative metrics too.
 */
function bandit(slack: { kind: 'factor' | 'amount'; value: number }, trial: TrialRecord, others: TrialRecord[], report: Report, direction: Direction): TerminationDecision {
  const { step, value } = report;
  const peers = others.map((t) => valueAt(t, step)).filter((v): v is number => v !== undefined);
  if (peers.length === 0) return { stop: false, reason: `No other trial has reached step ${step} yet.` };
  const top = best([...peers, value], direction);
  const up = direction === 'minimize';
  let bound: number;
  let how: string;
  if (slack.kind === 'factor') {
    bound = up ? top + Math.abs(top) * slack.value : top - (Math.abs(top) * slack.value) / (1 + slack.value);
    how = `${up ? 'times' : 'divided by'} 1 + slack_factor ${fmt(slack.value)}`;
  } else {
    bound = up ? top + slack.value : top - slack.value;
    how = `${up ? 'plus' : 'less'} slack_amount ${fmt(slack.value)}`;
  }
  const stop = worse(value, bound, direction);
  return {
    stop,
    reason: `Trial ${trial.number}'s value at step ${step}, ${fmt(value)}, is ${stop ? '' : 'not '}${up ? 'above' : 'below'} ${fmt(bound)}, the best value there (${fmt(top)}) ${how}.`,
  };
}
