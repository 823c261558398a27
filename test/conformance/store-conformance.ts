import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxError, type ErrorCode } from '../../src/core/index.js';
import { serializeModel } from '../../src/models/index.js';
import type { Platform } from '../../src/platform.js';
import type { DatasetInput, Run, ViewType } from '../../src/tracking/index.js';
import type { StoreBackend } from '../helpers/backends.js';
import { tinyModel } from '../helpers/model-fixture.js';
import { concurrencyTests, endpointConcurrencyTests } from './concurrency-cases.js';

/**
 * The store conformance suite: written once, run on every metadata backend. It goes through the
 * services (tracking, registry, keys) over the real store, so it checks the rules and the SQL
 * together. Each test names its own experiments and models, so tests share one store per suite.
 */
export function describeStoreConformance(backend: StoreBackend): void {
  describe(`store conformance on ${backend.label}`, () => {
    let p!: Platform;
    beforeAll(async () => {
      p = await backend.open();
    });
    afterAll(async () => {
      await p?.close();
    });
    const ctx = { platform: () => p, backend };

    describe('experiments', () => experimentTests(ctx));
    describe('runs', () => runTests(ctx));
    describe('params, metrics, tags and inputs', () => runDataTests(ctx));
    describe('search runs', () => searchRunTests(ctx));
    describe('registry', () => registryTests(ctx));
    describe('registry search', () => registrySearchTests(ctx));
    describe('logged models', () => loggedModelTests(ctx));
    describe('api keys', () => keyTests(ctx));
    describe('concurrent writers on several store instances', () => concurrencyTests(() => p));
    describe('concurrent endpoint changes on several store instances', () => endpointConcurrencyTests(() => p));
  });
}

interface Ctx {
  platform: () => Platform;
  backend: StoreBackend;
}

// ---------------------------------------------------------------------------------------------

