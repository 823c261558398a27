/**
 * The sweeps read API: a sweep and its trials written straight through the platform's store,
 * then read back by GET /api/v1/sweeps and /api/v1/sweeps/:id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepRecord } from '../../src/pipelines/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the sweeps API', () => {
  let s: TestServer;
  const get = async (p: string) => {
    const res = await fetch(`${s.url}/api/v1${p}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    s = await startTestServer();
    const store = s.platform.sweeps;
    const base = Date.now() - 60_000;
    const sweep = (id: string, pipelineRun: string, createdAt: number): SweepRecord => ({
      id,
      pipelineRun,
      step: 'tune',
      runId: `run-${id}`,
      spec: { metric: 'f1', direction: 'maximize', sampling: 'random', maxTrials: 5, maxConcurrent: 2 },
      status: 'running',
      bestTrial: null,
      bestValue: null,
      createdAt,
      updatedAt: createdAt,
      finishedAt: null,
    });
    const event = (id: string) => ({ type: 'sweep.started' as const, payload: { sweep: id, run_id: `run-${id}`, max_trials: 5, sampler: 'random' }, actor: null });
    expect(await store.create(sweep('sw-older0000000', 'pr-aaaaaaaaaaaa', base), event('sw-older0000000'))).toBe(true);
    expect(await store.create(sweep('sw-newer0000000', 'pr-bbbbbbbbbbbb', base + 1000), event('sw-newer0000000'))).toBe(true);
    const id = 'sw-newer0000000';
    const trial = (n: number, params: Record<string, string | number>) => ({ number: n, params, status: 'running' as const, value: null, intermediate: [], jobId: null, runId: null, error: null, startedAt: base + n * 100, finishedAt: null });
    expect(await store.addTrial(id, trial(1, { C: 0.1, solver: 'saga' }))).toBe(true);
    expect(await store.addTrial(id, trial(2, { C: 1, solver: 'liblinear' }))).toBe(true);
    expect(await store.addTrial(id, trial(3, { C: 10, solver: 'saga' }))).toBe(true);
    expect(await store.moveTrial(id, 1, { status: 'completed', value: 0.81, runId: 'trial-run-1', intermediate: [{ step: 0, value: 0.7 }, { step: 1, value: 0.81 }], finishedAt: base + 500 })).toBe(true);
    expect(await store.moveTrial(id, 2, { status: 'pruned', value: 0.4, runId: 'trial-run-2', error: 'pruned at step 1', finishedAt: base + 600 })).toBe(true);
    expect(await store.moveTrial(id, 3, { runId: 'trial-run-3' })).toBe(true);
  }, 60_000);
  afterAll(async () => s?.close());

  it('lists sweeps newest first, with the objective and budget from the spec and the ended trials', async () => {
    const r = await get('/sweeps');
    expect(r.status).toBe(200);
    const sweeps = r.body.sweeps as Array<Record<string, unknown>>;
    expect(sweeps.map((x) => x.id)).toEqual(['sw-newer0000000', 'sw-older0000000']);
    expect(sweeps[0]).toEqual({
      id: 'sw-newer0000000',
      pipelineRun: 'pr-bbbbbbbbbbbb',
      step: 'tune',
      runId: 'run-sw-newer0000000',
      status: 'running',
      bestTrial: null,
      bestValue: null,
      metric: 'f1',
      direction: 'maximize',
      sampling: 'random',
      maxTrials: 5,
      trialsDone: 2,
      createdAt: expect.any(Number) as number,
      updatedAt: expect.any(Number) as number,
      finishedAt: null,
    });
    expect(sweeps[1]!.trialsDone).toBe(0);
  });

  it('filters by pipeline run and limits', async () => {
    expect(((await get('/sweeps?pipeline_run=pr-aaaaaaaaaaaa')).body.sweeps as Array<{ id: string }>).map((x) => x.id)).toEqual(['sw-older0000000']);
    expect(((await get('/sweeps?pipeline_run=pr-nothing')).body.sweeps as unknown[]).length).toBe(0);
    expect(((await get('/sweeps?limit=1')).body.sweeps as Array<{ id: string }>).map((x) => x.id)).toEqual(['sw-newer0000000']);
  });

  it('refuses a limit outside 1..1000 with 400', async () => {
    for (const bad of ['0', '1001', 'many']) {
      const r = await get(`/sweeps?limit=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error_code, bad).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('shows one sweep with its trials in order', async () => {
    const r = await get('/sweeps/sw-newer0000000');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'sw-newer0000000', metric: 'f1', direction: 'maximize', maxTrials: 5, trialsDone: 2 });
    const trials = r.body.trials as Array<Record<string, unknown>>;
    expect(trials.map((t) => [t.number, t.status, t.value, t.runId])).toEqual([
      [1, 'completed', 0.81, 'trial-run-1'],
      [2, 'pruned', 0.4, 'trial-run-2'],
      [3, 'running', null, 'trial-run-3'],
    ]);
    expect(trials[0]).toEqual({
      number: 1,
      params: { C: 0.1, solver: 'saga' },
      status: 'completed',
      value: 0.81,
      intermediate: [{ step: 0, value: 0.7 }, { step: 1, value: 0.81 }],
      runId: 'trial-run-1',
      error: null,
      startedAt: expect.any(Number) as number,
      finishedAt: expect.any(Number) as number,
    });
    expect(trials[1]!.error).toBe('pruned at step 1');
    expect(trials[2]!.finishedAt).toBeNull();
  });

  it('answers 404 with a sentence naming a missing sweep', async () => {
    const r = await get('/sweeps/sw-missing00000');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no sweep sw-missing00000' });
  });
});
