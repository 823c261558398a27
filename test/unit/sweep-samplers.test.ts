import { describe, expect, it } from 'vitest';
import {
  createRng,
  createSampler,
  inSpec,
  parseSearchSpace,
  rankObservations,
  trialRng,
  type Direction,
  type Params,
  type Sampler,
  type SamplerKind,
  type SearchSpace,
  type TrialRecord,
} from '../../src/pipelines/sweep/index.js';
import { CategoricalParzen, NumericParzen, observationWeights } from '../../src/pipelines/sweep/parzen-estimator.js';

const mixed = parseSearchSpace({
  lr: 'loguniform(1e-4, 1)',
  dropout: 'uniform(0, 0.5)',
  width: 'quniform(16, 256, 16)',
  step: 'quniform(0, 1, 0.1)',
  layers: 'randint(1, 5)',
  solver: 'choice(liblinear, saga)',
  flag: 'choice(true, false)',
});

/** Runs a sweep to its end (or n trials), evaluating each suggestion at once. */
function run(sampler: Sampler, n: number, objective: (p: Params) => number): TrialRecord[] {
  const history: TrialRecord[] = [];
  for (let i = 0; i < n; i++) {
    const params = sampler.suggest(history);
    if (params === null) break;
    history.push({ number: i, params, status: 'completed', value: objective(params), intermediate: [] });
  }
  return history;
}

function expectInSpace(space: SearchSpace, params: Params): void {
  expect(Object.keys(params)).toEqual(Object.keys(space));
  for (const [name, spec] of Object.entries(space)) {
    expect(inSpec(spec, params[name]!), `${name}=${String(params[name])}`).toBe(true);
  }
}

describe('rng', () => {
  it('is reproducible from its seed, uniform in [0, 1), and normal with mean 0 and variance 1', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 20_000 }, () => a.next());
    expect(Array.from({ length: 20_000 }, () => b.next())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    const zs = Array.from({ length: 20_000 }, () => a.normal());
    const mean = zs.reduce((s, z) => s + z, 0) / zs.length;
    const variance = zs.reduce((s, z) => s + (z - mean) ** 2, 0) / zs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(createRng(43).next()).not.toBe(createRng(42).next());
    expect(trialRng(7, 1).next()).not.toBe(trialRng(7, 2).next());
    expect(trialRng(7, 1).next()).toBe(trialRng(7, 1).next());
  });
});

describe('random sampler', () => {
  it('stays in bounds, respects types and is reproducible from its seed', () => {
    const one = run(createSampler('random', mixed, { direction: 'maximize', seed: 3 }), 300, () => 0);
    const two = run(createSampler('random', mixed, { direction: 'maximize', seed: 3 }), 300, () => 0);
    expect(two.map((t) => t.params)).toEqual(one.map((t) => t.params));
    for (const t of one) {
      expectInSpace(mixed, t.params);
      expect(Number.isInteger(t.params.layers)).toBe(true);
      expect((t.params.width as number) % 16).toBe(0);
      expect(typeof t.params.flag).toBe('boolean');
    }
    // randint's max is exclusive; every value below it turns up.
    expect(new Set(one.map((t) => t.params.layers))).toEqual(new Set([1, 2, 3, 4]));
    // quniform's values are clean multiples of q.
    expect([...new Set(one.map((t) => t.params.step))].every((v) => String(v).length <= 3)).toBe(true);
    const other = run(createSampler('random', mixed, { direction: 'maximize', seed: 4 }), 5, () => 0);
    expect(other.map((t) => t.params)).not.toEqual(one.slice(0, 5).map((t) => t.params));
  });

  it('spreads loguniform draws evenly over the exponents', () => {
    const space = parseSearchSpace({ lr: 'loguniform(1e-4, 1)' });
    const history = run(createSampler('random', space, { direction: 'maximize', seed: 9 }), 4000, () => 0);
    const decades = [0, 0, 0, 0];
    for (const t of history) decades[Math.min(3, Math.floor(-Math.log10(t.params.lr as number)))]! += 1;
    for (const d of decades) expect(d).toBeGreaterThan(850);
  });

  it('uses the generator it is handed', () => {
    const sampler = createSampler('random', mixed, { direction: 'minimize', seed: 1 });
    expect(sampler.suggest([], createRng(5))).toEqual(sampler.suggest([], createRng(5)));
    expect(sampler.suggest([], createRng(5))).not.toEqual(sampler.suggest([], createRng(6)));
  });
});