function experimentTests({ platform, backend }: Ctx): void {
  it('a new store holds the Default experiment "0" and nothing else; new ids start at 1', async () => {
    const fresh = await backend.open();
    try {
      const exp = await fresh.tracking.getExperiment('0');
      expect(exp).toMatchObject({ experimentId: '0', name: 'Default', lifecycleStage: 'active', artifactLocation: 'mlflow-artifacts:/0' });
      expect((await fresh.tracking.getExperimentByName('Default')).experimentId).toBe('0');
      const all = await fresh.tracking.searchExperiments({ viewType: 'ALL' });
      expect(all.items.map((e) => e.experimentId)).toEqual(['0']);
      expect(await fresh.tracking.createExperiment({ name: 'first' })).toBe('1');
    } finally {
      await fresh.close();
    }
  });

  it('creates, gets by id and by name; a duplicate name is RESOURCE_ALREADY_EXISTS', async () => {
    const p = platform();
    const name = `exp-${uid()}`;
    const id = await p.tracking.createExperiment({ name, tags: [{ key: 'team', value: 'vision' }] });
    expect(id).toMatch(/^[1-9]\d*$/);
    const byId = await p.tracking.getExperiment(id);
    expect(byId).toMatchObject({ experimentId: id, name, lifecycleStage: 'active', artifactLocation: `mlflow-artifacts:/${id}`, tags: { team: 'vision' } });
    expect(byId.creationTime).toBeGreaterThan(0);
    expect(await p.tracking.getExperimentByName(name)).toEqual(byId);
    await rejectsWith(p.tracking.createExperiment({ name }), 'RESOURCE_ALREADY_EXISTS', new RegExp(name));
    await rejectsWith(p.tracking.getExperiment('987654'), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(p.tracking.getExperimentByName(`missing-${uid()}`), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(p.tracking.getExperiment('abc'), 'INVALID_PARAMETER_VALUE');
    await rejectsWith(p.tracking.createExperiment({ name: '  ' }), 'INVALID_PARAMETER_VALUE');
  });

  it('renames an experiment, refusing a name already taken', async () => {
    const p = platform();
    const [a, b, taken] = [`ren-a-${uid()}`, `ren-b-${uid()}`, `ren-taken-${uid()}`];
    const id = await p.tracking.createExperiment({ name: a });
    await p.tracking.createExperiment({ name: taken });
    await p.tracking.renameExperiment(id, b);
    expect((await p.tracking.getExperiment(id)).name).toBe(b);
    expect((await p.tracking.getExperimentByName(b)).experimentId).toBe(id);
    await rejectsWith(p.tracking.getExperimentByName(a), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(p.tracking.renameExperiment(id, taken), 'RESOURCE_ALREADY_EXISTS');
    expect((await p.tracking.getExperiment(id)).name).toBe(b);
  });

  it('deletes and restores an experiment; a deleted one takes no runs; Default cannot be deleted', async () => {
    const p = platform();
    const prefix = `del-${uid()}`;
    const id = await p.tracking.createExperiment({ name: `${prefix}-x` });
    await p.tracking.deleteExperiment(id);
    expect((await p.tracking.getExperiment(id)).lifecycleStage).toBe('deleted');
    const names = async (viewType: ViewType) => (await p.tracking.searchExperiments({ viewType, nameLike: `${prefix}%` })).items.map((e) => e.experimentId);
    expect(await names('ACTIVE_ONLY')).toEqual([]);
    expect(await names('DELETED_ONLY')).toEqual([id]);
    expect(await names('ALL')).toEqual([id]);
    await rejectsWith(p.tracking.createRun({ experimentId: id }), 'INVALID_STATE');
    await p.tracking.restoreExperiment(id);
    expect((await p.tracking.getExperiment(id)).lifecycleStage).toBe('active');
    expect(await names('ACTIVE_ONLY')).toEqual([id]);
    await p.tracking.createRun({ experimentId: id });
    await rejectsWith(p.tracking.deleteExperiment('0'), 'INVALID_PARAMETER_VALUE');
  });

  it('sets and overwrites experiment tags', async () => {
    const p = platform();
    const id = await p.tracking.createExperiment({ name: `tags-${uid()}` });
    await p.tracking.setExperimentTag(id, 'owner', 'ada');
    await p.tracking.setExperimentTag(id, 'stage', 'dev');
    await p.tracking.setExperimentTag(id, 'owner', 'grace');
    expect((await p.tracking.getExperiment(id)).tags).toEqual({ owner: 'grace', stage: 'dev' });
    await rejectsWith(p.tracking.setExperimentTag(id, '../x', 'v'), 'INVALID_PARAMETER_VALUE');
  });

  it('pages experiment search with page tokens and no duplicates', async () => {
    const p = platform();
    const prefix = `page-${uid()}-`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await p.tracking.createExperiment({ name: `${prefix}${i}` }));
    const sizes: number[] = [];
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await p.tracking.searchExperiments({ nameLike: `${prefix}%`, maxResults: 3, pageToken: token });
      sizes.push(page.items.length);
      seen.push(...page.items.map((e) => e.experimentId));
      token = page.nextPageToken;
    } while (token !== undefined);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(ids);
    await rejectsWith(p.tracking.searchExperiments({ pageToken: 'not-a-token' }), 'INVALID_PARAMETER_VALUE');
  });

  it('matches experiment names with a case-sensitive LIKE, as run filters do', async () => {
    const p = platform();
    const tag = uid();
    const id = await p.tracking.createExperiment({ name: `CaseExp-${tag}` });
    expect((await p.tracking.searchExperiments({ nameLike: `CaseExp-${tag}` })).items.map((e) => e.experimentId)).toEqual([id]);
    expect((await p.tracking.searchExperiments({ nameLike: `caseexp-${tag}%` })).items).toEqual([]);
  });
}

// ---------------------------------------------------------------------------------------------

function runTests({ platform }: Ctx): void {
  it('creates runs with 32-hex ids, tags and the mlflow.runName tag', async () => {
    const p = platform();
    const expId = await p.tracking.createExperiment({ name: `runs-${uid()}` });
    const run = await p.tracking.createRun({
      experimentId: expId,
      runName: 'first-run',
      startTime: 1_700_000_000_000,
      sourceVersion: 'abc123',
      tags: { team: 'vision', 'mlflow.user': 'ada' },
    });
    expect(run.info.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(run.info).toMatchObject({
      runName: 'first-run',
      experimentId: expId,
      status: 'RUNNING',
      startTime: 1_700_000_000_000,
      endTime: null,
      lifecycleStage: 'active',
      userId: 'ada',
      sourceVersion: 'abc123',
      artifactUri: `mlflow-artifacts:/${expId}/${run.info.runId}/artifacts`,
    });
    expect(run.data.tags).toEqual({ team: 'vision', 'mlflow.user': 'ada', 'mlflow.runName': 'first-run' });
    expect(await p.tracking.getRun(run.info.runId)).toEqual(run);

    const unnamed = await p.tracking.createRun({ experimentId: expId });
    expect(unnamed.info.runName).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    expect(unnamed.data.tags['mlflow.runName']).toBe(unnamed.info.runName);
    const fromTag = await p.tracking.createRun({ experimentId: expId, tags: { 'mlflow.runName': 'from-tag' } });
    expect(fromTag.info.runName).toBe('from-tag');
    expect(new Set([run.info.runId, unnamed.info.runId, fromTag.info.runId]).size).toBe(3);
    await rejectsWith(p.tracking.createRun({ experimentId: '987654' }), 'RESOURCE_DOES_NOT_EXIST');
  });

  it('updates status, end time and name', async () => {
    const p = platform();
    const expId = await p.tracking.createExperiment({ name: `upd-${uid()}` });
    const { info } = await p.tracking.createRun({ experimentId: expId });
    const updated = await p.tracking.updateRun(info.runId, { status: 'FINISHED', endTime: 1_700_000_100_000 });
    expect(updated.info).toMatchObject({ status: 'FINISHED', endTime: 1_700_000_100_000 });
    expect((await p.tracking.getRun(info.runId)).info).toMatchObject({ status: 'FINISHED', endTime: 1_700_000_100_000 });
    const renamed = await p.tracking.updateRun(info.runId, { runName: 'renamed' });
    expect(renamed.info.runName).toBe('renamed');
    expect(renamed.data.tags['mlflow.runName']).toBe('renamed');
    await rejectsWith(p.tracking.updateRun(info.runId, { status: 'DONE' }), 'INVALID_PARAMETER_VALUE', /status must be one of/);

    const other = await p.tracking.createRun({ experimentId: expId });
    const before = Date.now();
    const ended = await p.tracking.endRun(other.info.runId, 'FAILED');
    expect(ended.info.status).toBe('FAILED');
    expect(ended.info.endTime).toBeGreaterThanOrEqual(before);
    await rejectsWith(p.tracking.getRun('0'.repeat(32)), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(p.tracking.getRun('not-a-run-id'), 'INVALID_PARAMETER_VALUE');
  });

  it('deletes and restores runs; view types select them', async () => {
    const p = platform();
    const expId = await p.tracking.createExperiment({ name: `view-${uid()}` });
    const a = (await p.tracking.createRun({ experimentId: expId })).info.runId;
    const b = (await p.tracking.createRun({ experimentId: expId })).info.runId;
    await p.tracking.deleteRun(b);
    expect((await p.tracking.getRun(b)).info.lifecycleStage).toBe('deleted');
    await rejectsWith(p.tracking.logMetric(b, { key: 'loss', value: 1 }), 'INVALID_STATE');
    const ids = async (viewType: ViewType) => (await p.tracking.searchRuns({ experimentIds: [expId], viewType })).items.map((r) => r.info.runId).sort();
    expect(await ids('ACTIVE_ONLY')).toEqual([a]);
    expect(await ids('DELETED_ONLY')).toEqual([b]);
    expect(await ids('ALL')).toEqual([a, b].sort());
    await p.tracking.restoreRun(b);
    expect((await p.tracking.getRun(b)).info.lifecycleStage).toBe('active');
    expect(await ids('ACTIVE_ONLY')).toEqual([a, b].sort());
    await rejectsWith(p.tracking.searchRuns({ experimentIds: [expId], viewType: 'SOME' as ViewType }), 'INVALID_PARAMETER_VALUE');
  });
}

// ---------------------------------------------------------------------------------------------

function runDataTests({ platform }: Ctx): void {
  const newRun = async (): Promise<string> => {
    const p = platform();
    const expId = await p.tracking.ensureExperiment('run-data');
    return (await p.tracking.createRun({ experimentId: expId })).info.runId;
  };

  it('keeps params immutable: the same value is accepted, another is refused and the batch is not partly written', async () => {
    const p = platform();
    const r = await newRun();
    await p.tracking.logParam(r, 'solver', 'lbfgs');
    await p.tracking.logParam(r, 'solver', 'lbfgs');
    await rejectsWith(p.tracking.logParam(r, 'solver', 'sag'), 'INVALID_PARAMETER_VALUE', /immutable/);
    await rejectsWith(
      p.tracking.logBatch(r, {
        params: [
          { key: 'new_param', value: '1' },
          { key: 'solver', value: 'sag' },
        ],
        metrics: [{ key: 'loss', value: 1, step: 0 }],
        tags: [{ key: 'batch_tag', value: 'v' }],
      }),
      'INVALID_PARAMETER_VALUE',
      /solver/,
    );
    await rejectsWith(
      p.tracking.logBatch(r, { params: [{ key: 'dup', value: 'a' }, { key: 'dup', value: 'b' }], metrics: [{ key: 'loss', value: 2 }] }),
      'INVALID_PARAMETER_VALUE',
    );
    const run = await p.tracking.getRun(r);
    expect(run.data.params).toEqual({ solver: 'lbfgs' });
    expect(run.data.metrics).toEqual([]);
    expect(run.data.tags).not.toHaveProperty('batch_tag');
    expect((await p.tracking.getMetricHistory(r, 'loss')).items).toEqual([]);
    await p.tracking.logBatch(r, { params: [{ key: 'same', value: 'x' }, { key: 'same', value: 'x' }] });
    expect((await p.tracking.getRun(r)).data.params).toEqual({ solver: 'lbfgs', same: 'x' });
  });

  it('keeps the full metric history with steps and timestamps; the latest value is the highest step', async () => {
    const p = platform();
    const r = await newRun();
    const t = 1_700_000_000_000;
    const log = (value: number, step: number, timestamp: number) => p.tracking.logMetric(r, { key: 'acc', value, step, timestamp });
    await log(0.3, 3, t + 3);
    await log(0.1, 1, t + 1);
    await log(0, 0, t);
    await log(0.2, 2, t + 2);
    await log(0.15, 1, t + 10);
    expect((await p.tracking.getMetricHistory(r, 'acc')).items).toEqual([
      { key: 'acc', value: 0, timestamp: t, step: 0 },
      { key: 'acc', value: 0.1, timestamp: t + 1, step: 1 },
      { key: 'acc', value: 0.15, timestamp: t + 10, step: 1 },
      { key: 'acc', value: 0.2, timestamp: t + 2, step: 2 },
      { key: 'acc', value: 0.3, timestamp: t + 3, step: 3 },
    ]);
    const latest = async () => (await p.tracking.getRun(r)).data.metrics.find((m) => m.key === 'acc');
    expect(await latest()).toEqual({ key: 'acc', value: 0.3, timestamp: t + 3, step: 3 });
    await log(0.9, 2, t + 100); // a lower step logged later does not become the latest
    expect(await latest()).toEqual({ key: 'acc', value: 0.3, timestamp: t + 3, step: 3 });
    await log(0.35, 3, t + 200); // same step, newer timestamp does
    expect(await latest()).toEqual({ key: 'acc', value: 0.35, timestamp: t + 200, step: 3 });

    const before = Date.now();
    await p.tracking.logMetric(r, { key: 'defaults', value: 1 });
    const [d] = (await p.tracking.getMetricHistory(r, 'defaults')).items;
    expect(d?.step).toBe(0);
    expect(d?.timestamp).toBeGreaterThanOrEqual(before);
    expect(d?.timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('round-trips NaN, +Infinity and -Infinity', async () => {
    const p = platform();
    const r = await newRun();
    await p.tracking.logBatch(r, {
      metrics: [
        { key: 'nan', value: NaN, step: 0, timestamp: 1 },
        { key: 'pinf', value: Infinity, step: 0, timestamp: 1 },
        { key: 'ninf', value: -Infinity, step: 0, timestamp: 1 },
        { key: 'nan_text', value: 'NaN', step: 0, timestamp: 1 },
        { key: 'ninf_text', value: '-Infinity', step: 0, timestamp: 1 },
      ],
    });
    const latest = Object.fromEntries((await p.tracking.getRun(r)).data.metrics.map((m) => [m.key, m.value]));
    expect(latest).toEqual({ nan: NaN, pinf: Infinity, ninf: -Infinity, nan_text: NaN, ninf_text: -Infinity });
    for (const [key, value] of Object.entries(latest)) {
      expect((await p.tracking.getMetricHistory(r, key)).items.map((m) => m.value)).toEqual([value]);
    }
    await rejectsWith(p.tracking.logMetric(r, { key: 'bad', value: 'high' }), 'INVALID_PARAMETER_VALUE');
  });

  it('pages metric history', async () => {
    const p = platform();
    const r = await newRun();
    await p.tracking.logBatch(r, { metrics: Array.from({ length: 30 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), step: i, timestamp: 1000 + i })) });
    const steps: number[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const page = await p.tracking.getMetricHistory(r, 'loss', { maxResults: 10, pageToken: token });
      sizes.push(page.items.length);
      steps.push(...page.items.map((m) => m.step));
      token = page.nextPageToken;
    } while (token !== undefined);
    expect(sizes).toEqual([10, 10, 10]);
    expect(steps).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await rejectsWith(p.tracking.getMetricHistory(r, 'loss', { maxResults: 0 }), 'INVALID_PARAMETER_VALUE');
  });

  it('logs 1000 metrics in one batch and refuses 1001 without writing any', async () => {
    const p = platform();
    const r = await newRun();
    await p.tracking.logBatch(r, { metrics: Array.from({ length: 1000 }, (_, i) => ({ key: 'big', value: i, step: i, timestamp: 1 })) });
    const history = await p.tracking.getMetricHistory(r, 'big');
    expect(history.items).toHaveLength(1000);
    expect(history.items.at(-1)).toEqual({ key: 'big', value: 999, step: 999, timestamp: 1 });
    expect((await p.tracking.getRun(r)).data.metrics).toEqual([{ key: 'big', value: 999, step: 999, timestamp: 1 }]);
    await rejectsWith(
      p.tracking.logBatch(r, { metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'over', value: i, step: i })) }),
      'INVALID_PARAMETER_VALUE',
      /at most 1000/,
    );
    expect((await p.tracking.getMetricHistory(r, 'over')).items).toEqual([]);
    const tags = Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: 'v' }));
    await rejectsWith(p.tracking.logBatch(r, { tags }), 'INVALID_PARAMETER_VALUE', /at most 100/);
  });

  it('sets, overwrites and deletes run tags', async () => {
    const p = platform();
    const r = await newRun();
    await p.tracking.setTag(r, 'team', 'vision');
    await p.tracking.setTag(r, 'team', 'audio');
    await p.tracking.setTag(r, 'note', 'keep');
    expect((await p.tracking.getRun(r)).data.tags).toMatchObject({ team: 'audio', note: 'keep' });
    await p.tracking.deleteTag(r, 'team');
    const tags = (await p.tracking.getRun(r)).data.tags;
    expect(tags).not.toHaveProperty('team');
    expect(tags).toHaveProperty('note', 'keep');
    await rejectsWith(p.tracking.deleteTag(r, 'team'), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(p.tracking.setTag(r, '../escape', 'v'), 'INVALID_PARAMETER_VALUE');
  });

  it('records dataset inputs with their fingerprint', async () => {
    const p = platform();
    const r = await newRun();
    const train = dataset('diabetes-train', 'training');
    const test = { ...dataset('diabetes-test', 'evaluation'), digest: sha256('other bytes') };
    await p.tracking.logInputs(r, [train]);
    await p.tracking.logInputs(r, [train]); // logging the same dataset again does not duplicate it
    await p.tracking.logInputs(r, [test]);
    const inputs = (await p.tracking.getRun(r)).inputs;
    expect([...inputs].sort((a, b) => a.name.localeCompare(b.name))).toEqual([test, train].sort((a, b) => a.name.localeCompare(b.name)));
    await rejectsWith(p.tracking.logInputs(r, [{ ...train, digest: 'x'.repeat(65) }]), 'INVALID_PARAMETER_VALUE');
  });

  it("summarises the datasets an experiment's runs used, once per name, digest and context", async () => {
    const p = platform();
    const exp = await p.tracking.createExperiment({ name: `datasets-${Date.now()}` });
    const [r1, r2] = [(await p.tracking.createRun({ experimentId: exp })).info.runId, (await p.tracking.createRun({ experimentId: exp })).info.runId];
    const train = dataset('ds-train', 'training');
    await p.tracking.logInputs(r1, [train, { ...dataset('ds-raw', ''), context: '', tags: [] }]);
    await p.tracking.logInputs(r2, [train, { ...train, name: 'ds-train-eval', context: 'eval', tags: [{ key: 'mlflow.data.context', value: 'eval' }] }]);
    const summaries = await p.tracking.searchDatasets([exp, 'not-an-id', '999999']);
    expect(summaries.map((d) => `${d.experimentId}/${d.name}/${d.context}`).sort()).toEqual([`${exp}/ds-raw/`, `${exp}/ds-train-eval/eval`, `${exp}/ds-train/training`]);
    expect(await p.tracking.searchDatasets(['999999'])).toEqual([]);
    expect(await p.tracking.searchDatasets([exp], 1)).toHaveLength(1);
  });
}

