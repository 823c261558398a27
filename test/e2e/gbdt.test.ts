/**
 * Gradient-boosted trees end to end: `fluxops train --algo gbdt` on a table with missing cells
 * and a text category, registered and served by a real server over FluxOps' API, the MLflow
 * scoring protocol and the Open Inference Protocol v2 (missing values as null, the category as
 * text); a regressor served the same way; batch scoring; a pipeline whose train step and sweep
 * use algo gbdt; and the CLI's refusals.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import type { PipelineRun } from '../../src/pipelines/index.js';
import { ended } from '../helpers/pipelines.js';
import { generateDiabetesCsv, generateFriedmanCsv, generateMulticlassCsv } from '../../src/training/index.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';

describe('gbdt end to end', () => {
  const home = freshHome('fluxops-gbdt-');
  const dir = fs.mkdtempSync(path.join(home, 'data-'));
  let server: { child: ChildProcess; match: RegExpMatchArray } | undefined;
  let url = '';
  let key = '';
  const post = async (p: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    assertBuilt();
    fs.writeFileSync(path.join(dir, 'multi.csv'), generateMulticlassCsv(4000, 3));
    fs.writeFileSync(path.join(dir, 'friedman.csv'), generateFriedmanCsv(3000, 5));
    fs.writeFileSync(path.join(dir, 'diabetes.csv'), generateDiabetesCsv(2000, 9));
  });
  afterAll(async () => {
    if (server) await stop(server.child);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('trains from the CLI with --algo gbdt, logging metrics, the learning curve and importances to the run', async () => {
    const r = await runCli(['--home', home, '--json', 'train', '--algo', 'gbdt', '--data', path.join(dir, 'multi.csv'), '--target', 'label', '--param', 'max_iter=30', '--register', 'multi', '--alias', 'production'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { run: { info: { runId: string } }; algorithm: string; task: string; metrics: Record<string, number>; params: Record<string, string>; featureImportance: Record<string, number> };
    expect(out.algorithm).toBe('gbdt');
    expect(out.task).toBe('classification');
    expect(Object.keys(out.metrics).sort()).toEqual(['accuracy', 'f1_macro', 'log_loss', 'precision_macro', 'recall_macro']);
    expect(out.metrics['accuracy']).toBeGreaterThan(0.6);
    expect(out.params).toMatchObject({ algo: 'gbdt', max_iter: '30', loss: 'log_loss', max_leaf_nodes: '31' });
    expect(Object.keys(out.featureImportance).sort()).toEqual(['a', 'b', 'c', 'd', 'noise', 'region']);
    const reg = await runCli(['--home', home, '--json', 'train', '--algo', 'gbdt', '--data', path.join(dir, 'friedman.csv'), '--target', 'y', '--param', 'max_iter=40', '--register', 'friedman', '--alias', 'production'], { timeoutMs: 120_000 });
    expect(reg.code, reg.stderr).toBe(0);
    expect((JSON.parse(reg.stdout) as { task: string; metrics: Record<string, number> }).metrics['r2']).toBeGreaterThan(0.8);

    const k = await runCli(['--home', home, '--json', 'keys', 'create', 'scorer', '--role', 'predict']);
    expect(k.code, k.stderr).toBe(0);
    key = (JSON.parse(k.stdout) as { key: string }).key;
    server = await startCli(['--home', home, 'server', '--port', '0'], /listening on (http:\/\/\S+)/, { timeoutMs: 60_000 });
    url = server.match[1]!;
    const client = new FluxClient({ url });
    const run = await client.getRun(out.run.info.runId);
    const history = await client.getMetricHistory(out.run.info.runId, 'train_loss');
    expect(history.items.map((m) => m.step)).toEqual(Array.from({ length: 31 }, (_, i) => i));
    expect(history.items[30]!.value).toBeLessThan(history.items[0]!.value);
    expect(run.data.tags['fluxops.trainer']).toBe('gbdt');
    const imp = JSON.parse((await client.readArtifact(out.run.info.runId, 'feature_importance.json')).toString('utf8')) as Record<string, number>;
    expect(imp).toEqual(out.featureImportance);
    for (const name of ['multi', 'friedman']) {
      await client.createEndpoint({ name });
      await client.deploy(name, { name: 'blue', model: `${name}@production` });
    }
    // The server learns of the endpoints from their events.
    for (const name of ['multi', 'friedman']) {
      const end = Date.now() + 30_000;
      while ((await fetch(`${url}/v2/models/${name}/ready`)).status !== 200) {
        if (Date.now() > end) throw new Error(`endpoint ${name} never became ready`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  }, 240_000);

  it('serves the classifier over the native API, MLflow scoring and OIP v2 alike, with null for missing and text categories', async () => {
    const rows = [
      { a: 1.2, b: -0.3, c: 0.5, d: 1, region: 'south', noise: 0 },
      { a: null, b: 1.5, c: -1.2, d: null, region: 'west', noise: 0.3 },
      { a: -0.7, b: 0.1, c: 1.9, d: -2, region: 'nowhere', noise: -1 },
    ];
    const native = await post('/api/v1/endpoints/multi/predict', { inputs: rows });
    expect(native.status, JSON.stringify(native.body)).toBe(200);
    expect(native.body['classes']).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const probs = native.body['probabilities'] as number[][];
    expect(probs).toHaveLength(3);
    for (const p of probs) expect(p.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
    const mlflow = await post('/api/v1/endpoints/multi/invocations', { dataframe_records: rows });
    expect(mlflow.status, JSON.stringify(mlflow.body)).toBe(200);
    expect(mlflow.body['predictions']).toEqual(native.body['predictions']);
    const columns = ['a', 'b', 'c', 'd', 'region', 'noise'] as const;
    const oip = await post('/v2/models/multi/infer', {
      inputs: columns.map((c) => ({ name: c, shape: [3], datatype: c === 'region' ? 'BYTES' : 'FP64', data: rows.map((r) => r[c]) })),
    });
    // JSON has no NaN: a missing number is null, in OIP as in the other protocols.
    expect(oip.status, JSON.stringify(oip.body)).toBe(200);
    const oipPred = (oip.body['outputs'] as Array<{ name: string; data: unknown[] }>).find((o) => o.name === 'prediction')!.data;
    expect(oipPred).toEqual(native.body['predictions']);
    const oipOk = oip;
    const outputs = oipOk.body['outputs'] as Array<{ name: string; data: unknown[] }>;
    expect(outputs.find((o) => o.name === 'probabilities')!.data).toHaveLength(12);
    // A text category where a number belongs, and a number where a category belongs, are refused by field.
    const bad = await post('/api/v1/endpoints/multi/predict', { inputs: [{ ...rows[0], a: 'high' }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/inputs\[0\]\.a must be a number/);
    const bad2 = await post('/api/v1/endpoints/multi/predict', { inputs: [{ ...rows[0], region: 3 }] });
    expect(bad2.status).toBe(400);
    expect(JSON.stringify(bad2.body)).toMatch(/inputs\[0\]\.region must be a text category/);
  });

  it('serves the regressor: values, no probabilities', async () => {
    const x = { x0: 0.5, x1: 0.5, x2: 0.5, x3: 0.5, x4: 0.5, x5: 0.1, x6: 0.2, x7: 0.3, x8: 0.4, x9: 0.5 };
    const res = await post('/api/v1/endpoints/friedman/predict', { inputs: [x, { ...x, x3: 1, x4: 1 }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [lo, hi] = res.body['predictions'] as number[];
    // y = 10 sin(π/4) + 0 + 10·x3 + 5·x4 ≈ 14.6 at the first row, +7.5 at the second.
    expect(lo!).toBeGreaterThan(11);
    expect(lo!).toBeLessThan(18);
    expect(hi! - lo!).toBeGreaterThan(4);
    expect(res.body['probabilities']).toBeUndefined();
    const oip = await post('/v2/models/friedman/infer', { inputs: [{ name: 'input', shape: [1, 10], datatype: 'FP64', data: Object.values(x) }] });
    expect(oip.status, JSON.stringify(oip.body)).toBe(200);
    expect((oip.body['outputs'] as Array<{ data: number[] }>)[0]!.data[0]).toBeCloseTo(lo!, 9);
  });

  it('scores a CSV in batch with missing cells and text categories', async () => {
    const input = path.join(dir, 'multi.csv');
    const output = path.join(dir, 'scored.csv');
    const r = await runCli(['--home', home, 'predict', '--model', 'multi@production', '--input', input, '--output', output], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = fs.readFileSync(output, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4001);
    expect(lines[0]).toMatch(/,prediction,probability_alpha,probability_beta,probability_delta,probability_gamma$/);
  }, 120_000);

  it('runs a pipeline whose train step and sweep use algo gbdt', async () => {
    const file = path.join(dir, 'gbdt.yaml');
    fs.writeFileSync(
      file,
      [
        'name: gbdt-pipeline',
        'steps:',
        '  train:',
        '    type: train',
        '    with: { data: diabetes.csv, target: Diabetic, algo: gbdt, params: { max_iter: 20, learning_rate: 0.2 } }',
        '  sweep:',
        '    type: sweep',
        '    with:',
        '      data: diabetes.csv',
        '      target: Diabetic',
        '      algo: gbdt',
        '      search_space: { learning_rate: "loguniform(0.03, 0.3)", max_leaf_nodes: "choice(7, 15, 31)", max_iter: "choice(10, 20)" }',
        '      sampling: random',
        '      objective: { metric: roc_auc, goal: maximize }',
        '      max_trials: 3',
        '      max_concurrent_trials: 1',
      ].join('\n'),
    );
    const r = await runCli(['--url', url, '--json', 'pipelines', 'run', file, '--detach']);
    expect(r.code, r.stderr).toBe(0);
    const client = new FluxClient({ url });
    const run = await ended(client, (JSON.parse(r.stdout) as PipelineRun).id, 180_000);
    expect(run.status, run.steps.map((s) => s.error).join('; ')).toBe('succeeded');
    const train = run.steps.find((s) => s.step === 'train')!.outputs as { algo: string; roc_auc: number; run_id: string };
    expect(train.algo).toBe('gbdt');
    expect(train.roc_auc).toBeGreaterThan(0.8);
    const sweep = run.steps.find((s) => s.step === 'sweep')!.outputs as { best_value: number; trials: Record<string, number> };
    expect(sweep.trials['completed']).toBe(3);
    expect(sweep.best_value).toBeGreaterThan(0.8);
  }, 240_000);

  it('refuses an unknown algo and a parameter of the other trainer, with a sentence', async () => {
    const a = await runCli(['--home', home, 'train', '--algo', 'forest', '--data', path.join(dir, 'diabetes.csv'), '--target', 'Diabetic']);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/forest/);
    const b = await runCli(['--home', home, 'train', '--algo', 'gbdt', '--data', path.join(dir, 'diabetes.csv'), '--target', 'Diabetic', '--param', 'C=1']);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/unknown parameter 'C' for algo gbdt/);
  });
});
