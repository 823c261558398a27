import { FluxError } from '../../core/index.js';
import { CategoricalParzen, NumericParzen, type NumericDomain } from './parzen-estimator.js';
import type { Rng } from './rng.js';
import type { Direction, SamplerOptions, Strategy, TrialRecord } from './samplers.js';
import {
  gridPoint,
  inSpec,
  pointKey,
  quantum,
  quniformSteps,
  sampleRandom,
  specValues,
  type ChoiceSpec,
  type ParamSpec,
  type ParamValue,
  type Params,
  type SearchSpace,
} from './search-space.js';

export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.25 * n), 25);

/** The report a pruned trial is ranked by: its highest step (the latest report of that step). */
function lastReport(t: TrialRecord): { step: number; value: number } | undefined {
  let last: { step: number; value: number } | undefined;
  for (const r of t.intermediate) if (!Number.isNaN(r.value) && (last === undefined || r.step >= last.step)) last = r;
  return last;
}

/**
 * The observations, best first, as Optuna ranks them: completed trials by value, then pruned ones
 * that reported something (those that got further first, then by their last value), then pruned
 * ones that reported nothing. Failed trials, and completed ones without a value, tell nothing.
 * Running trials are not observations either (Optuna's "constant liar" would count them as bad);
 * concurrent suggestions are kept apart only by never proposing a point a trial already has.
 */
export function rankObservations(history: readonly TrialRecord[], direction: Direction): TrialRecord[] {
  const sign = direction === 'maximize' ? -1 : 1;
  const byValue = (a: number, b: number) => (a === b ? 0 : sign * (a < b ? -1 : 1));
  const completed = history.filter((t) => t.status === 'completed' && t.value !== null && !Number.isNaN(t.value));
  completed.sort((a, b) => byValue(a.value!, b.value!) || a.number - b.number);
  const pruned = history.filter((t) => t.status === 'pruned');
  const reported = pruned.filter((t) => lastReport(t) !== undefined);
  reported.sort((a, b) => {
    const ra = lastReport(a)!;
    const rb = lastReport(b)!;
    return rb.step - ra.step || byValue(ra.value, rb.value) || a.number - b.number;
  });
  const silent = pruned.filter((t) => lastReport(t) === undefined);
  return [...completed, ...reported, ...silent];
}

type NumericSpec = Exclude<ParamSpec, ChoiceSpec>;

/** The estimator's scale: log for loguniform, the grid of multiples of q or of integers otherwise. */
function domainOf(spec: NumericSpec): NumericDomain {
  switch (spec.type) {
    case 'uniform':
      return { low: spec.min, high: spec.max, step: null };
    case 'loguniform':
      return { low: Math.log(spec.min), high: Math.log(spec.max), step: null };
    case 'quniform': {
      const { first, last } = quniformSteps(spec);
      return { low: first * spec.q, high: last * spec.q, step: spec.q };
    }
    case 'randint':
      return { low: spec.min, high: spec.max - 1, step: 1 };
  }
}

function fromScale(spec: NumericSpec, x: number): number {
  switch (spec.type) {
    case 'uniform':
      return x;
    case 'loguniform':
      return Math.min(spec.max, Math.max(spec.min, Math.exp(x)));
    case 'quniform':
      return quantum(Math.round(x / spec.q), spec.q);
    case 'randint':
      return Math.round(x);
  }
}

interface Candidate {
  value: ParamValue;
  /** log l(x) − log g(x), kept finite so that sums over parameters stay ordered. */
  score: number;
}

/** Distinct values, best score first; among equal scores the first drawn, as Optuna's argmax. */
function rankCandidates(draws: readonly Candidate[]): Candidate[] {
  const unique = new Map<ParamValue, Candidate>();
  for (const c of draws) {
    const score = Number.isNaN(c.score) ? -1e30 : Math.max(-1e30, Math.min(1e30, c.score));
    if (!unique.has(c.value)) unique.set(c.value, { value: c.value, score });
  }
  return [...unique.values()].sort((a, b) => b.score - a.score);
}

/**
 * The untried combination of candidates with the highest total score, by best-first search over
 * the product of the per-parameter lists. The first combination popped is each parameter's best
 * (TPE's answer); later ones are looked at only while the popped ones are points already tried,
 * so the search ends within history.length + 1 pops.
 */
function bestUntried(lists: readonly Candidate[][], names: readonly string[], seen: ReadonlySet<string>): Params | null {
  const total = (ix: readonly number[]) => ix.reduce((s, i, d) => s + lists[d]![i]!.score, 0);
  const start = lists.map(() => 0);
  const frontier: Array<{ ix: number[]; score: number }> = [{ ix: start, score: total(start) }];
  const queued = new Set([start.join(',')]);
  while (frontier.length > 0) {
    let at = 0;
    for (let i = 1; i < frontier.length; i++) if (frontier[i]!.score > frontier[at]!.score) at = i;
    const { ix } = frontier.splice(at, 1)[0]!;
    const point = Object.fromEntries(names.map((name, d) => [name, lists[d]![ix[d]!]!.value]));
    if (!seen.has(pointKey(names, point))) return point;
    for (let d = 0; d < ix.length; d++) {
      if (ix[d]! + 1 >= lists[d]!.length) continue;
      const next = ix.map((i, e) => (e === d ? i + 1 : i));
      if (queued.has(next.join(','))) continue;
      queued.add(next.join(','));
      frontier.push({ ix: next, score: total(next) });
    }
  }
  return null;
}

