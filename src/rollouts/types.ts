import { FluxError, parseDuration } from '../core/index.js';

export const GATE_METRICS = ['error_rate', 'p50_ms', 'p95_ms', 'p99_ms', 'psi'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

/** A bound on a measure of the step's traffic: `p99_ms<50`, `error_rate<=0.01`, `psi<0.2`. */
export interface Gate {
  metric: GateMetric;
  max: number;
  /** `<=` rather than `<`. */
  inclusive: boolean;
}

export type Step = { kind: 'weight'; weight: number; bakeMs: number } | { kind: 'pause' };

/** A saved request sent to the new deployment alone, with what its answer must be. */
export interface SmokeCase {
  name?: string | undefined;
  body: unknown;
  /** Expected HTTP status (default 200). */
  status?: number | undefined;
  /** Expected predictions, compared exactly, when given. */
  predictions?: unknown[] | undefined;
}

export type Strategy = 'canary' | 'blueGreen';

export interface RolloutSpec {
  strategy: Strategy;
  steps: Step[];
  gates: Gate[];
  smoke: SmokeCase[];
  /** Requests a window needs before a gate on it counts (default 20). */
  minRequests: number;
  /** How often the controller looks at the rollout, in ms (default 1000). */
  intervalMs: number;
}

export const ROLLOUT_STATES = ['running', 'paused', 'succeeded', 'rolled_back', 'aborted'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export interface GateResult {
  gate: string;
  value: number | null;
  passed: boolean;
  /** Whether the window held enough requests for the value to count. */
  conclusive: boolean;
  requests: number;
}

export interface StepResult {
  step: number;
  weight: number | null;
  startedAt: number;
  endedAt: number;
  outcome: 'passed' | 'failed' | 'promoted' | 'approved';
  gates: GateResult[];
  smoke: { passed: boolean; failures: string[] } | null;
}

export interface Rollout {
  id: string;
  endpoint: string;
  /** The deployment traffic comes from (and returns to on a failure). */
  stable: string;
  /** The deployment being rolled out. */
  target: string;
  strategy: Strategy;
  spec: RolloutSpec;
  state: RolloutState;
  step: number;
  stepStartedAt: number;
  results: StepResult[];
  reason: string | null;
  startedBy: string | null;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export function isActive(state: RolloutState): boolean {
  return state === 'running' || state === 'paused';
}

const GATE = /^\s*([a-z0-9_]+)\s*(<=|<)\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*$/i;

export function parseGate(v: unknown, field = 'gates'): Gate {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const g = v as Record<string, unknown>;
    if (typeof g.metric === 'string' && typeof g.max === 'number') return checkGate({ metric: g.metric, max: g.max, inclusive: g.inclusive === true }, field);
  }
  const m = typeof v === 'string' ? GATE.exec(v) : null;
  if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}: ${JSON.stringify(v)} is not a gate such as error_rate<0.01, p99_ms<50 or psi<0.2`, { field });
  return checkGate({ metric: m[1]!.toLowerCase(), max: Number(m[3]), inclusive: m[2] === '<=' }, field);
}

function checkGate(g: { metric: string; max: number; inclusive: boolean }, field: string): Gate {
  if (!(GATE_METRICS as readonly string[]).includes(g.metric)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}: unknown gate metric '${g.metric}' (known: ${GATE_METRICS.join(', ')})`, { field });
  if (!Number.isFinite(g.max) || g.max < 0) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}: the bound of ${g.metric} must be a non-negative number`, { field });
  if (g.metric === 'error_rate' && g.max > 1) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}: error_rate is a fraction from 0 to 1 (0.01 is 1 %)`, { field });
  return { metric: g.metric as GateMetric, max: g.max, inclusive: g.inclusive };
}

export function formatGate(g: Gate): string {
  return `${g.metric}${g.inclusive ? '<=' : '<'}${g.max}`;
}

export { parseDuration };

export interface RolloutSpecInput {
  strategy?: unknown;
  /** Canary: percents and pauses, such as [10, "pause", 50, 100] or "10,pause,50,100". */
  steps?: unknown;
  /** Bake time of each step (default 30s). */
  bake?: unknown;
  gates?: unknown;
  smoke?: unknown;
  minRequests?: unknown;
  interval?: unknown;
  /** Blue/green: go to 100 % once the preview passes, without waiting for promote. */
  autoPromote?: unknown;
}

const MAX_STEPS = 20;

