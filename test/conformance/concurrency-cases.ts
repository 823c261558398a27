import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.js';
import type { Metric, Run } from '../../src/tracking/index.js';
import { startStoreWorkers, type Outcome, type StoreWorker } from '../helpers/store-workers.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { trainAndTrack } from '../../src/workflows/index.js';

/** Worker threads, each one more "server" with its own connection or pool on the suite's database. */
const WORKERS = 4;
/** Calls each worker has in flight at once in a case. */
const PER_WORKER = 4;
const WRITERS = WORKERS * PER_WORKER;

/**
 * Many writers through several store instances on one database, as several servers on one
 * Postgres (or several processes on one SQLite file) are. Every case compares the end state with
 * what the same calls made one after the other must give, and requires that no call fails with
 * anything but the error its rules give (an `UNEXPECTED` outcome is what a client sees as a 500).
 */
export function concurrencyTests(platform: () => Platform): void {
  let workers: StoreWorker[] = [];
  beforeAll(async () => {
    const { home, databaseUrl, artifactRoot } = platform().config;
    workers = await startStoreWorkers(WORKERS, { home, databaseUrl, artifactRoot });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });

  /** Runs `n` calls spread over the workers, all started before any is awaited. */
  const fanOut = (n: number, call: (w: StoreWorker, i: number) => Promise<Outcome>): Promise<Outcome[]> =>
    Promise.all(Array.from({ length: n }, (_, i) => call(workers[i % workers.length]!, i)));

  const newRun = (name: string): Promise<Run> => platform().tracking.createRun({ experimentId: '0', runName: name });

  it('concurrent log-batch calls to one metric key leave the latest value the serial rule gives (20 trials)', async () => {
    for (let trial = 0; trial < 20; trial++) {
      const run = await newRun(`latest-${trial}`);
      // Each writer logs one point; steps, timestamps and values tie in every way the rule breaks
      // ties (highest step, then newest timestamp, then largest value), in a shuffled order.
      const points: Metric[] = Array.from({ length: WRITERS }, (_, i) => ({
        key: 'loss',
        step: Math.floor(i / 4),
        timestamp: 1_000 + (i % 2),
        value: (i * 7919 + trial) % 101,
      }));
      shuffle(points);
      const outcomes = await fanOut(WRITERS, (w, i) => w.call('tracking', 'logBatch', run.info.runId, { metrics: [points[i]] }));
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      const expected = points.reduce((best, m) => (newer(m, best) ? m : best));
      const got = (await platform().tracking.getRun(run.info.runId)).data.metrics;
      expect(got, `trial ${trial}`).toEqual([{ key: 'loss', step: expected.step, timestamp: expected.timestamp, value: expected.value }]);
      const history = await platform().tracking.getMetricHistory(run.info.runId, 'loss');
      expect(history.items).toHaveLength(WRITERS);
    }
  });

  it('concurrent writers of one param: the same value is accepted by all; different values, exactly one wins', async () => {
    const same = await newRun('param-same');
    const sameOutcomes = await fanOut(WRITERS, (w) => w.call('tracking', 'logParam', same.info.runId, 'lr', '0.1'));
    expect(sameOutcomes.filter((o) => !o.ok)).toEqual([]);
    expect((await platform().tracking.getRun(same.info.runId)).data.params).toEqual({ lr: '0.1' });

    for (let trial = 0; trial < 5; trial++) {
      const run = await newRun(`param-race-${trial}`);
      const outcomes = await fanOut(WRITERS, (w, i) => w.call('tracking', 'logParam', run.info.runId, 'solver', `s${i}`));
      const won = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
      expect(won, `trial ${trial}`).toHaveLength(1);
      for (const o of outcomes) {
        if (!o.ok) {
          expect(o.code).toBe('INVALID_PARAMETER_VALUE');
          expect(o.message).toMatch(/immutable/);
        }
      }
      expect((await platform().tracking.getRun(run.info.runId)).data.params).toEqual({ solver: `s${won[0]}` });
    }
  });

  it('a log-batch with a param in a race also keeps its metrics and tags all-or-nothing', async () => {
    const run = await newRun('param-batch');
    const outcomes = await fanOut(WRITERS, (w, i) =>
      w.call('tracking', 'logBatch', run.info.runId, { params: [{ key: 'p', value: i % 2 === 0 ? 'even' : `odd-${i}` }], metrics: [{ key: `m${i}`, value: i, step: 0, timestamp: 1 }], tags: [{ key: `t${i}`, value: 'x' }] }),
    );
    expect(outcomes.filter((o) => !o.ok && o.code !== 'INVALID_PARAMETER_VALUE')).toEqual([]);
    const data = (await platform().tracking.getRun(run.info.runId)).data;
    const okIdx = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
    expect(okIdx.length).toBeGreaterThan(0);
    // Whoever wrote first decided the value; every accepted batch agrees with it, every refused one left nothing.
    expect(okIdx.every((i) => (i % 2 === 0 ? 'even' : `odd-${i}`) === data.params.p)).toBe(true);
    expect(data.metrics.map((m) => m.key).sort()).toEqual(okIdx.map((i) => `m${i}`).sort());
    expect(Object.keys(data.tags).filter((k) => /^t\d+$/.test(k)).sort()).toEqual(okIdx.map((i) => `t${i}`).sort());
  });

  it('concurrent creates of one experiment name: exactly one succeeds, the rest are RESOURCE_ALREADY_EXISTS', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const name = `race-exp-${uid()}`;
      const outcomes = await fanOut(WRITERS, (w) => w.call('tracking', 'createExperiment', { name }));
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      for (const o of outcomes.filter((o) => !o.ok)) expect(o).toMatchObject({ code: 'RESOURCE_ALREADY_EXISTS', message: `experiment '${name}' already exists` });
      const found = await platform().tracking.searchExperiments({ filter: `name = '${name}'` });
      expect(found.items).toHaveLength(1);
    }
  });

  it('concurrent creates of one registered model name: exactly one succeeds, the rest are RESOURCE_ALREADY_EXISTS', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const name = `race-model-${uid()}`;
      const outcomes = await fanOut(WRITERS, (w) => w.call('registry', 'createRegisteredModel', { name }));
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      for (const o of outcomes.filter((o) => !o.ok)) expect(o).toMatchObject({ code: 'RESOURCE_ALREADY_EXISTS', message: `Registered Model (name=${name}) already exists.` });
    }
  });

  it('concurrent version registrations of one model get 1..N, no gaps, no duplicates', async () => {
    const name = `race-versions-${uid()}`;
    await platform().registry.createRegisteredModel({ name });
    const outcomes = await fanOut(WRITERS, (w, i) => w.call('registry', 'createModelVersion', { name, source: `s3://bucket/models/${i}` }, { lenient: true }));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const versions = outcomes.map((o) => Number((o as { value: { version: string } }).value.version)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    const sources = await platform().registry.searchModelVersions({ filter: `name = '${name}'`, maxResults: 1000 });
    expect(new Set(sources.items.map((v) => v.source)).size).toBe(WRITERS);
  });

  it('an alias set while another instance deletes its version never points at the deleted version', async () => {
    const name = `race-alias-${uid()}`;
    await platform().registry.createRegisteredModel({ name });
    const n = WRITERS / 2;
    for (let i = 0; i < n; i++) await platform().registry.createModelVersion({ name, source: `s3://bucket/alias/${i}` }, { lenient: true });
    const outcomes = await fanOut(WRITERS, (w, i) => {
      const version = String(Math.floor(i / 2) + 1);
      return i % 2 === 0 ? w.call('registry', 'deleteModelVersion', name, version) : w.call('registry', 'setAlias', name, `a${version}`, version);
    });
    expect(outcomes.filter((o) => !o.ok && o.code !== 'RESOURCE_DOES_NOT_EXIST')).toEqual([]);
    expect(outcomes.filter((o, i) => i % 2 === 0 && !o.ok)).toEqual([]);
    const model = await platform().registry.getRegisteredModel(name);
    expect(model.aliases, 'every version was deleted, so no alias may remain').toEqual([]);
    // And one alias moved by several instances at once ends on one of the versions it was given.
    const kept = `race-alias-move-${uid()}`;
    await platform().registry.createRegisteredModel({ name: kept });
    for (let i = 0; i < 4; i++) await platform().registry.createModelVersion({ name: kept, source: `s3://bucket/move/${i}` }, { lenient: true });
    const moves = await fanOut(WRITERS, (w, i) => w.call('registry', 'setAlias', kept, 'champion', String((i % 4) + 1)));
    expect(moves.filter((o) => !o.ok)).toEqual([]);
    const after = await platform().registry.getRegisteredModel(kept);
    expect(after.aliases).toHaveLength(1);
    expect(['1', '2', '3', '4']).toContain(after.aliases[0]!.version);
  });

  it('concurrent log-model history appends keep every entry', async () => {
    const run = await newRun('history');
    const outcomes = await fanOut(WRITERS, (w, i) => w.call('tracking', 'recordLoggedModel', run.info.runId, { artifact_path: `model-${i}`, flavors: { python_function: {} } }));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const tag = (await platform().tracking.getRun(run.info.runId)).data.tags['mlflow.log-model.history'];
    const history = JSON.parse(tag ?? '[]') as Array<{ artifact_path: string }>;
    expect(history.map((h) => h.artifact_path).sort()).toEqual(Array.from({ length: WRITERS }, (_, i) => `model-${i}`).sort());
  });

  it('concurrent set-tag, log-metric and log-param calls on one run from several instances all land', async () => {
    const run = await newRun('mixed');
    const outcomes = await fanOut(WRITERS * 2, (w, i) =>
      i % 3 === 0
        ? w.call('tracking', 'setTag', run.info.runId, `tag-${i}`, `v${i}`)
        : i % 3 === 1
          ? w.call('tracking', 'logMetric', run.info.runId, { key: `metric-${i}`, value: i, step: i, timestamp: 5 })
          : w.call('tracking', 'logParam', run.info.runId, `param-${i}`, `v${i}`),
    );
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const data = (await platform().tracking.getRun(run.info.runId)).data;
    const idx = Array.from({ length: WRITERS * 2 }, (_, i) => i);
    expect(Object.keys(data.tags).filter((k) => k.startsWith('tag-')).length).toBe(idx.filter((i) => i % 3 === 0).length);
    expect(data.metrics.length).toBe(idx.filter((i) => i % 3 === 1).length);
    expect(Object.keys(data.params).length).toBe(idx.filter((i) => i % 3 === 2).length);
  });
}

