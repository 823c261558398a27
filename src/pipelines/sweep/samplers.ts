import { FluxError } from '../../core/index.js';
import { trialRng, type Rng } from './rng.js';
import { gridPoint, pointKey, sampleRandom, showValue, specSize, specValues, type ParamSpec, type ParamValue, type Params, type SearchSpace } from './search-space.js';
import { TpeStrategy } from './tpe-strategy.js';

export type Direction = 'maximize' | 'minimize';
export type TrialStatus = 'running' | 'completed' | 'failed' | 'pruned';

/** What a sampler (and an early-termination policy) knows of a trial; `value` is the primary metric. */
export interface TrialRecord {
  number: number;
  params: Params;
  status: TrialStatus;
  value: number | null;
  intermediate: Array<{ step: number; value: number }>;
}

export interface Sampler {
  readonly name: string;
  /** The seed the sampler draws from when suggest is not handed a generator (drawn at random if none was given). */
  readonly seed: number;
  /**
   * The next trial's parameters, or null when the space is exhausted. Without `rng`, the draw
   * comes from trialRng(seed, next trial number), so the same history always gets the same answer
   * and a restarted sweep needs no generator state.
   */
  suggest(history: readonly TrialRecord[], rng?: Rng): Params | null;
}

export type SamplerKind = 'grid' | 'random' | 'tpe';
export const SAMPLER_KINDS: readonly SamplerKind[] = ['grid', 'random', 'tpe'];

export interface SamplerOptions {
  direction: Direction;
  seed?: number;
  /** TPE: trials (completed or pruned) drawn at random before the estimators take over (default 10). */
  nStartupTrials?: number;
  /** TPE: candidates drawn from the good estimator per parameter (default 24). */
  nEiCandidates?: number;
  /** TPE: how many of n observations are good (default min(⌈0.25·n⌉, 25)). */
  gamma?: (n: number) => number;
  /** TPE: weight of the prior component (default 1). */
  priorWeight?: number;
}

/** What each algorithm implements; the generator is always given. */
export interface Strategy {
  readonly name: string;
  propose(history: readonly TrialRecord[], rng: Rng): Params | null;
}

/** A grid of one quniform or randint parameter larger than this is refused. */
export const MAX_GRID_AXIS = 10_000;

function refuse(field: string, message: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message, { field });
}

export function createSampler(kind: SamplerKind, space: SearchSpace, options: SamplerOptions): Sampler {
  if (options.direction !== 'maximize' && options.direction !== 'minimize') {
    throw refuse('direction', `direction must be maximize or minimize; got ${showValue(options.direction)}.`);
  }
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (!Number.isFinite(seed)) throw refuse('seed', `seed must be a finite number; got ${seed}.`);
  return seeded(strategyFor(kind, space, options), seed);
}

function strategyFor(kind: SamplerKind, space: SearchSpace, options: SamplerOptions): Strategy {
  switch (kind) {
    case 'grid':
      return new GridStrategy(space);
    case 'random':
      return { name: 'random', propose: (_history, rng) => sampleRandom(space, rng) };
    case 'tpe':
      return new TpeStrategy(space, options);
    default:
      throw refuse('sampling_algorithm', `The sampling algorithm must be one of ${SAMPLER_KINDS.join(', ')}; got ${showValue(kind)}.`);
  }
}

function seeded(strategy: Strategy, seed: number): Sampler {
  return {
    name: strategy.name,
    seed,
    suggest: (history, rng) => strategy.propose(history, rng ?? trialRng(seed, nextTrialNumber(history))),
  };
}

/** The number the next trial will get: one past the highest in the history. */
function nextTrialNumber(history: readonly TrialRecord[]): number {
  let n = -1;
  for (const t of history) if (t.number > n) n = t.number;
  return n + 1;
}

/** Every value a grid visits for one parameter, or a sentence saying why it has none. */
function gridAxis(name: string, spec: ParamSpec): ParamValue[] {
  const field = `search_space.${name}`;
  const size = specSize(spec);
  if (size === Infinity) {
    throw refuse(field, `${field} is ${spec.type}, which has no grid; grid sampling takes choice parameters, and quniform or randint ones of at most ${MAX_GRID_AXIS} values.`);
  }
  if (spec.type !== 'choice' && size > MAX_GRID_AXIS) {
    throw refuse(field, `${field} is ${spec.type} with ${size} values; grid sampling enumerates at most ${MAX_GRID_AXIS} per parameter.`);
  }
  return specValues(spec) ?? [];
}

/**
 * Every combination of the parameters' values, the first parameter varying slowest (as
 * itertools.product and Azure ML's grid), skipping any point a trial of the history already has
 * — whatever its status, so concurrent trials never share a point.
 */
class GridStrategy implements Strategy {
  readonly name = 'grid';
  private readonly axes: Array<[string, ParamValue[]]>;
  private readonly names: string[];
  private readonly size: number;

  constructor(space: SearchSpace) {
    this.axes = Object.entries(space).map(([name, spec]) => [name, gridAxis(name, spec)]);
    this.names = this.axes.map(([name]) => name);
    this.size = this.axes.reduce((n, [, values]) => n * values.length, 1);
  }

  propose(history: readonly TrialRecord[]): Params | null {
    const seen = new Set(history.map((t) => pointKey(this.names, t.params)));
    // Each seen point rules out at most one index, so this stops within history.length + 1 steps.
    for (let i = 0; i < this.size; i++) {
      const point = gridPoint(this.axes, i);
      if (!seen.has(pointKey(this.names, point))) return point;
    }
    return null;
  }
}
