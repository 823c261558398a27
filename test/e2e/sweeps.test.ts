/**
 * Sweeps: the reference sweep (`examples/reference/sweep.yaml`: 20 trials, 4 at a time, random
 * over C, max_iter and solver, maximising F1) on a real server, which registers its best trial;
 * TPE against random sampling on the same budget over several seeds; early termination of
 * command trials that log their objective; and a sweep whose worker is killed resuming on
 * another worker without repeating a finished trial.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import { SweepStore, type PipelineRun, type TrialRow } from '../../src/pipelines/index.js';
import { createSampler, parseSearchSpace, type TrialRecord } from '../../src/pipelines/sweep/index.js';
import { openDatabase } from '../../src/storage/db/index.js';
import { loadCsv, trainClassifier } from '../../src/training/index.js';
import { openPlatformOn, postgresBackend, tmpDir } from '../helpers/backends.js';
import { assertBuilt, ROOT, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';
import { ended } from '../helpers/pipelines.js';

const DATA = path.resolve(ROOT, '../shared/data/diabetes.csv');
const haveData = fs.existsSync(DATA);
if (!haveData) console.log(`skipping the reference sweep tests: ${DATA} is absent (it sits beside the checkout in CI)`);
const SPACE = { C: 'choice(0.01, 0.1, 1, 10, 100)', max_iter: 'choice(100, 200, 300)', solver: 'choice(liblinear, saga)' };

/** Most trials running at one moment, from their start and end times. */
function peakConcurrency(trials: TrialRow[]): number {
  const edges = trials.flatMap((t) => [[t.startedAt, 1], [t.finishedAt ?? Infinity, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (now += d));
  return peak;
}

describe.skipIf(!haveData)('the reference sweep on a real server', () => {
  const home = freshHome('fluxops-sweep-');
  let server: ChildProcess;
  let client: FluxClient;
  let url = '';
  beforeAll(async () => {
    assertBuilt();
    const s = await startCli(['--home', home, 'server', '--port', '0', '--job-concurrency', '5'], /listening on (http:\/\/\S+)/);
    server = s.child;
    url = s.match[1]!;
    client = new FluxClient({ url });
  }, 60_000);
  afterAll(async () => {
    if (server) await stop(server);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('runs 20 trials 4 at a time as child runs, and registers the best', async () => {
    const r = await runCli(['--url', url, '--json', 'pipelines', 'run', path.join(ROOT, 'examples/reference/sweep.yaml'), '--detach']);
    expect(r.code, r.stderr).toBe(0);
    const run = await ended(client, (JSON.parse(r.stdout) as PipelineRun).id, 300_000);
    const step = run.steps[0]!;
    expect(run.status, step.error ?? '').toBe('succeeded');
    const out = step.outputs as { sweep: string; best_value: number; best_trial: number; best_run_id: string; run_id: string; trials: Record<string, number>; model: string; version: string };
    expect(out.trials).toEqual({ completed: 20, failed: 0, pruned: 0 });
    expect(out).toMatchObject({ model: 'diabetes', version: '1' });
    const db = openDatabase(`sqlite:${path.join(home, 'fluxops.db')}`);
    const trials = await new SweepStore(db).trials(out.sweep).finally(() => db.close());
    expect(trials.map((t) => t.number)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(peakConcurrency(trials)).toBe(4);
    const best = Math.max(...trials.map((t) => t.value!));
    expect(out.best_value).toBe(best);
    const child = await client.getRun(out.best_run_id);
    expect(child.data.tags['mlflow.parentRunId']).toBe(out.run_id);
    const version = await client.getModelVersion('diabetes', '1');
    expect(version.runId).toBe(out.best_run_id);
    const logs = (await client.pipelineLogs(run.id)).lines.map((l) => l.text);
    expect(logs.some((l) => /^\[#+\.*\] \d+\/20 done, \d running, 0 pruned, 0 failed, best f1 0\.\d{4} \(trial \d+\)$/.test(l))).toBe(true);
    console.log(`reference sweep (random, 20 trials, 4 at a time): best f1 ${best.toFixed(4)} (trial ${out.best_trial}), registered as diabetes v1`);
  }, 330_000);
});

describe.skipIf(!haveData)('TPE against random sampling on the reference sweep\'s space and budget', () => {
  it('reaches at least the random sweep\'s best f1, averaged over seeds', () => {
    const dataset = loadCsv(fs.readFileSync(DATA, 'utf8'), { source: DATA });
    const space = parseSearchSpace(SPACE);
    // The trainer is deterministic given its params (and its split seed): each point is trained once.
    const cache = new Map<string, number>();
    const f1 = (p: Record<string, unknown>) => {
      const key = JSON.stringify([p['C'], p['max_iter'], p['solver']]);
      if (!cache.has(key)) cache.set(key, trainClassifier({ dataset, target: 'Diabetic', exclude: ['PatientID'], params: p as Record<string, string | number> }).metrics.f1);
      return cache.get(key)!;
    };
    const seeds = [1, 2, 3, 4, 5];
    const bestOf = (kind: 'random' | 'tpe', seed: number) => {
      const sampler = createSampler(kind, space, { direction: 'maximize', seed });
      const history: TrialRecord[] = [];
      for (let n = 1; n <= 20; n++) {
        const params = sampler.suggest(history);
        if (params === null) break;
        history.push({ number: n, params, status: 'completed', value: f1(params), intermediate: [] });
      }
      const values = history.map((h) => h.value!);
      const best = Math.max(...values);
      return { best, mean: values.reduce((a, b) => a + b, 0) / values.length, first: values.indexOf(best) + 1 };
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const random = seeds.map((s) => bestOf('random', s));
    const tpe = seeds.map((s) => bestOf('tpe', s));
    const show = (xs: Array<{ best: number; mean: number; first: number }>) =>
      `best ${mean(xs.map((x) => x.best)).toFixed(6)}, mean trial ${mean(xs.map((x) => x.mean)).toFixed(6)}, best reached at trial ${mean(xs.map((x) => x.first)).toFixed(1)} on average`;
    console.log(`f1 over ${seeds.length} seeds, 20 trials each, on ${cache.size} distinct points of the 30 (top f1 in the space ${Math.max(...cache.values()).toFixed(6)}):\n  random: ${show(random)}\n  TPE:    ${show(tpe)}`);
    expect(mean(tpe.map((x) => x.best))).toBeGreaterThanOrEqual(mean(random.map((x) => x.best)));
  }, 300_000);
});

describe('early termination and crash resume', () => {
  const pgUrl = inject('pgUrl');
  it('stops command trials that fall behind (median stopping), from the metrics they log', async () => {
    assertBuilt();
    const home = freshHome('fluxops-prune-');
    const dir = tmpDir();
    // A trial logs "score" = x·step at steps 1..6, half a second apart; the lower x, the worse.
    fs.writeFileSync(
      path.join(dir, 'trial.py'),
      [
        'import json, os, sys, time, urllib.request',
        'uri, run, token = os.environ["MLFLOW_TRACKING_URI"], os.environ["MLFLOW_RUN_ID"], os.environ["MLFLOW_TRACKING_TOKEN"]',
        'x = float(sys.argv[1])',
        'for step in range(1, 7):',
        '    body = json.dumps({"run_id": run, "key": "score", "value": x * step, "timestamp": int(time.time() * 1000), "step": step}).encode()',
        '    urllib.request.urlopen(urllib.request.Request(uri + "/api/2.0/mlflow/runs/log-metric", data=body, headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})).read()',
        '    time.sleep(0.5)',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'prune.yaml'),
      [
        'name: prune',
        'steps:',
        '  sweep:',
        '    type: sweep',
        '    with:',
        '      command: python3 trial.py ${{ trial.x }}',
        '      search_space: { x: "choice(1, 2, 3, 4, 5, 6)" }',
        '      sampling: grid',
        '      objective: { metric: score, goal: maximize }',
        '      max_trials: 6',
        '      max_concurrent_trials: 6',
        '      early_termination: { policy: median-stopping, evaluation_interval: 1, delay_evaluation: 2 }',
      ].join('\n'),
    );
    const s = await startCli(['--home', home, 'server', '--port', '0', '--job-concurrency', '8'], /listening on (http:\/\/\S+)/);
    try {
      const client = new FluxClient({ url: s.match[1]! });
      const r = await runCli(['--url', s.match[1]!, '--json', 'pipelines', 'run', path.join(dir, 'prune.yaml'), '--detach']);
      expect(r.code, r.stderr).toBe(0);
      const run = await ended(client, (JSON.parse(r.stdout) as PipelineRun).id, 120_000);
      const out = run.steps[0]!.outputs as { trials: Record<string, number>; best_params: { x: number } };
      expect(run.status, run.steps[0]!.error ?? '').toBe('succeeded');
      expect(out.trials['pruned']).toBeGreaterThanOrEqual(1);
      expect(out.best_params.x).toBe(6);
      const db = openDatabase(`sqlite:${path.join(home, 'fluxops.db')}`);
      const trials = await new SweepStore(db).trials((run.steps[0]!.outputs as { sweep: string }).sweep).finally(() => db.close());
      for (const t of trials.filter((x) => x.status === 'pruned')) {
        expect(t.error).toMatch(/median/i);
        expect(Number(t.params['x'])).toBeLessThanOrEqual(3);
      }
    } finally {
      await stop(s.child);
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 180_000);

  it.skipIf(!pgUrl || !haveData)('resumes a sweep whose worker was killed, without repeating a finished trial', async () => {
    assertBuilt();
    const url = await postgresBackend(pgUrl).freshDatabaseUrl();
    const platform = await openPlatformOn(url);
    const dir = tmpDir();
    const spec = [
      'name: resumable',
      'steps:',
      '  sweep:',
      '    type: sweep',
      '    with:',
      `      data: ${DATA}`,
      '      target: Diabetic',
      '      exclude: [PatientID]',
      '      search_space: { C: "choice(0.01, 0.1, 1, 10, 100)", max_iter: "choice(100, 200, 300)", solver: "choice(liblinear, saga)" }',
      '      sampling: random',
      '      seed: 7',
      '      max_trials: 8',
      '      max_concurrent_trials: 2',
    ].join('\n');
    const env = { FLUXOPS_DATABASE_URL: url, FLUXOPS_HOME: tmpDir() };
    const args = ['worker', '--concurrency', '3', '--lease', '2s'];
    // The first worker alone takes the sweep's own job.
    const a = await startCli(args, /taking jobs/, { env });
    const run = await platform.pipelines.start({ text: spec, baseDir: dir });
    const store = new SweepStore(platform.db);
    const b = await startCli(args, /taking jobs/, { env });
    try {
      await expect.poll(async () => (await platform.pipelines.get(run.id)).steps[0]!.status, { timeout: 30_000 }).toBe('running');
      const sweepId = async () => (await store.trials(`sw-${(await import('node:crypto')).createHash('sha256').update(`${run.id}/sweep`).digest('hex').slice(0, 12)}`));
      await expect.poll(async () => (await sweepId()).filter((t) => t.status === 'completed').length, { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(3);
      const before = (await sweepId()).filter((t) => t.status === 'completed');
      a.child.kill('SIGKILL');
      const done = await (async () => {
        const end = Date.now() + 240_000;
        for (;;) {
          const r = await platform.pipelines.get(run.id);
          if (r.status !== 'running') return r;
          if (Date.now() > end) throw new Error('the sweep did not finish after the kill');
          await new Promise((res) => setTimeout(res, 300));
        }
      })();
      expect(done.status, done.steps[0]!.error ?? '').toBe('succeeded');
      expect(done.steps[0]!.attempt).toBeGreaterThanOrEqual(2);
      const after = await sweepId();
      expect(after.map((t) => t.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      // The trials that had finished kept their runs and values: none was run again.
      for (const t of before) expect(after.find((x) => x.number === t.number)).toMatchObject({ status: 'completed', runId: t.runId, value: t.value });
      const logs = (await platform.pipelines.logs(run.id)).map((l) => l.text).join('\n');
      expect(logs).toMatch(/resumes: \d+ trials had finished/);
      console.log(`sweep resumed after SIGKILL: ${before.length} trials had finished and were kept; ${after.filter((t) => t.status === 'completed').length} completed in all`);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGINT');
      await new Promise((r) => b.child.once('close', r));
    }
  }, 300_000);
});
