/**
 * Pipelines on a real `fluxops server` (embedded store, its in-process job worker), driven by the
 * real CLI: validation with line and column, `run:` steps logging into their run through the
 * MLflow protocol with the injected variables, outputs between steps, retries with backoff,
 * timeouts, cancellation reaching the command's whole process group, caching, retry of a failed
 * run, logs -f, and event triggers.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import type { PipelineRun } from '../../src/pipelines/index.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome, seedModel } from '../helpers/server.js';
import { openPlatform } from '../../src/platform.js';
import { createLogger } from '../../src/logging/index.js';

describe('pipelines on a real server', () => {
  const home = freshHome('fluxops-pipes-');
  const dir = path.join(home, 'work');
  let server: ChildProcess;
  let url = '';
  let client: FluxClient;

  beforeAll(async () => {
    assertBuilt();
    fs.mkdirSync(dir);
    const admin = await runCli(['--home', home, '--json', 'keys', 'create', 'root', '--role', 'admin']);
    const s = await startCli(['--home', home, 'server', '--port', '0'], /listening on (http:\/\/\S+)/);
    server = s.child;
    url = s.match[1]!;
    client = new FluxClient({ url, apiKey: (JSON.parse(admin.stdout) as { key: string }).key });
  }, 120_000);
  afterAll(async () => {
    if (server) await stop(server);
    fs.rmSync(home, { recursive: true, force: true });
  });

  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const start = async (file: string, ...extra: string[]): Promise<PipelineRun> => {
    const r = await runCli(['--url', url, '--json', 'pipelines', 'run', file, '--detach', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as PipelineRun;
  };
  const ended = async (id: string, timeoutMs = 60_000): Promise<PipelineRun> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await client.getPipelineRun(id);
      if (r.status !== 'running') return r;
      if (Date.now() > end) throw new Error(`run ${id} still running: ${JSON.stringify(r.steps.map((s) => [s.step, s.status]))}`);
      await new Promise((res) => setTimeout(res, 150));
    }
  };
  const step = (r: PipelineRun, name: string) => r.steps.find((s) => s.step === name)!;
  const logText = async (id: string, s?: string) => (await client.pipelineLogs(id, { step: s, limit: 10_000 })).lines.map((l) => l.text).join('');

  it('validate names every problem with its line and column, and exits 2', async () => {
    const bad = write('bad.yaml', 'name: broken\nsteps:\n  train:\n    type: trian\n    with: {}\n  b:\n    run: echo ${{ steps.nope.outputs.x }}\n    needs: [ghost]\n');
    const r = await runCli(['pipelines', 'validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:4:11: steps.train.type: must be one of train, evaluate, compare, approve, register, deploy, smoke-test, sweep`);
    const cyc = write('cycle.yaml', 'name: cyc\nsteps:\n  a: { run: "true", needs: b }\n  b: { run: "true", needs: a }\n');
    const c = await runCli(['pipelines', 'validate', cyc]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/cycle\.yaml:3:\d+: steps\.a\.needs: steps a → b → a form a cycle/);
    const ok = await runCli(['pipelines', 'validate', path.resolve('examples/reference/pipeline.yaml')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('pipeline diabetes-delivery is valid, 5 steps');
    // The server refuses the same way, as a 400 naming the field.
    const res = await fetch(`${url}/api/v1/pipelines/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: 'name: x\nsteps: {}\n' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/pipeline\.yaml:2:8: steps: must NOT have fewer than 1 properties/);
  });

  it('run: steps log into their own run through MLflow\'s REST API with the injected variables, and hand outputs on', async () => {
    write(
      'log.py',
      [
        'import json, os, urllib.request',
        'uri, run, token = os.environ["MLFLOW_TRACKING_URI"], os.environ["MLFLOW_RUN_ID"], os.environ["MLFLOW_TRACKING_TOKEN"]',
        'body = json.dumps({"run_id": run, "key": "rmse", "value": 0.25, "timestamp": 1, "step": 0}).encode()',
        'req = urllib.request.Request(uri + "/api/2.0/mlflow/runs/log-metric", data=body, headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})',
        'urllib.request.urlopen(req).read()',
        'print("logged to", run, "in experiment", os.environ["MLFLOW_EXPERIMENT_ID"])',
        'open(os.environ["FLUXOPS_OUTPUTS"], "a").write("answer=42\\nlabel=done\\n")',
        '# The token writes to this run only: anything else is refused.',
        'try:',
        '    urllib.request.urlopen(urllib.request.Request(uri + "/api/2.0/mlflow/experiments/create", data=json.dumps({"name": "sneaky"}).encode(), headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})).read()',
        '    print("create experiment: allowed")',
        'except urllib.error.HTTPError as e:',
        '    print("create experiment:", e.code)',
      ].join('\n'),
    );
    const file = write('python.yaml', 'name: py\nsteps:\n  fit:\n    run: python3 log.py\n  report:\n    needs: fit\n    run: echo "answer ${{ steps.fit.outputs.answer }} from ${{ steps.fit.outputs.run_id }}" >&2\n');
    const run = await ended((await start(file)).id);
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    const fit = step(run, 'fit');
    expect(fit.outputs).toMatchObject({ answer: 42, label: 'done', exit_code: 0 });
    const tracked = await client.getRun(fit.trackingRunId!);
    expect(tracked.data.metrics.find((m) => m.key === 'rmse')?.value).toBe(0.25);
    expect(tracked.info.status).toBe('FINISHED');
    expect(tracked.data.tags['fluxops.pipeline_run']).toBe(run.id);
    expect(await logText(run.id, 'fit')).toContain(`logged to ${fit.trackingRunId}`);
    expect(await logText(run.id, 'fit')).toContain('create experiment: 403');
    const report = (await client.pipelineLogs(run.id, { step: 'report' })).lines;
    expect(report.find((l) => l.stream === 'stderr')?.text).toBe(`answer 42 from ${fit.trackingRunId}\n`);
    // The step's key was revoked when it ended.
    const keys = await client.list();
    expect(keys.filter((k) => k.name.startsWith(`pipeline-${run.id}`)).every((k) => k.revokedAt !== null)).toBe(true);
  });

  it('retries a failing step with backoff until it succeeds, and fails one that times out', async () => {
    const file = write(
      'flaky.yaml',
      [
        'name: flaky',
        'steps:',
        '  flaky:',
        '    run: n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "try $n"; [ $n -ge 3 ]',
        '    retries: 3',
        '    retry_delay: 1s',
        '    retry_backoff: true',
        '  slow:',
        '    run: sleep 30',
        '    timeout: 1s',
      ].join('\n'),
    );
    const started = Date.now();
    const run = await ended((await start(file)).id);
    expect(run.status).toBe('failed');
    expect(step(run, 'flaky')).toMatchObject({ status: 'succeeded', attempt: 3 });
    expect(await logText(run.id, 'flaky')).toMatch(/attempt 1 failed, retrying: the command exited with code 1[\s\S]*attempt 3 of 4/);
    expect(step(run, 'slow')).toMatchObject({ status: 'failed', error: 'timed out after 1s' });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('cancel stops a running command and what it started (its process group)', async () => {
    const file = write('long.yaml', 'name: long\nsteps:\n  wait:\n    run: sleep 120 & echo $! > child.pid; wait\n');
    const run = await start(file);
    const pidFile = path.join(dir, 'child.pid');
    await expect.poll(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', { timeout: 20_000 }).toBe(true);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).not.toThrow();
    const c = await runCli(['--url', url, '--json', 'pipelines', 'cancel', run.id]);
    expect(c.code, c.stderr).toBe(0);
    expect((JSON.parse(c.stdout) as PipelineRun).status).toBe('cancelled');
    await expect.poll(() => {
      try {
        process.kill(pid, 0);
        return 'alive';
      } catch {
        return 'gone';
      }
    }, { timeout: 15_000 }).toBe('gone');
    expect(step(await client.getPipelineRun(run.id), 'wait').status).toBe('cancelled');
  });

  it('reuses a step whose inputs are unchanged, runs it again when a file it reads changes or with --no-cache', async () => {
    write('input.txt', 'one');
    const file = write('cached.yaml', 'name: cached\nsteps:\n  hash:\n    run: cat input.txt >> seen.txt\n    inputs: [input.txt]\n');
    const first = await ended((await start(file)).id);
    const second = await ended((await start(file)).id);
    expect(step(second, 'hash').cachedFrom).toBe(`${first.id}/hash`);
    expect(step(second, 'hash').outputs).toEqual(step(first, 'hash').outputs);
    write('input.txt', 'two');
    const third = await ended((await start(file)).id);
    expect(step(third, 'hash').cachedFrom).toBeNull();
    const fourth = await ended((await start(file, '--no-cache')).id);
    expect(step(fourth, 'hash').cachedFrom).toBeNull();
    expect(fs.readFileSync(path.join(dir, 'seen.txt'), 'utf8')).toBe('onetwotwo');
  });

  it('retry re-runs only the failed step and what depends on it', async () => {
    const file = write(
      'retry.yaml',
      'name: again\nsteps:\n  a:\n    run: echo a >> order.txt\n    cache: false\n  b:\n    needs: a\n    run: test -f fixed && echo b >> order.txt\n  c:\n    needs: b\n    run: echo c >> order.txt\n  d:\n    needs: a\n    run: echo d >> order.txt\n    cache: false\n',
    );
    const failed = await ended((await start(file)).id);
    expect(failed.status).toBe('failed');
    expect([step(failed, 'b').status, step(failed, 'c').status, step(failed, 'd').status]).toEqual(['failed', 'skipped', 'succeeded']);
    fs.writeFileSync(path.join(dir, 'fixed'), '');
    const r = await runCli(['--url', url, '--json', 'pipelines', 'retry', failed.id, '--detach']);
    expect(r.code, r.stderr).toBe(0);
    const retried = await ended((JSON.parse(r.stdout) as PipelineRun).id);
    expect(retried).toMatchObject({ status: 'succeeded', retryOf: failed.id, trigger: 'retry' });
    expect(step(retried, 'a').cachedFrom).toBe(`${failed.id}/a`);
    expect(step(retried, 'd').cachedFrom).toBe(`${failed.id}/d`);
    expect(fs.readFileSync(path.join(dir, 'order.txt'), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('logs -f streams a running pipeline until it ends', async () => {
    const file = write('talk.yaml', 'name: talk\nsteps:\n  talk:\n    run: for i in 1 2 3 4 5; do echo "line $i"; sleep 0.3; done\n    cache: false\n');
    const run = await start(file);
    const r = await runCli(['--url', url, 'pipelines', 'logs', run.id, '-f'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[talk\] line 1\n[\s\S]*\[talk\] line 5\n/);
    expect((await client.getPipelineRun(run.id)).status).toBe('succeeded');
  });

  it('an event trigger starts its pipeline with params read from the event', async () => {
    const csv = write('train.csv', generateDiabetesCsv(400, 3));
    const file = write(
      'on-version.yaml',
      'name: on-version\non:\n  - event: model.version.created\n    filter: { model: trig }\n    params: { version: "${{ event.payload.version }}" }\nparams:\n  version: { type: string }\nsteps:\n  show:\n    run: echo "new version ${{ params.version }}"\n',
    );
    const reg = await runCli(['--url', url, 'pipelines', 'register', file]);
    expect(reg.code, reg.stderr).toBe(0);
    expect(reg.stdout).toContain('registered on-version: on model.version.created where model=trig');
    // Another model's version starts nothing; trig's does.
    for (const name of ['other', 'trig']) {
      const t = await runCli(['--url', url, 'train', '--data', csv, '--target', 'Diabetic', '--exclude', 'PatientID', '--register', name], { timeoutMs: 120_000 });
      expect(t.code, t.stderr).toBe(0);
    }
    await expect.poll(async () => (await client.listPipelineRuns({ pipeline: 'on-version' })).length, { timeout: 20_000 }).toBe(1);
    const [run] = await client.listPipelineRuns({ pipeline: 'on-version' });
    expect(run).toMatchObject({ trigger: 'event:model.version.created', params: { version: '1' } });
    const done = await ended(run!.id);
    expect(await logText(done.id)).toContain('new version 1');
  });

  it('evaluate scores a registered model on a CSV, and smoke-test calls an endpoint with a key of its own', async () => {
    const csv = write('eval.csv', generateDiabetesCsv(300, 9));
    const t = await runCli(['--url', url, 'train', '--data', csv, '--target', 'Diabetic', '--exclude', 'PatientID', '--register', 'scored'], { timeoutMs: 120_000 });
    expect(t.code, t.stderr).toBe(0);
    await client.createEndpoint({ name: 'smoke' });
    await client.deploy('smoke', { name: 'blue', model: 'scored/1' });
    const row = { Pregnancies: 1, PlasmaGlucose: 120, DiastolicBloodPressure: 70, TricepsThickness: 20, SerumInsulin: 80, BMI: 30, DiabetesPedigree: 0.4, Age: 35 };
    const file = write(
      'eval.yaml',
      [
        'name: evaluate',
        'steps:',
        '  score:',
        '    type: evaluate',
        '    with: { model: scored/1, data: eval.csv, target: Diabetic }',
        '  smoke:',
        '    type: smoke-test',
        '    needs: score',
        `    with: { endpoint: smoke, requests: [ { body: { inputs: [${JSON.stringify(row)}] }, status: 200 }, { body: { inputs: [{ BMI: "heavy" }] }, status: 400 } ] }`,
      ].join('\n'),
    );
    const run = await ended((await start(file)).id);
    expect(run.status, JSON.stringify(run.steps.map((x) => [x.step, x.error]))).toBe('succeeded');
    const score = step(run, 'score');
    expect(score).toMatchObject({ modelName: 'scored', modelVersion: '1' });
    expect(score.outputs).toMatchObject({ model: 'scored', version: '1', rows: 300 });
    const f1 = score.outputs!['f1'] as number;
    expect(f1).toBeGreaterThan(0);
    expect((await client.getRun(score.trackingRunId!)).data.metrics.find((m) => m.key === 'f1')?.value).toBe(f1);
    expect(step(run, 'smoke').outputs).toEqual({ endpoint: 'smoke', passed: 2, requests: 2 });
    const keys = await client.list();
    expect(keys.filter((k) => k.name === `pipeline-${run.id}-smoke`).map((k) => [k.role, k.scopes, k.revokedAt !== null])).toEqual([['predict', ['endpoint:smoke'], true]]);
  });

  it('trains a large data set off the server\'s thread (a worker thread), with its progress in the log', async () => {
    // 30,000 rows × 10 columns: above the size trained on the calling thread.
    write('big.csv', generateDiabetesCsv(30_000, 4));
    const file = write('big.yaml', 'name: big\nsteps:\n  fit:\n    type: train\n    with: { data: big.csv, target: Diabetic, exclude: [PatientID], params: { solver: saga, max_iter: 20 } }\n');
    const started = Date.now();
    const run = await start(file);
    // The server keeps answering while the solver runs.
    let slowest = 0;
    while ((await client.getPipelineRun(run.id)).status === 'running' && Date.now() - started < 120_000) {
      const t0 = Date.now();
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
      slowest = Math.max(slowest, Date.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    const done = await ended(run.id);
    expect(done.status, step(done, 'fit').error ?? '').toBe('succeeded');
    expect(step(done, 'fit').outputs!['f1']).toBeGreaterThan(0);
    expect(await logText(done.id, 'fit')).toMatch(/iteration \d+\/20 loss/);
    console.log(`off-thread training of 30,000 rows took ${((step(done, 'fit').finishedAt! - step(done, 'fit').startedAt!) / 1000).toFixed(1)} s; slowest /api/health meanwhile ${slowest} ms`);
  }, 150_000);

  it('pipelines run on a local home runs the steps in the command itself and exits by the outcome', async () => {
    const local = freshHome('fluxops-local-run-');
    try {
      const ok = write('local.yaml', 'name: local\nsteps:\n  hello:\n    run: echo "hello from $FLUXOPS_STEP"\n  after:\n    needs: hello\n    run: echo "tracking at $MLFLOW_TRACKING_URI"\n');
      const r = await runCli(['--home', local, 'pipelines', 'run', ok], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/\[hello\] hello from hello\n/);
      expect(r.stdout).toMatch(/\[after\] tracking at http:\/\/127\.0\.0\.1:\d+\n/);
      expect(r.stdout).toMatch(/pipeline run pr-[0-9a-f]{12} of local: succeeded/);
      const bad = write('local-bad.yaml', 'name: local-bad\nsteps:\n  nope:\n    run: exit 3\n');
      const f = await runCli(['--home', local, 'pipelines', 'run', bad], { timeoutMs: 60_000 });
      expect(f.code).toBe(1);
      expect(f.stdout).toMatch(/✗ nope failed: the command exited with code 3/);
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  });
});

describe('event triggers and downtime', () => {
  it('starts the run of an event committed while no process ran, once the next one starts', async () => {
    const home = freshHome('fluxops-trig-down-');
    try {
      const spec = 'name: on-alias\non:\n  - event: model.alias.changed\n    filter: { model: later, alias: production }\nsteps:\n  say:\n    run: echo moved\n';
      const quiet = createLogger({ level: 'silent' });
      // A CLI-like process: registers the trigger and makes the event, but runs no lifecycle.
      const cli = await openPlatform({ home }, { logger: quiet });
      await cli.pipelineTriggers.register(spec, 'on-alias.yaml', home);
      const seeded = await seedModel(cli, { rows: 200, aliases: [] });
      const v = await cli.registry.registerModel({ name: 'later', source: `runs:/${seeded.run.info.runId}/model`, runId: seeded.run.info.runId });
      await cli.registry.setAlias('later', 'production', v.version);
      await cli.close();
      expect(fs.existsSync(home)).toBe(true);
      // The next process to start its lifecycle goes over what it missed.
      const server = await openPlatform({ home }, { logger: quiet });
      try {
        await server.start();
        await expect.poll(async () => (await server.pipelines.list({ pipeline: 'on-alias' })).map((r) => r.trigger), { timeout: 10_000 }).toEqual(['event:model.alias.changed']);
        // A second start finds the cursor past it: no second run.
        await server.close();
        const again = await openPlatform({ home }, { logger: quiet });
        await again.start();
        await new Promise((r) => setTimeout(r, 500));
        expect((await again.pipelines.list({ pipeline: 'on-alias' })).length).toBe(1);
        await again.close();
      } finally {
        await server.close();
      }
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