// ---------------------------------------------------------------------------------------------

interface FilterCase {
  filter: string;
  expected: string[];
}

function searchRunTests({ platform }: Ctx): void {
  const t0 = 1_700_000_000_000;
  let expId = '';
  const nameOf = new Map<string, string>();

  beforeAll(async () => {
    const p = platform();
    expId = await p.tracking.createExperiment({ name: `search-${uid()}` });
    const runs: Array<{ name: string; solver?: string; f1?: number; team: string; status: 'FINISHED' | 'RUNNING' | 'FAILED'; extra?: () => Promise<void> }> = [
      { name: 'alpha', solver: 'lbfgs', f1: 0.9, team: 'Vision', status: 'FINISHED' },
      { name: 'beta', solver: 'lbfgs', f1: 0.55, team: 'vision', status: 'FINISHED' },
      { name: 'gamma', solver: 'sag', f1: 0.7, team: 'Vision-2', status: 'RUNNING' },
      { name: 'delta', solver: 'saga', f1: 0.4, team: 'audio', status: 'FAILED' },
      { name: 'epsilon', solver: 'lbfgs', team: 'audio', status: 'RUNNING' },
      { name: 'zeta', f1: 0.65, team: 'tabular', status: 'FINISHED' },
    ];
    for (const [i, spec] of runs.entries()) {
      const run = await p.tracking.createRun({ experimentId: expId, runName: spec.name, startTime: t0 + i * 1000, tags: { team: spec.team } });
      const id = run.info.runId;
      nameOf.set(id, spec.name);
      await p.tracking.logBatch(id, {
        params: spec.solver === undefined ? [] : [{ key: 'solver', value: spec.solver }],
        metrics: spec.f1 === undefined ? [] : [{ key: 'f1', value: spec.f1, step: 0, timestamp: t0 }],
      });
      if (spec.status !== 'RUNNING') await p.tracking.updateRun(id, { status: spec.status, endTime: t0 + i * 1000 + 500 });
      if (spec.name === 'alpha') await p.tracking.logBatch(id, { metrics: [{ key: 'val loss', value: 0.2 }, { key: 'score', value: NaN }] });
      if (spec.name === 'beta') await p.tracking.logBatch(id, { metrics: [{ key: 'val.acc', value: 0.8 }, { key: 'score', value: 0.5 }] });
      if (spec.name === 'zeta') await p.tracking.setTag(id, 'x', 'y');
    }
  });

  const search = async (input: { filter?: string; orderBy?: string[] }) =>
    (await platform().tracking.searchRuns({ experimentIds: [expId], ...input })).items.map((r) => nameOf.get(r.info.runId));

  const cases: FilterCase[] = [
    { filter: "metrics.f1 > 0.6 and params.solver = 'lbfgs'", expected: ['alpha'] },
    { filter: 'metrics.f1 > 0.6', expected: ['alpha', 'gamma', 'zeta'] },
    { filter: 'metrics.f1 = 0.9', expected: ['alpha'] },
    { filter: 'metrics.f1 != 0.9', expected: ['beta', 'gamma', 'delta', 'zeta'] },
    { filter: 'metrics.f1 <= 0.55', expected: ['beta', 'delta'] },
    { filter: 'metrics.f1 >= 0.55 AND metrics.f1 < 0.7', expected: ['beta', 'zeta'] },
    { filter: "params.solver != 'lbfgs'", expected: ['gamma', 'delta'] },
    { filter: 'params.solver = "sag"', expected: ['gamma'] },
    { filter: "tags.team LIKE 'Vision%'", expected: ['alpha', 'gamma'] },
    { filter: "tags.team LIKE 'V_sion'", expected: ['alpha'] },
    { filter: "tags.team ILIKE 'vision%'", expected: ['alpha', 'beta', 'gamma'] },
    { filter: "params.solver IN ('sag', 'saga')", expected: ['gamma', 'delta'] },
    { filter: "params.solver NOT IN ('lbfgs')", expected: ['gamma', 'delta'] },
    { filter: "attributes.status = 'FINISHED'", expected: ['alpha', 'beta', 'zeta'] },
    { filter: "attributes.status != 'RUNNING'", expected: ['alpha', 'beta', 'delta', 'zeta'] },
    { filter: "attributes.status IN ('FAILED', 'RUNNING')", expected: ['gamma', 'delta', 'epsilon'] },
    { filter: "attributes.run_name LIKE '%ta'", expected: ['beta', 'delta', 'zeta'] },
    { filter: `attributes.start_time >= ${t0 + 3000}`, expected: ['delta', 'epsilon', 'zeta'] },
    { filter: `attributes.start_time > ${t0 + 2500.5}`, expected: ['delta', 'epsilon', 'zeta'] },
    { filter: 'attributes.start_time < 1e20', expected: ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'] },
    { filter: "tags.x = 'y'", expected: ['zeta'] },
    { filter: 'metrics.`val loss` < 1', expected: ['alpha'] },
    { filter: 'metrics.val.acc > 0.5', expected: ['beta'] },
    { filter: 'metrics.score > -1', expected: ['beta'] },
    { filter: 'metrics.f1 > 2', expected: [] },
  ];
  it.each(cases)('filters with $filter', async ({ filter, expected }) => {
    expect((await search({ filter })).sort()).toEqual([...expected].sort());
  });

  it('orders by a metric descending (and ascending) with runs missing it last', async () => {
    expect(await search({ orderBy: ['metrics.f1 desc'] })).toEqual(['alpha', 'gamma', 'zeta', 'beta', 'delta', 'epsilon']);
    expect(await search({ orderBy: ['metrics.f1 ASC'] })).toEqual(['delta', 'beta', 'zeta', 'gamma', 'alpha', 'epsilon']);
  });

  it('orders by params and attributes; by default newest start first', async () => {
    expect(await search({})).toEqual(['zeta', 'epsilon', 'delta', 'gamma', 'beta', 'alpha']);
    expect(await search({ orderBy: ['params.solver asc'] })).toEqual(['epsilon', 'beta', 'alpha', 'gamma', 'delta', 'zeta']);
    expect(await search({ orderBy: ['params.solver asc', 'metrics.f1 desc'] })).toEqual(['alpha', 'beta', 'epsilon', 'gamma', 'delta', 'zeta']);
    expect(await search({ orderBy: ['attributes.start_time asc'] })).toEqual(['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta']);
    expect(await search({ orderBy: ['attributes.run_name DESC'] })).toEqual(['zeta', 'gamma', 'epsilon', 'delta', 'beta', 'alpha']);
  });

  it('pages 25 runs 10 at a time as 10/10/5 with no duplicates, even when start times tie', async () => {
    const p = platform();
    const exp = await p.tracking.createExperiment({ name: `paging-${uid()}` });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const run = await p.tracking.createRun({ experimentId: exp, startTime: t0 + Math.floor(i / 5) });
      ids.push(run.info.runId);
      if (i % 3 !== 0) await p.tracking.logMetric(run.info.runId, { key: 'f1', value: (i % 4) / 4 });
    }
    for (const orderBy of [undefined, ['metrics.f1 desc'], ['attributes.start_time asc']]) {
      const sizes: number[] = [];
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await p.tracking.searchRuns({ experimentIds: [exp], maxResults: 10, pageToken: token, orderBy });
        sizes.push(page.items.length);
        seen.push(...page.items.map((r) => r.info.runId));
        token = page.nextPageToken;
      } while (token !== undefined);
      expect(sizes, `pages for ${String(orderBy)}`).toEqual([10, 10, 5]);
      expect(new Set(seen).size).toBe(25);
      expect([...seen].sort()).toEqual([...ids].sort());
    }
  });

  it('searches across several experiments', async () => {
    const p = platform();
    const other = await p.tracking.createExperiment({ name: `search-other-${uid()}` });
    const run = await p.tracking.createRun({ experimentId: other, runName: 'omega' });
    nameOf.set(run.info.runId, 'omega');
    const names = (await p.tracking.searchRuns({ experimentIds: [expId, other], filter: "attributes.run_name IN ('omega', 'alpha')" })).items.map((r) =>
      nameOf.get(r.info.runId),
    );
    expect(names.sort()).toEqual(['alpha', 'omega']);
  });

  it.each([
    ["metrics.f1 > 0.5 OR params.solver = 'lbfgs'", /OR is not supported/],
    ['f1 > 0.5', /entity prefix/],
    ["attributes.nope = 'x'", /unknown attribute 'nope'/],
    ["metrics.f1 LIKE '0.5%'", /LIKE cannot be used with metrics\.f1/],
    ["metrics.f1 > 'high'", /must be compared with a number/],
    ["params.solver = 'lbfgs", /unterminated quote/],
  ])('refuses the invalid filter %s with INVALID_PARAMETER_VALUE', async (filter, message) => {
    await rejectsWith(platform().tracking.searchRuns({ experimentIds: [expId], filter }), 'INVALID_PARAMETER_VALUE', message);
  });

  it('refuses invalid order_by, experiment ids and max_results', async () => {
    const t = platform().tracking;
    await rejectsWith(t.searchRuns({ experimentIds: [expId], orderBy: ['metrics.f1 sideways'] }), 'INVALID_PARAMETER_VALUE', /ASC or DESC/);
    await rejectsWith(t.searchRuns({ experimentIds: [] }), 'INVALID_PARAMETER_VALUE', /experiment_ids/);
    await rejectsWith(t.searchRuns({ experimentIds: [expId], maxResults: 0 }), 'INVALID_PARAMETER_VALUE', /max_results/);
    await rejectsWith(t.searchRuns({ experimentIds: [expId], pageToken: 'garbage' }), 'INVALID_PARAMETER_VALUE', /page_token/);
  });
}

