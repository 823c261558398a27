import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import { createPredictor, onnxMlmodelText, planOnnxModel, serializeModel, type GbdtModel } from '../../src/models/index.js';
import { generateDiabetesCsv, generateFriedmanCsv, generateMulticlassCsv, train } from '../../src/training/index.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { csvMatrix, maxRelativeDiff } from '../helpers/gbdt-data.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Gradient-boosted tree models trained here and registered as built-in versions, exported by
 * `fluxops models export --format onnx` (a child process against the running server), registered
 * back as ONNX versions and served: the ONNX deployment of an endpoint answers the native API as
 * the built-in deployment does (labels equal, probabilities and values within 1e-6 relative; the
 * tree operators output float32), and the exported binary model is the server's model.
 */

interface PredictBody {
  model: string;
  version: string;
  classes?: Array<number | string>;
  predictions: Array<number | string>;
  probabilities?: number[][];
  deployment?: string;
}

interface Case {
  name: string;
  model: GbdtModel;
  /** Request rows: generated rows with no missing cell (the native API takes numbers only). */
  rows: Array<Record<string, number>>;
}

function gbdtCase(name: string, csvText: string, target: string, testCsv: string, exclude?: string[]): Case {
  const model = train({ csvText, target, algo: 'gbdt', params: { max_iter: '20' }, ...(exclude !== undefined ? { exclude } : {}) }).model as GbdtModel;
  const { records } = csvMatrix(testCsv, model.signature.inputs.map((i) => i.name));
  const rows = records.filter((r): r is Record<string, number> => Object.values(r).every((v) => v !== null)).slice(0, 150);
  return { name, model, rows };
}

let s: TestServer;
let client: FluxClient;
let cases: Case[];
const exported = new Map<string, { summary: Record<string, unknown>; bytes: Buffer }>();

const call = (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}${p}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}`, ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

/** Logs a model folder's files as a run's artifacts and registers it under `name` (alias production). */
async function register(name: string, files: Record<string, Buffer | string>): Promise<string> {
  const run = await client.createRun({ experimentId: '0', runName: name });
  for (const [file, data] of Object.entries(files)) await client.logArtifact(run.info.runId, `model/${file}`, data);
  await client.endRun(run.info.runId, 'FINISHED');
  const mv = await client.registerModel({ name, source: `runs:/${run.info.runId}/model`, runId: run.info.runId });
  expect(mv.statusMessage, name).toMatch(/^servable/);
  await client.setAlias(name, 'production', mv.version);
  return mv.version;
}

/** An endpoint's answer from one deployment, retried while the server has not yet followed the endpoint's events. */
async function predictVia(endpoint: string, deployment: string, rows: unknown[]): Promise<PredictBody> {
  for (let i = 0; ; i++) {
    const res = await call('POST', `/api/v1/endpoints/${endpoint}/predict`, { inputs: rows }, { 'x-fluxops-deployment': deployment });
    if (res.status === 200) return (await res.json()) as PredictBody;
    if (i >= 250) throw new Error(`${endpoint}/${deployment}: ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  assertBuilt();
  s = await startTestServer({ seed: false, aliasPollMs: 200, model: 'diabetes-gbdt-onnx@production' });
  client = new FluxClient({ url: s.url, apiKey: s.key });
  cases = [
    gbdtCase('diabetes-gbdt', generateDiabetesCsv(1500, 5), 'Diabetic', generateDiabetesCsv(300, 6)),
    gbdtCase('classes-gbdt', generateMulticlassCsv(1500, 5), 'label', generateMulticlassCsv(300, 6), ['region']),
    gbdtCase('friedman-gbdt', generateFriedmanCsv(1500, 5), 'y', generateFriedmanCsv(300, 6)),
  ];
  for (const c of cases) {
    await register(c.name, { 'fluxops-model.json': serializeModel(c.model) });
    const out = path.join(s.home, `${c.name}.onnx`);
    const r = await runCli(['--url', s.url, '--api-key', s.key, '--json', 'models', 'export', `${c.name}/1`, '--format', 'onnx', '--out', out], { cwd: s.home });
    expect(r.code, r.stderr).toBe(0);
    const bytes = fs.readFileSync(out);
    exported.set(c.name, { summary: JSON.parse(r.stdout) as Record<string, unknown>, bytes });
    await register(`${c.name}-onnx`, { 'model.onnx': bytes, MLmodel: onnxMlmodelText({ signature: planOnnxModel(bytes, 'model.onnx').signature }) });
    expect((await call('POST', '/api/v1/endpoints', { name: c.name })).status).toBe(201);
    expect((await call('PUT', `/api/v1/endpoints/${c.name}/deployments/builtin`, { model: `${c.name}/1` })).status).toBe(200);
    expect((await call('PUT', `/api/v1/endpoints/${c.name}/deployments/onnx`, { model: `${c.name}-onnx/1` })).status).toBe(200);
  }
}, 120_000);
afterAll(() => s?.close());