describe('grid sampler', () => {
  const space = parseSearchSpace({ C: 'choice(0.01, 0.1, 1)', solver: 'choice(liblinear, saga)', n: 'randint(1, 3)' });

  it('enumerates every combination exactly once, first parameter slowest, then says it is done', () => {
    const history = run(createSampler('grid', space, { direction: 'maximize' }), 100, () => 0);
    expect(history).toHaveLength(12);
    const keys = history.map((t) => JSON.stringify(t.params));
    expect(new Set(keys).size).toBe(12);
    expect(history[0]!.params).toEqual({ C: 0.01, solver: 'liblinear', n: 1 });
    expect(history[1]!.params).toEqual({ C: 0.01, solver: 'liblinear', n: 2 });
    expect(history[2]!.params).toEqual({ C: 0.01, solver: 'saga', n: 1 });
    expect(history[11]!.params).toEqual({ C: 1, solver: 'saga', n: 2 });
    for (const C of [0.01, 0.1, 1]) for (const solver of ['liblinear', 'saga']) for (const n of [1, 2]) expect(keys).toContain(JSON.stringify({ C, solver, n }));
  });

  it('skips points already in the history, running or failed ones included', () => {
    const sampler = createSampler('grid', space, { direction: 'maximize' });
    const history: TrialRecord[] = [
      { number: 0, params: { C: 0.01, solver: 'liblinear', n: 1 }, status: 'running', value: null, intermediate: [] },
      { number: 1, params: { C: 0.01, solver: 'liblinear', n: 2 }, status: 'failed', value: null, intermediate: [] },
    ];
    expect(sampler.suggest(history)).toEqual({ C: 0.01, solver: 'saga', n: 1 });
  });

  it('enumerates quniform on its multiples of q', () => {
    const sampler = createSampler('grid', parseSearchSpace({ q: 'quniform(0, 1, 0.25)' }), { direction: 'minimize' });
    expect(run(sampler, 10, () => 0).map((t) => t.params.q)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('refuses continuous parameters and over-large axes', () => {
    const grid = (raw: unknown) => () => createSampler('grid', parseSearchSpace(raw), { direction: 'maximize' });
    expect(grid({ a: 'choice(1, 2)', lr: 'uniform(0, 1)' })).toThrow('search_space.lr is uniform, which has no grid; grid sampling takes choice parameters, and quniform or randint ones of at most 10000 values.');
    expect(grid({ lr: 'loguniform(0.001, 1)' })).toThrow('search_space.lr is loguniform, which has no grid');
    expect(grid({ n: 'randint(0, 10001)' })).toThrow('search_space.n is randint with 10001 values; grid sampling enumerates at most 10000 per parameter.');
    expect(grid({ n: 'randint(0, 10000)' })).not.toThrow();
  });
});

describe('sampler options', () => {
  it('refuses a bad direction, kind and TPE settings', () => {
    const space = parseSearchSpace({ a: 'uniform(0, 1)' });
    expect(() => createSampler('random', space, { direction: 'up' as Direction })).toThrow('direction must be maximize or minimize; got "up".');
    expect(() => createSampler('bayes' as SamplerKind, space, { direction: 'maximize' })).toThrow('The sampling algorithm must be one of grid, random, tpe; got "bayes".');
    expect(() => createSampler('tpe', space, { direction: 'maximize', nStartupTrials: -1 })).toThrow('n_startup_trials must be an integer of at least 0; got -1.');
    expect(() => createSampler('tpe', space, { direction: 'maximize', nEiCandidates: 0 })).toThrow('n_ei_candidates must be an integer of at least 1; got 0.');
    expect(() => createSampler('tpe', space, { direction: 'maximize', priorWeight: 0 })).toThrow('prior_weight must be a positive number; got 0.');
    expect(() => createSampler('tpe', space, { direction: 'maximize', seed: Number.NaN })).toThrow('seed must be a finite number; got NaN.');
  });

  it('draws a seed when none is given, and reports it', () => {
    const sampler = createSampler('random', mixed, { direction: 'maximize' });
    const again = createSampler('random', mixed, { direction: 'maximize', seed: sampler.seed });
    expect(again.suggest([])).toEqual(sampler.suggest([]));
  });
});

describe('TPE sampler', () => {
  const square = parseSearchSpace({ x: 'uniform(-5, 5)', y: 'uniform(-5, 5)' });
  const optimum = { x: 1.5, y: -2 };
  const distance = (p: Params) => Math.hypot((p.x as number) - optimum.x, (p.y as number) - optimum.y);

  function bestDistance(kind: SamplerKind, seed: number, direction: Direction): number {
    const sign = direction === 'maximize' ? -1 : 1;
    const history = run(createSampler(kind, square, { direction, seed }), 40, (p) => sign * distance(p) ** 2);
    return Math.min(...history.map((t) => distance(t.params)));
  }

  for (const direction of ['maximize', 'minimize'] as const) {
    it(`gets closer to the optimum of a 2-D function than random sampling does (${direction}, mean of 10 seeds)`, () => {
      const seeds = Array.from({ length: 10 }, (_, i) => 100 + i);
      const mean = (kind: SamplerKind) => seeds.reduce((s, seed) => s + bestDistance(kind, seed, direction), 0) / seeds.length;
      const tpe = mean('tpe');
      const random = mean('random');
      expect(tpe).toBeLessThan(random * 0.7);
    });
  }

  it('samples at random during the startup trials, then stays in bounds and types on a mixed space', () => {
    const tpe = run(createSampler('tpe', mixed, { direction: 'minimize', seed: 11, nStartupTrials: 5 }), 5, () => 0);
    const random = run(createSampler('random', mixed, { direction: 'minimize', seed: 11 }), 5, () => 0);
    expect(tpe.map((t) => t.params)).toEqual(random.map((t) => t.params));
    const objective = (p: Params) => Math.abs(Math.log10(p.lr as number) + 2) + (p.layers as number) + ((p.width as number) - 128) ** 2 / 1e4 + (p.solver === 'saga' ? 0 : 1);
    const history = run(createSampler('tpe', mixed, { direction: 'minimize', seed: 11 }), 80, objective);
    for (const t of history) {
      expectInSpace(mixed, t.params);
      expect(Number.isInteger(t.params.layers)).toBe(true);
    }
    const late = history.slice(40);
    expect(late.filter((t) => t.params.solver === 'saga').length).toBeGreaterThan(late.length * 0.6);
    expect(late.filter((t) => t.params.layers === 1).length).toBeGreaterThan(late.length * 0.4);
  });

  it('is reproducible from its seed', () => {
    const objective = (p: Params) => -distance(p);
    const a = run(createSampler('tpe', square, { direction: 'maximize', seed: 5 }), 30, objective);
    const b = run(createSampler('tpe', square, { direction: 'maximize', seed: 5 }), 30, objective);
    expect(b.map((t) => t.params)).toEqual(a.map((t) => t.params));
  });

  it('handles an all-categorical space like the reference sweep: finds its best cell sooner than random, never repeats, then ends', () => {
    const space = parseSearchSpace({ C: 'choice(0.01, 0.1, 1, 10, 100)', max_iter: 'choice(100, 200, 300)', solver: 'choice(liblinear, saga)' });
    // An accuracy-like surface peaking at C = 1, max_iter = 300, saga (0.9); 30 cells in all.
    const accuracy = (p: Params) => 0.9 - 0.03 * Math.abs(Math.log10(p.C as number)) - (300 - (p.max_iter as number)) / 5000 - (p.solver === 'saga' ? 0 : 0.02);
    const trialsToBest = (kind: SamplerKind, seed: number) => {
      const history = run(createSampler(kind, space, { direction: 'maximize', seed }), 40, accuracy);
      const found = history.findIndex((t) => Math.abs(t.value! - 0.9) < 1e-12);
      return found < 0 ? 40 : found + 1;
    };
    const seeds = Array.from({ length: 10 }, (_, i) => i);
    const mean = (kind: SamplerKind) => seeds.reduce((s, seed) => s + trialsToBest(kind, seed), 0) / seeds.length;
    expect(mean('tpe')).toBeLessThan(mean('random'));
    const history = run(createSampler('tpe', space, { direction: 'maximize', seed: 21 }), 40, accuracy);
    for (const t of history) expectInSpace(space, t.params);
    // Every cell once, then null: a seeded trainer would only repeat a result it already has.
    expect(history).toHaveLength(30);
    expect(new Set(history.map((t) => JSON.stringify(t.params))).size).toBe(30);
  });

  it('proposes the next best point when its first choice is one a trial already has, running ones included', () => {
    const space = parseSearchSpace({ solver: 'choice(liblinear, saga)', C: 'choice(1, 10, 100)' });
    const sampler = createSampler('tpe', space, { direction: 'maximize', nStartupTrials: 4 });
    const trial = (number: number, solver: string, C: number, value: number | null): TrialRecord => ({ number, params: { solver, C }, status: value === null ? 'running' : 'completed', value, intermediate: [] });
    const history = [trial(0, 'saga', 1, 0.8), trial(1, 'saga', 10, 0.6), trial(2, 'liblinear', 1, 0.7), trial(3, 'liblinear', 10, 0.5)];
    // TPE's own answer would be saga with C = 1, the best trial's point; it is taken.
    expect(sampler.suggest(history, createRng(3))).toEqual({ solver: 'saga', C: 100 });
    history.push(trial(4, 'saga', 100, null));
    expect(sampler.suggest(history, createRng(3))).toEqual({ solver: 'liblinear', C: 100 });
    history.push(trial(5, 'liblinear', 100, null));
    expect(sampler.suggest(history, createRng(3))).toBeNull();
  });

  it('concentrates a randint and a quniform parameter on their best values', () => {
    const space = parseSearchSpace({ n: 'randint(0, 50)', q: 'quniform(0, 10, 0.5)' });
    const history = run(createSampler('tpe', space, { direction: 'minimize', seed: 8 }), 60, (p) => Math.abs((p.n as number) - 37) + Math.abs((p.q as number) - 2.5));
    for (const t of history) expectInSpace(space, t.params);
    const late = history.slice(30);
    expect(late.filter((t) => Math.abs((t.params.n as number) - 37) <= 3).length).toBeGreaterThan(late.length * 0.4);
  });

  it('ignores failed and running trials and ranks pruned ones after completed ones', () => {
    const trial = (number: number, status: TrialRecord['status'], value: number | null, intermediate: TrialRecord['intermediate'] = []): TrialRecord => ({ number, params: { x: number, y: 0 }, status, value, intermediate });
    const history = [
      trial(0, 'completed', 0.5),
      trial(1, 'failed', null),
      trial(2, 'running', null, [{ step: 1, value: 0.99 }]),
      trial(3, 'pruned', null, [{ step: 1, value: 0.9 }]),
      trial(4, 'pruned', null, [{ step: 1, value: 0.2 }, { step: 2, value: 0.3 }]),
      trial(5, 'pruned', null),
      trial(6, 'completed', 0.7),
    ];
    expect(rankObservations(history, 'maximize').map((t) => t.number)).toEqual([6, 0, 4, 3, 5]);
    expect(rankObservations(history, 'minimize').map((t) => t.number)).toEqual([0, 6, 4, 3, 5]);
  });

  it('learns from pruned trials and stays in the space when the history is mixed', () => {
    const space = parseSearchSpace({ x: 'uniform(0, 1)', k: 'randint(0, 4)' });
    const statuses: TrialRecord['status'][] = ['completed', 'pruned', 'failed', 'running'];
    const history: TrialRecord[] = Array.from({ length: 30 }, (_, i) => {
      const status = statuses[i % 4]!;
      const x = (i * 0.37) % 1;
      return { number: i, params: { x, k: i % 4 }, status, value: status === 'completed' ? -Math.abs(x - 0.2) : null, intermediate: status === 'pruned' ? [{ step: 1, value: -Math.abs(x - 0.2) - 0.5 }] : [] };
    });
    const sampler = createSampler('tpe', space, { direction: 'maximize', seed: 4 });
    for (let i = 0; i < 20; i++) expectInSpace(space, sampler.suggest(history, createRng(i))!);
  });

  it('keeps sampling at random until enough trials are completed or pruned', () => {
    const space = parseSearchSpace({ x: 'uniform(0, 1)' });
    const history: TrialRecord[] = Array.from({ length: 20 }, (_, i) => ({ number: i, params: { x: 0.5 }, status: i < 12 ? 'failed' : 'running', value: null, intermediate: [] }));
    const tpe = createSampler('tpe', space, { direction: 'maximize', seed: 2 });
    const random = createSampler('random', space, { direction: 'maximize', seed: 2 });
    expect(tpe.suggest(history)).toEqual(random.suggest(history));
  });
});

describe('Parzen estimators', () => {
  const obs = [0.1, 0.15, 0.7, 0.72, 0.95];

  it('is a density over a continuous domain: it integrates to 1', () => {
    const p = new NumericParzen(obs, { low: 0, high: 1, step: null }, 1);
    const n = 20_000;
    let integral = 0;
    for (let i = 0; i < n; i++) integral += Math.exp(p.logPdf((i + 0.5) / n)) / n;
    expect(integral).toBeCloseTo(1, 3);
    const rng = createRng(1);
    for (let i = 0; i < 2000; i++) {
      const x = p.sample(rng);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
  });

  it('is a probability mass over a grid: its masses sum to 1 and draws land on the grid', () => {
    const p = new NumericParzen([2, 3, 3, 9], { low: 0, high: 10, step: 1 }, 1);
    let total = 0;
    for (let k = 0; k <= 10; k++) total += Math.exp(p.logPdf(k));
    expect(total).toBeCloseTo(1, 6);
    expect(p.logPdf(3)).toBeGreaterThan(p.logPdf(6));
    const rng = createRng(2);
    for (let i = 0; i < 2000; i++) expect(Number.isInteger(p.sample(rng))).toBe(true);
  });

  it('weighs categories by their counts plus a prior spread evenly', () => {
    const c = new CategoricalParzen([0, 0, 1], 3, 1);
    expect(Math.exp(c.logPdf(0))).toBeCloseTo((2 + 1 / 3) / 4, 12);
    expect(Math.exp(c.logPdf(1))).toBeCloseTo((1 + 1 / 3) / 4, 12);
    expect(Math.exp(c.logPdf(2))).toBeCloseTo(1 / 3 / 4, 12);
  });

  it('fades the oldest observations once there are more than 25', () => {
    expect(observationWeights(3)).toEqual([1, 1, 1]);
    const w = observationWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30, 12);
    expect(w[4]).toBeCloseTo(1, 12);
    expect(w.slice(5).every((x) => x === 1)).toBe(true);
  });
});