/** Endpoint changes from several servers at once: each is serialised on the endpoint's row. */
export function endpointConcurrencyTests(platform: () => Platform): void {
  let workers: StoreWorker[] = [];
  let model = '';
  beforeAll(async () => {
    const { home, databaseUrl, artifactRoot } = platform().config;
    workers = await startStoreWorkers(WORKERS, { home, databaseUrl, artifactRoot });
    model = `endpoint-model-${uid()}`;
    const p = platform();
    await trainAndTrack(p.tracking, p.registry, { csvText: generateDiabetesCsv(300, 3), dataSource: 'generated:diabetes', target: 'Diabetic', register: model });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });
  const fanOut = (n: number, call: (w: StoreWorker, i: number) => Promise<Outcome>): Promise<Outcome[]> =>
    Promise.all(Array.from({ length: n }, (_, i) => call(workers[i % workers.length]!, i)));

  it('one endpoint name created by many writers at once: exactly one succeeds, the others are told it exists', async () => {
    const name = `race-${uid()}`;
    const outcomes = await fanOut(WRITERS, (w) => w.call('endpoints', 'createEndpoint', { name }));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok).map((o) => (o as { code: string }).code)).toEqual(Array(WRITERS - 1).fill('RESOURCE_ALREADY_EXISTS'));
  });

  it('deployments added by many writers at once all land; the first takes all traffic; every change bumps the generation once', async () => {
    const name = `deploys-${uid()}`;
    const created = await platform().endpoints.createEndpoint({ name });
    const outcomes = await fanOut(WRITERS, (w, i) => w.call('endpoints', 'deploy', name, { name: `d${i}`, model: `${model}/1` }));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const e = await platform().endpoints.getEndpoint(name);
    expect(e.deployments.map((d) => d.name).sort()).toEqual(Array.from({ length: WRITERS }, (_, i) => `d${i}`).sort());
    expect(Object.values(e.traffic).sort((a, b) => b - a)).toEqual([100, ...Array.from({ length: WRITERS - 1 }, () => 0)]);
    expect(e.generation).toBe(created.generation + WRITERS);
  });

  it('traffic moved by many writers at once ends as one of the splits they set, never a mix', async () => {
    const name = `splits-${uid()}`;
    await platform().endpoints.createEndpoint({ name });
    for (const d of ['blue', 'green', 'red']) await platform().endpoints.deploy(name, { name: d, model: `${model}/1` });
    const splits = Array.from({ length: WRITERS }, (_, i) => {
      const a = (i * 37) % 101;
      const b = Math.floor((100 - a) / 2);
      return { blue: a, green: b, red: 100 - a - b };
    });
    const outcomes = await fanOut(WRITERS, (w, i) => w.call('endpoints', 'setTraffic', name, splits[i]));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const e = await platform().endpoints.getEndpoint(name);
    expect(splits).toContainEqual(e.traffic);
    // Each writer saw the endpoint as the one before it left it: the splits it answered are a sequence.
    const answered = outcomes.map((o) => (o as { value: { generation: number } }).value.generation).sort((a, b) => a - b);
    expect(new Set(answered).size).toBe(WRITERS);
  });
}

function newer(a: Metric, b: Metric): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value > b.value;
}

function shuffle<T>(xs: T[]): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = randomBytes(1)[0]! % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}

function uid(): string {
  return randomBytes(4).toString('hex');
}