describe('gbdt models exported to ONNX by the CLI and served', () => {
  it('fluxops models export writes each task (binary, multiclass, regression) and summarises it', () => {
    for (const c of cases) {
      const { summary, bytes } = exported.get(c.name)!;
      expect(summary).toMatchObject({ model: c.name, version: '1', format: 'onnx', bytes: bytes.length, inputs: c.model.signature.inputs.map((i) => i.name) });
      expect(summary.classes).toEqual(c.model.target.classes);
      expect(planOnnxModel(bytes, 'model.onnx').kind).toBe(c.model.task === 'regression' ? 'regressor' : 'classifier');
    }
  });

  it('the ONNX deployment answers the native API as the built-in one: labels equal, probabilities and values within 1e-6 relative', async () => {
    for (const c of cases) {
      const builtin = await predictVia(c.name, 'builtin', c.rows);
      const onnx = await predictVia(c.name, 'onnx', c.rows);
      expect(builtin.deployment).toBe('builtin');
      expect(onnx).toMatchObject({ deployment: 'onnx', model: `${c.name}-onnx`, version: '1' });
      expect(Object.keys(onnx)).toEqual(Object.keys(builtin));
      let rel: number;
      if (c.model.task === 'regression') {
        expect(onnx.classes).toBeUndefined();
        rel = maxRelativeDiff(builtin.predictions as number[], onnx.predictions as number[]);
      } else {
        expect(onnx.classes).toEqual(c.model.target.classes);
        expect(onnx.predictions).toEqual(builtin.predictions);
        expect(new Set(onnx.predictions).size).toBe(c.model.target.classes!.length);
        rel = maxRelativeDiff(builtin.probabilities!.flat(), onnx.probabilities!.flat());
      }
      console.log(`${c.name} (${c.model.task}), ${c.rows.length} rows served: ONNX vs built-in deployment, max relative difference ${rel.toExponential(2)}`);
      expect(rel).toBeLessThan(1e-6);
    }
  });

  it('refuses to export a model with a text input, naming it, with exit code 2', async () => {
    const model = train({ csvText: generateMulticlassCsv(600, 7), target: 'label', algo: 'gbdt', params: { max_iter: '5' } }).model as GbdtModel;
    expect(model.signature.inputs.find((i) => i.name === 'region')?.type).toBe('string');
    await register('regions-gbdt', { 'fluxops-model.json': serializeModel(model) });
    const out = path.join(s.home, 'regions.onnx');
    const r = await runCli(['--url', s.url, '--api-key', s.key, 'models', 'export', 'regions-gbdt/1', '--out', out], { cwd: s.home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("text input 'region' is categorical on text values");
    expect(fs.existsSync(out)).toBe(false);
  });

  it('serves the exported binary model as the server model, with the built-in predictor’s answers and the graph’s signature', async () => {
    const c = cases[0]!;
    for (let i = 0; ; i++) {
      const h = (await (await fetch(`${s.url}/api/health`)).json()) as { model: { name?: string } };
      if (h.model.name === 'diabetes-gbdt-onnx') break;
      if (i >= 500) throw new Error('diabetes-gbdt-onnx@production was not served');
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await call('POST', '/api/predict', { inputs: c.rows });
    expect(res.status).toBe(200);
    const body = (await res.json()) as PredictBody;
    expect(body).toMatchObject({ model: 'diabetes-gbdt-onnx', version: '1', classes: [0, 1] });
    const names = c.model.signature.inputs.map((i) => i.name);
    const X = Float64Array.from(c.rows.flatMap((r) => names.map((n) => r[n]!)));
    const expected = createPredictor(c.model).predictMatrixSync!(X, c.rows.length);
    expect(body.predictions).toEqual(expected.labels);
    expect(maxRelativeDiff(expected.probabilities!, body.probabilities!.flat())).toBeLessThan(1e-6);
    const info = (await (await fetch(`${s.url}/api/model-info`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ model: 'diabetes-gbdt-onnx', kind: 'classifier', flavor: 'onnx', classes: [0, 1], trained_at: c.model.trainedAt, signature: { inputs: c.model.signature.inputs } });
  });
});