/** A rollout declared by flags or a file, checked whole; each refusal names its field. */
export function parseSpec(input: RolloutSpecInput): RolloutSpec {
  const strategy = input.strategy ?? 'canary';
  if (strategy !== 'canary' && strategy !== 'blueGreen') throw new FluxError('INVALID_PARAMETER_VALUE', `strategy must be canary or blueGreen; got ${JSON.stringify(strategy)}`, { field: 'strategy' });
  const bakeMs = input.bake === undefined ? 30_000 : parseDuration(input.bake, 'bake');
  let steps: Step[];
  if (strategy === 'blueGreen') {
    if (input.steps !== undefined) throw new FluxError('INVALID_PARAMETER_VALUE', 'a blueGreen rollout has no steps: it previews at 0 %, then promotes to 100 %', { field: 'steps' });
    steps = [{ kind: 'weight', weight: 0, bakeMs }, ...(input.autoPromote === true ? [] : [{ kind: 'pause' } as Step]), { kind: 'weight', weight: 100, bakeMs: 0 }];
  } else {
    const raw = input.steps ?? [10, 50, 100];
    const list: unknown = typeof raw === 'string' ? raw.split(',').map((x) => x.trim()) : raw;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_STEPS) throw new FluxError('INVALID_PARAMETER_VALUE', `steps must be a list of 1 to ${MAX_STEPS} percents and pauses, such as 10,50,100`, { field: 'steps' });
    steps = (list as unknown[]).map((s, i): Step => {
      if (s === 'pause' || (typeof s === 'object' && s !== null && 'pause' in s)) return { kind: 'pause' };
      const w = typeof s === 'string' && /^\d+$/.test(s) ? Number(s) : s;
      if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 100) throw new FluxError('INVALID_PARAMETER_VALUE', `steps[${i}] must be a percent from 1 to 100 or pause; got ${JSON.stringify(s)}`, { field: `steps[${i}]` });
      return { kind: 'weight', weight: w, bakeMs };
    });
    const weights = steps.flatMap((s) => (s.kind === 'weight' ? [s.weight] : []));
    for (let i = 1; i < weights.length; i++) if (weights[i]! <= weights[i - 1]!) throw new FluxError('INVALID_PARAMETER_VALUE', 'steps must increase (such as 10,50,100)', { field: 'steps' });
    if (weights.at(-1) !== 100) throw new FluxError('INVALID_PARAMETER_VALUE', 'the last step must be 100 (the new deployment takes all traffic)', { field: 'steps' });
    // The last step at 100 % needs no bake: once there, the rollout is done.
    const last = steps.at(-1)!;
    if (last.kind === 'weight') steps[steps.length - 1] = { ...last, bakeMs: 0 };
  }
  const gatesIn = input.gates ?? [];
  if (!Array.isArray(gatesIn)) throw new FluxError('INVALID_PARAMETER_VALUE', 'gates must be a list such as ["error_rate<0.01", "p99_ms<50"]', { field: 'gates' });
  const gates = gatesIn.map((g, i) => parseGate(g, `gates[${i}]`));
  const smoke = parseSmoke(input.smoke);
  const minRequests = input.minRequests === undefined ? 20 : input.minRequests;
  if (typeof minRequests !== 'number' || !Number.isInteger(minRequests) || minRequests < 1 || minRequests > 100_000) throw new FluxError('INVALID_PARAMETER_VALUE', 'minRequests must be an integer from 1 to 100000', { field: 'minRequests' });
  const intervalMs = input.interval === undefined ? 1000 : parseDuration(input.interval, 'interval');
  if (intervalMs < 50 || intervalMs > 60_000) throw new FluxError('INVALID_PARAMETER_VALUE', 'interval must lie between 50ms and 60s', { field: 'interval' });
  return { strategy, steps, gates, smoke, minRequests, intervalMs };
}

function parseSmoke(v: unknown): SmokeCase[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 100) throw new FluxError('INVALID_PARAMETER_VALUE', 'smoke must be a list of at most 100 requests, each {"body": {...}, "status"?: 200, "predictions"?: [...]}', { field: 'smoke' });
  return v.map((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c) || !('body' in c)) throw new FluxError('INVALID_PARAMETER_VALUE', `smoke[${i}] must be an object with a "body"`, { field: `smoke[${i}]` });
    const x = c as Record<string, unknown>;
    if (x.status !== undefined && (typeof x.status !== 'number' || !Number.isInteger(x.status))) throw new FluxError('INVALID_PARAMETER_VALUE', `smoke[${i}].status must be an HTTP status`, { field: `smoke[${i}].status` });
    if (x.predictions !== undefined && !Array.isArray(x.predictions)) throw new FluxError('INVALID_PARAMETER_VALUE', `smoke[${i}].predictions must be a list`, { field: `smoke[${i}].predictions` });
    return { name: typeof x.name === 'string' ? x.name : undefined, body: x.body, status: x.status, predictions: x.predictions as unknown[] | undefined };
  });
}