// ---------------------------------------------------------------------------------------------

function registryTests({ platform }: Ctx): void {
  /** A finished run with params, a metric, a dataset and a servable model under `model/`. */
  const trainedRun = async (): Promise<Run> => {
    const p = platform();
    const expId = await p.tracking.ensureExperiment('registry-runs');
    const run = await p.tracking.createRun({ experimentId: expId, sourceVersion: 'c0ffee' });
    const id = run.info.runId;
    await p.tracking.logBatch(id, { params: [{ key: 'solver', value: 'lbfgs' }, { key: 'C', value: '1.0' }], metrics: [{ key: 'f1', value: 0.8 }] });
    await p.tracking.logInputs(id, [dataset('diabetes', 'training')]);
    await p.tracking.logArtifact(id, 'model/fluxops-model.json', serializeModel(tinyModel()));
    return p.tracking.endRun(id);
  };
  const register = (name: string, run: Run) => platform().registry.createModelVersion({ name, source: `runs:/${run.info.runId}/model` });
  let run!: Run;
  beforeAll(async () => {
    run = await trainedRun();
  });

  it('creates and gets a registered model; a duplicate is RESOURCE_ALREADY_EXISTS', async () => {
    const r = platform().registry;
    const name = `model-${uid()}`;
    const created = await r.createRegisteredModel({ name, description: 'diabetes classifier', tags: [{ key: 'team', value: 'vision' }] });
    expect(created).toMatchObject({ name, description: 'diabetes classifier', tags: { team: 'vision' }, aliases: [], latestVersions: [] });
    expect(await r.getRegisteredModel(name)).toEqual(created);
    await rejectsWith(r.createRegisteredModel({ name }), 'RESOURCE_ALREADY_EXISTS', new RegExp(name));
    await rejectsWith(r.getRegisteredModel(`missing-${uid()}`), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(r.createRegisteredModel({ name: 'a/b' }), 'INVALID_PARAMETER_VALUE');
    await rejectsWith(r.createRegisteredModel({ name: 'a@b' }), 'INVALID_PARAMETER_VALUE');
  });

  it('searches models by a case-sensitive name pattern, with paging', async () => {
    const r = platform().registry;
    const prefix = `Search-${uid()}`;
    for (const n of ['a', 'b', 'c']) await r.createRegisteredModel({ name: `${prefix}-${n}` });
    const first = await r.searchRegisteredModels({ nameLike: `${prefix}%`, maxResults: 2 });
    expect(first.items.map((m) => m.name)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    const second = await r.searchRegisteredModels({ nameLike: `${prefix}%`, maxResults: 2, pageToken: first.nextPageToken });
    expect(second.items.map((m) => m.name)).toEqual([`${prefix}-c`]);
    expect(second.nextPageToken).toBeUndefined();
    expect((await r.searchRegisteredModels({ nameLike: `${prefix.toLowerCase()}%` })).items).toEqual([]);
  });

  it('allocates versions 1, 2, 3 per model and records where each came from', async () => {
    const r = platform().registry;
    const [a, b] = [`ver-a-${uid()}`, `ver-b-${uid()}`];
    await r.createRegisteredModel({ name: a });
    await r.createRegisteredModel({ name: b });
    const versions = [await register(a, run), await register(a, run), await register(b, run), await register(a, run)];
    expect(versions.map((v) => `${v.name === a ? 'a' : 'b'}${v.version}`)).toEqual(['a1', 'a2', 'b1', 'a3']);
    expect(versions[0]).toMatchObject({
      source: `runs:/${run.info.runId}/model`,
      runId: run.info.runId,
      status: 'READY',
      currentStage: 'None',
      metrics: { f1: 0.8 },
      aliases: [],
    });
    expect(versions[0]!.storageLocation).toMatch(new RegExp(`${run.info.runId}/artifacts/model$`));
    expect(versions[0]!.statusMessage).toMatch(/servable/);
    expect(versions[0]!.signature?.inputs.map((i) => i.name)).toEqual(['x1', 'x2']);
    await rejectsWith(r.createModelVersion({ name: `missing-${uid()}`, source: `runs:/${run.info.runId}/model` }), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(r.createModelVersion({ name: a, source: `runs:/${run.info.runId}/nothing-here` }), 'INVALID_PARAMETER_VALUE', /no model files/);
    await rejectsWith(r.createModelVersion({ name: a, source: 'runs:/not-a-run/model' }), 'INVALID_PARAMETER_VALUE');
    expect((await r.searchModelVersions({ name: a })).items.map((v) => v.version)).toEqual(['3', '2', '1']);
  });

  it('gives 10 distinct versions to 10 concurrent registrations', async () => {
    const r = platform().registry;
    const name = `concurrent-${uid()}`;
    await r.createRegisteredModel({ name });
    const versions = await Promise.all(Array.from({ length: 10 }, () => register(name, run)));
    expect(versions.map((v) => Number(v.version)).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await r.searchModelVersions({ name })).items).toHaveLength(10);
  });

  it('sets, moves, deletes and resolves aliases', async () => {
    const r = platform().registry;
    const name = `alias-${uid()}`;
    await r.createRegisteredModel({ name });
    for (let i = 0; i < 3; i++) await register(name, run);
    expect((await r.setAlias(name, 'production', '1')).aliases).toEqual(['production']);
    expect((await r.getVersionByAlias(name, 'production')).version).toBe('1');
    await r.setAlias(name, 'production', 2);
    await r.setAlias(name, 'staging', 2);
    expect((await r.getModelVersion(name, 1)).aliases).toEqual([]);
    expect((await r.getModelVersion(name, 2)).aliases).toEqual(['production', 'staging']);
    expect((await r.getRegisteredModel(name)).aliases).toEqual([
      { alias: 'production', version: '2' },
      { alias: 'staging', version: '2' },
    ]);

    expect((await r.resolve(`${name}@production`)).version).toBe('2');
    expect((await r.resolve(`models:/${name}@production`)).version).toBe('2');
    expect((await r.resolve(`${name}/2`)).version).toBe('2');
    expect((await r.resolve(`${name}:1`)).version).toBe('1');
    expect((await r.resolve(name)).version).toBe('3');
    await rejectsWith(r.resolve(`${name}@canary`), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(r.resolve(`${name}/99`), 'RESOURCE_DOES_NOT_EXIST');

    await r.deleteAlias(name, 'production');
    await rejectsWith(r.resolve(`${name}@production`), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(r.deleteAlias(name, 'production'), 'RESOURCE_DOES_NOT_EXIST');
    expect((await r.getModelVersion(name, 2)).aliases).toEqual(['staging']);
    await rejectsWith(r.setAlias(name, 'latest', 1), 'INVALID_PARAMETER_VALUE', /reserved/);
    await rejectsWith(r.setAlias(name, 'v2', 1), 'INVALID_PARAMETER_VALUE', /reserved/);
    await rejectsWith(r.setAlias(name, 'canary', 99), 'RESOURCE_DOES_NOT_EXIST');
  });

  it('transitions stages, archiving the versions already in the stage when asked', async () => {
    const r = platform().registry;
    const name = `stage-${uid()}`;
    await r.createRegisteredModel({ name });
    for (let i = 0; i < 4; i++) await register(name, run);
    expect((await r.transitionStage(name, 1, 'Production')).currentStage).toBe('Production');
    await r.transitionStage(name, 2, 'production', true);
    await r.transitionStage(name, 3, 'Staging');
    await r.transitionStage(name, 4, 'Staging', false);
    const stages = async () => (await r.searchModelVersions({ name })).items.map((v) => `${v.version}:${v.currentStage}`).sort();
    expect(await stages()).toEqual(['1:Archived', '2:Production', '3:Staging', '4:Staging']);
    const latest = (await r.getRegisteredModel(name)).latestVersions.map((v) => `${v.version}:${v.currentStage}`);
    expect(latest).toEqual(['1:Archived', '2:Production', '4:Staging']);
    await rejectsWith(r.transitionStage(name, 1, 'Live'), 'INVALID_PARAMETER_VALUE', /stage must be one of/);
  });

  it('sets and deletes tags on models and versions', async () => {
    const r = platform().registry;
    const name = `tags-${uid()}`;
    await r.createRegisteredModel({ name });
    await register(name, run);
    await r.setRegisteredModelTag(name, 'owner', 'ada');
    await r.setRegisteredModelTag(name, 'owner', 'grace');
    await r.setModelVersionTag(name, 1, 'validated', 'yes');
    expect((await r.getRegisteredModel(name)).tags).toEqual({ owner: 'grace' });
    expect((await r.getModelVersion(name, 1)).tags).toEqual({ validated: 'yes' });
    await r.deleteRegisteredModelTag(name, 'owner');
    await r.deleteModelVersionTag(name, 1, 'validated');
    expect((await r.getRegisteredModel(name)).tags).toEqual({});
    expect((await r.getModelVersion(name, 1)).tags).toEqual({});
    await rejectsWith(r.deleteRegisteredModelTag(name, 'owner'), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(r.deleteModelVersionTag(name, 1, 'validated'), 'RESOURCE_DOES_NOT_EXIST');
  });

  it('renames a model keeping its versions, tags and aliases', async () => {
    const r = platform().registry;
    const [name, renamed, taken] = [`rename-${uid()}`, `renamed-${uid()}`, `taken-${uid()}`];
    await r.createRegisteredModel({ name, tags: [{ key: 'owner', value: 'ada' }] });
    await r.createRegisteredModel({ name: taken });
    await register(name, run);
    await register(name, run);
    await r.setModelVersionTag(name, 1, 'validated', 'yes');
    await r.setAlias(name, 'champion', 2);
    const model = await r.renameRegisteredModel(name, renamed);
    expect(model).toMatchObject({ name: renamed, tags: { owner: 'ada' }, aliases: [{ alias: 'champion', version: '2' }] });
    expect((await r.getModelVersion(renamed, 1)).tags).toEqual({ validated: 'yes' });
    expect((await r.resolve(`${renamed}@champion`)).version).toBe('2');
    expect((await r.searchModelVersions({ name: renamed })).items.map((v) => v.name)).toEqual([renamed, renamed]);
    await rejectsWith(r.getRegisteredModel(name), 'RESOURCE_DOES_NOT_EXIST');
    expect((await register(renamed, run)).version).toBe('3');
    await rejectsWith(r.renameRegisteredModel(renamed, taken), 'RESOURCE_ALREADY_EXISTS');
  });

  it('deletes a model with everything under it', async () => {
    const p = platform();
    const r = p.registry;
    const name = `delete-${uid()}`;
    await r.createRegisteredModel({ name, tags: [{ key: 'k', value: 'v' }] });
    await register(name, run);
    await register(name, run);
    await r.setAlias(name, 'production', 2);
    await r.setModelVersionTag(name, 2, 'k', 'v');
    await r.deleteRegisteredModel(name);
    await rejectsWith(r.getRegisteredModel(name), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(r.getModelVersion(name, 1), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(r.resolve(`${name}@production`), 'RESOURCE_DOES_NOT_EXIST');
    expect((await r.searchModelVersions({ name })).items).toEqual([]);
    for (const table of ['model_versions', 'model_version_tags', 'model_aliases', 'registered_model_tags'] as const) {
      const rows = await p.db.db.selectFrom(table).select('name').where('name', '=', name).execute();
      expect(rows, `${table} rows left for ${name}`).toEqual([]);
    }
    await r.createRegisteredModel({ name });
    const again = await register(name, run);
    expect(again).toMatchObject({ version: '1', aliases: [], tags: {} });
  });

  it('deleting a version removes the aliases pointing at it', async () => {
    const r = platform().registry;
    const name = `delete-version-${uid()}`;
    await r.createRegisteredModel({ name });
    await register(name, run);
    await register(name, run);
    await r.setAlias(name, 'production', 1);
    await r.deleteModelVersion(name, 1);
    await rejectsWith(r.getModelVersion(name, 1), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(r.resolve(`${name}@production`), 'RESOURCE_DOES_NOT_EXIST');
    expect((await r.getRegisteredModel(name)).aliases).toEqual([]);
  });

  it('never hands out a deleted version number again', async () => {
    const r = platform().registry;
    const name = `no-reuse-${uid()}`;
    await r.createRegisteredModel({ name });
    await register(name, run);
    await register(name, run);
    await r.deleteModelVersion(name, 2);
    expect((await register(name, run)).version).toBe('3');
    expect((await r.searchModelVersions({ name })).items.map((v) => v.version)).toEqual(['3', '1']);
    expect((await r.getRegisteredModel(name)).latestVersions.map((v) => v.version)).toEqual(['3']);
    await rejectsWith(r.deleteModelVersion(name, 2), 'RESOURCE_DOES_NOT_EXIST');
  });

  it('traces a version back to its run params, metrics and datasets', async () => {
    const r = platform().registry;
    const name = `lineage-${uid()}`;
    await r.createRegisteredModel({ name });
    await register(name, run);
    const lineage = await r.lineage(name, 1);
    expect(lineage.model.version).toBe('1');
    expect(lineage.run).toMatchObject({
      runId: run.info.runId,
      experimentId: run.info.experimentId,
      status: 'FINISHED',
      sourceVersion: 'c0ffee',
      params: { solver: 'lbfgs', C: '1.0' },
      metrics: { f1: 0.8 },
    });
    expect(lineage.datasets).toEqual([dataset('diabetes', 'training')]);
  });
}

// ---------------------------------------------------------------------------------------------

function registrySearchTests({ platform }: Ctx): void {
  /** Three models (two tagged red), with versions from two runs; the second version of `b` tagged. */
  const seed = async (prefix: string) => {
    const p = platform();
    const expId = await p.tracking.ensureExperiment('registry-search-runs');
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const run = await p.tracking.createRun({ experimentId: expId });
      await p.tracking.logArtifact(run.info.runId, 'model/fluxops-model.json', serializeModel(tinyModel()));
      runs.push(run);
    }
    for (const [n, team] of [
      ['a', 'red'],
      ['b', 'blue'],
      ['c', 'red'],
    ] as const) {
      await p.registry.createRegisteredModel({ name: `${prefix}-${n}`, tags: [{ key: 'team', value: team }] });
    }
    for (const run of [runs[0]!, runs[1]!, runs[0]!]) await p.registry.createModelVersion({ name: `${prefix}-b`, source: `runs:/${run.info.runId}/model` });
    await p.registry.setModelVersionTag(`${prefix}-b`, 2, 'validated', 'Yes');
    return runs;
  };

  it('filters models by name (=, !=, LIKE case-sensitively, ILIKE) and tags, and orders them', async () => {
    const r = platform().registry;
    const prefix = `RS${uid()}`;
    await seed(prefix);
    const names = async (filter: string, orderBy?: string[]) => (await r.searchRegisteredModels({ filter, orderBy })).items.map((m) => m.name.slice(prefix.length + 1));
    // Mixed-case names would sort by the database's collation; these sort the same everywhere.
    expect(await names(`name LIKE '${prefix}-%'`)).toEqual(['a', 'b', 'c']);
    expect(await names(`name LIKE '${prefix.toLowerCase()}-%'`)).toEqual([]);
    expect(await names(`name ILIKE '${prefix.toLowerCase()}-B'`)).toEqual(['b']);
    expect(await names(`name = '${prefix}-a'`)).toEqual(['a']);
    expect(await names(`name LIKE '${prefix}-%' AND name != '${prefix}-a'`)).toEqual(['b', 'c']);
    expect(await names(`name LIKE '${prefix}-%' AND tags.team = 'red'`)).toEqual(['a', 'c']);
    expect(await names(`name LIKE '${prefix}-%' AND tags.team LIKE 'bl%'`)).toEqual(['b']);
    expect(await names(`name LIKE '${prefix}-%' AND tags.team ILIKE 'RED'`)).toEqual(['a', 'c']);
    expect(await names(`name LIKE '${prefix}-%'`, ['name DESC'])).toEqual(['c', 'b', 'a']);
    // b got versions last, which touched it.
    expect((await names(`name LIKE '${prefix}-%'`, ['last_updated_timestamp DESC']))[0]).toBe('b');
    const page1 = await r.searchRegisteredModels({ filter: `name LIKE '${prefix}-%'`, maxResults: 2 });
    const page2 = await r.searchRegisteredModels({ filter: `name LIKE '${prefix}-%'`, maxResults: 2, pageToken: page1.nextPageToken });
    expect([...page1.items, ...page2.items].map((m) => m.name.slice(prefix.length + 1))).toEqual(['a', 'b', 'c']);
    expect(page2.nextPageToken).toBeUndefined();
    await rejectsWith(r.searchRegisteredModels({ filter: "version_number = 1" }), 'INVALID_PARAMETER_VALUE', /unknown attribute/);
  });

  it('filters versions by name, run_id (IN), source_path, version_number and tags, and orders them', async () => {
    const r = platform().registry;
    const prefix = `VS${uid()}`;
    const [a, b] = await seed(prefix);
    const name = `${prefix}-b`;
    const versions = async (filter: string, orderBy?: string[]) => (await r.searchModelVersions({ filter, orderBy })).items.map((v) => v.version);
    expect(await versions(`name = '${name}'`)).toEqual(['3', '2', '1']);
    expect(await versions(`name = '${name}'`, ['version_number ASC'])).toEqual(['1', '2', '3']);
    expect(await versions(`run_id = '${a!.info.runId}'`)).toEqual(['3', '1']);
    expect(await versions(`run_id IN ('${b!.info.runId}', '${'0'.repeat(32)}')`)).toEqual(['2']);
    expect(await versions(`name = '${name}' AND run_id NOT IN ('${b!.info.runId}')`)).toEqual(['3', '1']);
    expect(await versions(`source_path LIKE 'runs:/${b!.info.runId}/%'`)).toEqual(['2']);
    expect(await versions(`name = '${name}' AND version_number >= 2`)).toEqual(['3', '2']);
    expect(await versions(`name = '${name}' AND tags.validated = 'Yes'`)).toEqual(['2']);
    expect(await versions(`name = '${name}' AND tags.validated ILIKE 'yes'`)).toEqual(['2']);
    expect(await versions(`name = '${name}' AND tags.validated = 'yes'`)).toEqual([]);
    await r.deleteModelVersion(name, 3);
    expect(await versions(`name = '${name}'`)).toEqual(['2', '1']);
    expect((await r.getLatestVersions(name)).map((v) => v.version)).toEqual(['2']);
  });
}

// ---------------------------------------------------------------------------------------------

function loggedModelTests({ platform }: Ctx): void {
  const setup = async () => {
    const p = platform();
    const expId = await p.tracking.createExperiment({ name: `logged-${uid()}` });
    const run = await p.tracking.createRun({ experimentId: expId });
    await p.tracking.logBatch(run.info.runId, { params: [{ key: 'C', value: '1.0' }], metrics: [{ key: 'f1', value: 0.7 }] });
    return { p, expId, run };
  };

  it('creates a PENDING model with its own folder, params and tags; finalizes, tags and deletes it', async () => {
    const { p, expId, run } = await setup();
    const lm = p.loggedModels;
    const m = await lm.create({
      experimentId: expId,
      name: 'model',
      modelType: 'Classifier',
      sourceRunId: run.info.runId,
      params: [{ key: 'C', value: '1.0' }],
      tags: [{ key: 'mlflow.user', value: 'ada' }],
    });
    expect(m).toMatchObject({
      experimentId: expId,
      name: 'model',
      status: 'PENDING',
      modelType: 'Classifier',
      sourceRunId: run.info.runId,
      lifecycleStage: 'active',
      artifactLocation: `mlflow-artifacts:/${expId}/models/${m.modelId}/artifacts`,
      params: { C: '1.0' },
      tags: { 'mlflow.user': 'ada' },
      metrics: [],
    });
    expect(m.modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(await lm.get(m.modelId)).toEqual(m);
    expect((await lm.finalize(m.modelId, 'READY')).status).toBe('READY');
    await rejectsWith(lm.finalize(m.modelId, 'DONE'), 'INVALID_PARAMETER_VALUE');

    await lm.logParams(m.modelId, [{ key: 'C', value: '1.0' }, { key: 'penalty', value: 'l2' }]);
    await rejectsWith(lm.logParams(m.modelId, [{ key: 'C', value: '2.0' }]), 'INVALID_PARAMETER_VALUE', /cannot change/);
    await lm.setTags(m.modelId, [{ key: 'stage', value: 'a' }]);
    await lm.setTags(m.modelId, [{ key: 'stage', value: 'b' }]);
    await lm.deleteTag(m.modelId, 'mlflow.user');
    await rejectsWith(lm.deleteTag(m.modelId, 'mlflow.user'), 'RESOURCE_DOES_NOT_EXIST');
    const now = await lm.get(m.modelId);
    expect(now).toMatchObject({ params: { C: '1.0', penalty: 'l2' }, tags: { stage: 'b' } });
    expect(now.lastUpdatedTime).toBeGreaterThanOrEqual(m.lastUpdatedTime);

    await lm.delete(m.modelId);
    await rejectsWith(lm.get(m.modelId), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(lm.get(`m-${'0'.repeat(32)}`), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(lm.create({ experimentId: '987654' }), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(lm.create({ experimentId: expId, sourceRunId: '0'.repeat(32) }), 'RESOURCE_DOES_NOT_EXIST');
  });

  it('keeps linked metrics with NaN and infinities, datasets and runs', async () => {
    const { p, expId, run } = await setup();
    const m = await p.loggedModels.create({ experimentId: expId, sourceRunId: run.info.runId });
    await p.loggedModels.recordMetrics(m.modelId, [
      { key: 'acc', value: 0.5, step: 0, timestamp: 10, runId: run.info.runId, datasetName: 'test', datasetDigest: 'd1' },
      { key: 'acc', value: 0.75, step: 1, timestamp: 20, runId: run.info.runId, datasetName: 'test', datasetDigest: 'd1' },
      { key: 'loss', value: NaN, step: 0, timestamp: 10 },
      { key: 'ratio', value: Infinity, step: 0, timestamp: 10 },
      { key: 'ratio', value: -Infinity, step: 1, timestamp: 10 },
    ]);
    const metrics = (await p.loggedModels.get(m.modelId)).metrics;
    expect(metrics.map((x) => [x.key, x.step, x.value])).toEqual([
      ['acc', 0, 0.5],
      ['acc', 1, 0.75],
      ['loss', 0, NaN],
      ['ratio', 0, Infinity],
      ['ratio', 1, -Infinity],
    ]);
    expect(metrics[1]).toMatchObject({ runId: run.info.runId, datasetName: 'test', datasetDigest: 'd1', timestamp: 20 });
  });

  it('searches by experiment with attribute, param, tag and metric filters, metric order and paging', async () => {
    const { p, expId, run } = await setup();
    const lm = p.loggedModels;
    const made = [];
    for (const [name, acc, team] of [
      ['one', 0.5, 'red'],
      ['two', 0.9, 'blue'],
      ['three', 0.7, 'red'],
      ['four', undefined, 'red'],
    ] as const) {
      const m = await lm.create({ experimentId: expId, name, sourceRunId: run.info.runId, params: [{ key: 'acc', value: String(acc) }], tags: [{ key: 'team', value: team }] });
      if (acc !== undefined) await lm.recordMetrics(m.modelId, [{ key: 'acc', value: acc, datasetName: 'eval' }]);
      made.push(m);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const names = async (input: Omit<Parameters<typeof lm.search>[0], 'experimentIds'> = {}) => (await lm.search({ experimentIds: [expId], ...input })).items.map((m) => m.name);
    expect(await names()).toEqual(['four', 'three', 'two', 'one']);
    expect(await names({ filter: "tags.team = 'red' AND name LIKE 't%'" })).toEqual(['three']);
    expect(await names({ filter: "name IN ('one', 'two')" })).toEqual(['two', 'one']);
    expect(await names({ filter: "params.acc = '0.9'" })).toEqual(['two']);
    expect(await names({ filter: 'metrics.acc >= 0.7' })).toEqual(['three', 'two']);
    expect(await names({ filter: 'metrics.acc >= 0.7', datasets: [{ name: 'eval', digest: 'nope' }] })).toEqual([]);
    expect(await names({ orderBy: [{ field: 'metrics.acc', ascending: false }] })).toEqual(['two', 'three', 'one', 'four']);
    expect(await names({ orderBy: [{ field: 'metrics.acc', ascending: true }] })).toEqual(['one', 'three', 'two', 'four']);
    expect(await names({ orderBy: [{ field: 'name' }] })).toEqual(['four', 'one', 'three', 'two']);
    const page1 = await lm.search({ experimentIds: [expId], maxResults: 3 });
    const page2 = await lm.search({ experimentIds: [expId], maxResults: 3, pageToken: page1.nextPageToken });
    expect([...page1.items, ...page2.items].map((m) => m.name)).toEqual(['four', 'three', 'two', 'one']);
    expect(page2.nextPageToken).toBeUndefined();
    await lm.delete(made[1]!.modelId);
    expect(await names()).toEqual(['four', 'three', 'one']);
    await rejectsWith(lm.search({ experimentIds: [] }), 'INVALID_PARAMETER_VALUE');
    await rejectsWith(lm.search({ experimentIds: [expId], filter: 'metrics.acc LIKE 1' }), 'INVALID_PARAMETER_VALUE');
  });

  it('records the models a run output, at their steps', async () => {
    const { p, expId, run } = await setup();
    const lm = p.loggedModels;
    const a = await lm.create({ experimentId: expId, name: 'a', sourceRunId: run.info.runId });
    const b = await lm.create({ experimentId: expId, name: 'b', sourceRunId: run.info.runId });
    expect(await lm.runOutputs(run.info.runId)).toEqual([]);
    await lm.logOutputs(run.info.runId, [{ modelId: a.modelId, step: 0 }]);
    await lm.logOutputs(run.info.runId, [{ modelId: b.modelId, step: '3' }, { modelId: a.modelId, step: 5 }]);
    const byId = (x: { modelId: string }, y: { modelId: string }) => (x.modelId < y.modelId ? -1 : 1);
    expect((await lm.runOutputs(run.info.runId)).sort(byId)).toEqual(
      [
        { modelId: a.modelId, step: 5 },
        { modelId: b.modelId, step: 3 },
      ].sort(byId),
    );
    await lm.delete(b.modelId);
    expect(await lm.runOutputs(run.info.runId)).toEqual([{ modelId: a.modelId, step: 5 }]);
    await rejectsWith(lm.logOutputs(run.info.runId, [{ modelId: `m-${'2'.repeat(32)}` }]), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(lm.logOutputs(run.info.runId, [{ modelId: a.modelId, step: -1 }]), 'INVALID_PARAMETER_VALUE');
    await rejectsWith(lm.logOutputs('0'.repeat(32), [{ modelId: a.modelId }]), 'RESOURCE_DOES_NOT_EXIST');
  });

  it('registers a version from models:/<model_id> with the model folder, its signature and lineage to the source run', async () => {
    const { p, expId, run } = await setup();
    const m = await p.loggedModels.create({ experimentId: expId, name: 'clf', sourceRunId: run.info.runId });
    await p.loggedModels.logArtifact(m.modelId, 'MLmodel', 'flavors:\n  fluxops:\n    model_file: fluxops-model.json\n');
    await p.loggedModels.logArtifact(m.modelId, 'fluxops-model.json', serializeModel(tinyModel()));
    await p.loggedModels.finalize(m.modelId, 'READY');
    const name = `from-logged-${uid()}`;
    await p.registry.createRegisteredModel({ name });
    const mv = await p.registry.createModelVersion({ name, source: `models:/${m.modelId}` });
    expect(mv).toMatchObject({
      source: `models:/${m.modelId}`,
      modelId: m.modelId,
      runId: run.info.runId,
      storageLocation: `${expId}/models/${m.modelId}/artifacts`,
      flavor: 'fluxops',
      statusMessage: 'servable (fluxops)',
      metrics: { f1: 0.7 },
    });
    expect(mv.signature?.inputs.map((i) => i.name)).toEqual(['x1', 'x2']);
    expect((await p.registry.lineage(name, 1)).run).toMatchObject({ runId: run.info.runId, params: { C: '1.0' } });
    // A runs:/ source naming the logged model (MLflow 3 keeps models out of the run folder) finds it.
    const viaRun = await p.registry.createModelVersion({ name, source: `runs:/${run.info.runId}/clf` });
    expect(viaRun).toMatchObject({ version: '2', modelId: m.modelId, storageLocation: mv.storageLocation });
    await rejectsWith(p.registry.createModelVersion({ name, source: `models:/m-${'1'.repeat(32)}` }), 'RESOURCE_DOES_NOT_EXIST', /Logged model/);
    await p.loggedModels.delete(m.modelId);
    await rejectsWith(p.registry.createModelVersion({ name, source: `models:/${m.modelId}` }), 'RESOURCE_DOES_NOT_EXIST');
    // The registered versions stay.
    expect((await p.registry.getModelVersion(name, 1)).modelId).toBe(m.modelId);
  });
}

// ---------------------------------------------------------------------------------------------

function keyTests({ platform }: Ctx): void {
  it('creates a key shown once, verifies it, stores only a hash, and refuses it once revoked', async () => {
    const p = platform();
    const { key, info } = await p.keys.create('ci');
    expect(key).toMatch(/^flx_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(info)).not.toContain(key.slice(-43));
    const listed = await p.keys.list();
    expect(listed.find((k) => k.keyId === info.keyId)).toEqual({
      keyId: info.keyId,
      name: 'ci',
      role: 'predict',
      scopes: [],
      createdAt: info.createdAt,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(JSON.stringify(listed)).not.toContain(key.slice(-43));

    expect(await p.keys.verify(key)).toEqual({ keyId: info.keyId, name: 'ci', role: 'predict', scopes: [] });
    await rejectsWith(p.keys.verify(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`), 'UNAUTHENTICATED');
    await rejectsWith(p.keys.verify('flx_nonsense'), 'UNAUTHENTICATED');

    const row = await p.db.db.selectFrom('api_keys').selectAll().where('key_id', '=', info.keyId).executeTakeFirstOrThrow();
    expect(row.secret_hash).not.toBe(key);
    expect(row.secret_hash).not.toContain(key.slice(-43));
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);

    await p.keys.revoke(info.keyId);
    await rejectsWith(p.keys.verify(key), 'UNAUTHENTICATED', /revoked/);
    expect((await p.keys.list()).find((k) => k.keyId === info.keyId)?.revokedAt).toBeGreaterThan(0);
    await rejectsWith(p.keys.revoke('000000000000'), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(p.keys.create(''), 'INVALID_PARAMETER_VALUE');
  });

  it('keys have a role, optional model scopes and an expiry; bad ones are refused naming the field', async () => {
    const p = platform();
    const admin = await p.keys.create('root', { role: 'admin' });
    expect((await p.keys.verify(admin.key)).role).toBe('admin');
    const scoped = await p.keys.create('scoring', { role: 'predict', scopes: ['model:diabetes', 'endpoint:diabetes-prod'] });
    expect(scoped.info.scopes).toEqual(['model:diabetes', 'endpoint:diabetes-prod']);
    expect((await p.keys.verify(scoped.key)).scopes).toEqual([
      { kind: 'model', name: 'diabetes' },
      { kind: 'endpoint', name: 'diabetes-prod' },
    ]);
    const expiring = await p.keys.create('temp', { role: 'viewer', expires: '30d' });
    expect(expiring.info.expiresAt! - Date.now()).toBeGreaterThan(29 * 86_400_000);
    await rejectsWith(p.keys.create('x', { role: 'root' }), 'INVALID_PARAMETER_VALUE', /role must be one of viewer, developer, predict, approver, admin/);
    await rejectsWith(p.keys.create('x', { scopes: ['diabetes'] }), 'INVALID_PARAMETER_VALUE', /scope must be model:<name>/);
    await rejectsWith(p.keys.create('x', { role: 'developer', scopes: ['model:diabetes'] }), 'INVALID_PARAMETER_VALUE', /cannot be scoped/);
    // run:<id> scopes are a developer key's alone, and alone.
    await rejectsWith(p.keys.create('x', { role: 'predict', scopes: [`run:${'a'.repeat(32)}`] }), 'INVALID_PARAMETER_VALUE', /give them alone, to a developer key/);
    await rejectsWith(p.keys.create('x', { role: 'developer', scopes: [`run:${'a'.repeat(32)}`, 'model:diabetes'] }), 'INVALID_PARAMETER_VALUE', /give them alone, to a developer key/);
    await rejectsWith(p.keys.create('x', { role: 'developer', scopes: ['run:not-a-run'] }), 'INVALID_PARAMETER_VALUE', /run:<run id>/);
    expect((await p.keys.create('step', { role: 'developer', scopes: [`run:${'a'.repeat(32)}`] })).info.scopes).toEqual([`run:${'a'.repeat(32)}`]);
    await rejectsWith(p.keys.create('x', { expires: '30 days' }), 'INVALID_PARAMETER_VALUE', /expires must be a duration/);
    await rejectsWith(p.keys.create('x', { expires: Date.now() - 1 }), 'INVALID_PARAMETER_VALUE', /future/);
  });

  it('refuses an expired key and records when a key was last used', async () => {
    const p = platform();
    const k = await p.keys.create('short', { role: 'viewer', expires: Date.now() + 300 });
    expect((await p.keys.verify(k.key)).name).toBe('short');
    await expect.poll(async () => (await p.keys.get(k.info.keyId))?.lastUsedAt ?? null).toBeGreaterThanOrEqual(k.info.createdAt);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await rejectsWith(p.keys.verify(k.key), 'UNAUTHENTICATED', /expired/);
  });

  it('a revocation made through another connection to the same store lands within a second', async () => {
    // Two API replicas share one database; the second one's cache must not keep a revoked key alive.
    const p = platform();
    const { key, info } = await p.keys.create('replica');
    const { KeyService, KyselyKeyStore } = await import('../../src/auth/index.js');
    const other = new KeyService(new KyselyKeyStore(p.db));
    expect((await other.verify(key)).keyId).toBe(info.keyId);
    await p.keys.revoke(info.keyId);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await rejectsWith(other.verify(key), 'UNAUTHENTICATED');
  });

  it('appends audit entries from concurrent writers in order and reads them by time and cursor', async () => {
    const p = platform();
    const { AuditLog, KyselyAuditStore } = await import('../../src/auth/index.js');
    const second = new AuditLog(new KyselyAuditStore(p.db));
    const start = Date.now();
    const entry = (i: number) => ({ time: Date.now(), keyId: null, keyName: `k${i}`, role: 'admin', method: 'POST', route: '/api/v1/keys', target: `name=k${i}`, status: 201, requestId: `r${i}` });
    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? p.audit : second).record(entry(i))));
    const all = await p.audit.list({ since: start, limit: 10_000 });
    const mine = all.entries.filter((e) => e.requestId.startsWith('r') && e.time >= start);
    expect(new Set(mine.map((e) => e.requestId)).size).toBe(60);
    const seqs = all.entries.map((e) => e.seq!);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const page = await p.audit.list({ since: start, limit: 25 });
    expect(page.entries).toHaveLength(25);
    const next = await p.audit.list({ since: start, after: page.nextAfter, limit: 10_000 });
    expect(next.entries[0]!.seq).toBeGreaterThan(page.entries.at(-1)!.seq!);
    await rejectsWith(p.audit.list({ limit: 0 }), 'INVALID_PARAMETER_VALUE', /limit/);
  });
}

// ---------------------------------------------------------------------------------------------

function uid(): string {
  return randomBytes(4).toString('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function dataset(name: string, context: string): DatasetInput {
  return {
    name,
    digest: sha256(`${name} bytes`),
    sourceType: 'local',
    source: `file:///data/${name}.csv`,
    schema: JSON.stringify({ columns: [{ name: 'x1', type: 'double' }, { name: 'x2', type: 'double' }, { name: 'y', type: 'long' }] }),
    profile: JSON.stringify({ num_rows: 100 }),
    context,
    tags: [{ key: 'mlflow.data.context', value: context }],
  };
}


/** Awaits a rejection and checks it is a FluxError with the code (and message) expected. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<FluxError> {
  const outcome = await promise.then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a ${code} error, but the call succeeded with ${JSON.stringify(outcome.value)?.slice(0, 200)}`);
  const e = outcome.error;
  if (!(e instanceof FluxError)) throw new Error(`expected a FluxError ${code}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  expect(e.code, e.message).toBe(code);
  if (message !== undefined) expect(e.message).toMatch(message);
  return e;
}