function checkCount(v: number | undefined, fallback: number, min: number, field: string): number {
  const n = v ?? fallback;
  if (!Number.isSafeInteger(n) || n < min) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an integer of at least ${min}; got ${n}.`, { field });
  return n;
}

/**
 * Tree-structured Parzen Estimator, independent per parameter (Optuna's default, multivariate off):
 * split the observations into the good ⌈γ(n)⌉ and the rest, fit l(x) to the good and g(x) to the
 * rest, draw candidates from l and keep the one where l(x)/g(x) is largest. One addition to
 * Optuna: a point some trial already has (whatever its status) is not proposed again, since
 * FluxOps' trainers are seeded and a repeat teaches nothing; the next best combination of
 * candidates is, and when every combination was tried, an untried point of a finite space, or
 * null once all of it is tried. The random start-up draws skip tried points the same way.
 */
export class TpeStrategy implements Strategy {
  readonly name = 'tpe';
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;
  private readonly priorWeight: number;
  private readonly direction: Direction;
  private readonly names: string[];

  constructor(
    private readonly space: SearchSpace,
    options: SamplerOptions,
  ) {
    this.direction = options.direction;
    this.names = Object.keys(space);
    this.nStartupTrials = checkCount(options.nStartupTrials, 10, 0, 'n_startup_trials');
    this.nEiCandidates = checkCount(options.nEiCandidates, 24, 1, 'n_ei_candidates');
    this.gamma = options.gamma ?? defaultGamma;
    this.priorWeight = options.priorWeight ?? 1;
    if (!(this.priorWeight > 0) || !Number.isFinite(this.priorWeight)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `prior_weight must be a positive number; got ${this.priorWeight}.`, { field: 'prior_weight' });
    }
  }

  propose(history: readonly TrialRecord[], rng: Rng): Params | null {
    const seen = new Set(history.map((t) => pointKey(this.names, t.params)));
    const ranked = rankObservations(history, this.direction);
    if (ranked.length < Math.max(1, this.nStartupTrials)) {
      const point = sampleRandom(this.space, rng);
      return seen.has(pointKey(this.names, point)) ? this.untried(history, seen, rng) : point;
    }
    const nGood = Math.min(ranked.length, Math.max(0, Math.floor(this.gamma(ranked.length))));
    const byNumber = (a: TrialRecord, b: TrialRecord) => a.number - b.number;
    // Trial order matters: the weights fade the oldest observations once there are many.
    const good = ranked.slice(0, nGood).sort(byNumber);
    const bad = ranked.slice(nGood).sort(byNumber);
    const lists = Object.entries(this.space).map(([name, spec]) => this.candidates(name, spec, good, bad, rng));
    return bestUntried(lists, this.names, seen) ?? this.untried(history, seen, rng);
  }

  private candidates(name: string, spec: ParamSpec, good: TrialRecord[], bad: TrialRecord[], rng: Rng): Candidate[] {
    // Only trials that hold a value this parameter can take (the space may have changed since).
    const values = (trials: TrialRecord[]) => trials.map((t) => t.params[name]).filter((v): v is ParamValue => v !== undefined && inSpec(spec, v));
    if (spec.type === 'choice') {
      const indices = (trials: TrialRecord[]) => values(trials).map((v) => spec.values.indexOf(v));
      const l = new CategoricalParzen(indices(good), spec.values.length, this.priorWeight);
      const g = new CategoricalParzen(indices(bad), spec.values.length, this.priorWeight);
      return rankCandidates(
        Array.from({ length: this.nEiCandidates }, () => {
          const c = l.sample(rng);
          return { value: spec.values[c]!, score: l.logPdf(c) - g.logPdf(c) };
        }),
      );
    }
    const scaled = (trials: TrialRecord[]) => values(trials).map((v) => (spec.type === 'loguniform' ? Math.log(v as number) : (v as number)));
    const domain = domainOf(spec);
    const l = new NumericParzen(scaled(good), domain, this.priorWeight);
    const g = new NumericParzen(scaled(bad), domain, this.priorWeight);
    return rankCandidates(
      Array.from({ length: this.nEiCandidates }, () => {
        const x = l.sample(rng);
        return { value: fromScale(spec, x), score: l.logPdf(x) - g.logPdf(x) };
      }),
    );
  }

  /** Every candidate combination was tried: the first untried point after a random one, if the space is finite. */
  private untried(history: readonly TrialRecord[], seen: ReadonlySet<string>, rng: Rng): Params | null {
    const axes: Array<[string, ParamValue[]]> = [];
    for (const [name, spec] of Object.entries(this.space)) {
      const values = specValues(spec);
      // A continuous parameter: a fresh draw is a new point with probability one.
      if (values === null) return sampleRandom(this.space, rng);
      axes.push([name, values]);
    }
    const size = axes.reduce((n, [, values]) => n * values.length, 1);
    const offset = rng.int(size);
    // Each tried point rules out one index, so this ends within history.length + 1 steps.
    for (let i = 0; i < Math.min(size, history.length + 1); i++) {
      const point = gridPoint(axes, (offset + i) % size);
      if (!seen.has(pointKey(this.names, point))) return point;
    }
    return null;
  }
}
