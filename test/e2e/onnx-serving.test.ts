import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import { createPredictor, exportToOnnx, onnxMlmodelText, parseModel, planOnnxModel, type LogisticModel } from '../../src/models/index.js';
import { MULTICLASS, REGRESSOR, multiclassExpected, multiclassOnnx, regressorExpected, regressorOnnx } from '../helpers/onnx-models.js';
import { SAMPLE, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * ONNX models registered through the real API (a run's artifacts: MLmodel + model.onnx, then a
 * model version and an alias) and served by a real server, checked against values computed here.
 */

interface PredictBody {
  request_id: string;
  model: string;
  version: string;
  classes?: Array<number | string>;
  predictions: Array<number | string>;
  probabilities?: number[][];
}

const post = (s: TestServer, body: unknown) =>
  fetch(`${s.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, body: JSON.stringify(body) });

/** Logs an ONNX model folder as a run's artifacts and registers it under `name` with the alias production. */
async function registerOnnx(s: TestServer, name: string, onnx: Uint8Array, mlmodel: string): Promise<string> {
  const client = new FluxClient({ url: s.url, apiKey: s.key });
  const run = await client.createRun({ experimentId: '0', runName: `${name}-onnx` });
  const runId = run.info.runId;
  await client.logArtifact(runId, 'model/model.onnx', Buffer.from(onnx));
  await client.logArtifact(runId, 'model/MLmodel', mlmodel);
  await client.endRun(runId, 'FINISHED');
  const mv = await client.registerModel({ name, source: `runs:/${runId}/model`, runId });
  expect(mv.statusMessage).toMatch(/^servable \(onnx/);
  await client.setAlias(name, 'production', mv.version);
  return mv.version;
}

async function waitServing(s: TestServer, name: string, version: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const h = (await (await fetch(`${s.url}/api/health`)).json()) as { model: { name?: string; version?: string; error?: string } };
    if (h.model.name === name && h.model.version === version) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${name} v${version} was not served`);
}

describe('an exported built-in model, served as ONNX', () => {
  let s: TestServer;
  let builtin: LogisticModel;
  beforeAll(async () => {
    s = await startTestServer({ model: 'diabetes-onnx@production', aliasPollMs: 200 });
    const client = new FluxClient({ url: s.url, apiKey: s.key });
    const v1 = await client.getModelVersion('diabetes', 1);
    builtin = parseModel((await client.readArtifact(v1.runId, 'model/fluxops-model.json')).toString('utf8')) as LogisticModel;
    const onnx = exportToOnnx(builtin);
    const version = await registerOnnx(s, 'diabetes-onnx', onnx, onnxMlmodelText({ signature: planOnnxModel(onnx, 'export').signature }));
    await waitServing(s, 'diabetes-onnx', version);
  });
  afterAll(() => s.close());

  it('answers /api/predict in the built-in shape with its probabilities (within 1e-5) and labels', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ ...SAMPLE, PlasmaGlucose: 60 + i * 4, BMI: 18 + (i % 9) * 3, Age: 21 + i }));
    const res = await post(s, { inputs: rows });
    expect(res.status).toBe(200);
    const body = (await res.json()) as PredictBody;
    expect(Object.keys(body)).toEqual(['request_id', 'model', 'version', 'classes', 'predictions', 'probabilities']);
    expect(body).toMatchObject({ model: 'diabetes-onnx', version: '1', classes: [0, 1] });
    // By hand from the model document: standardise, dot product, sigmoid.
    const names = builtin.signature.inputs.map((i) => i.name);
    const { mean, scale } = builtin.preprocessing.standardize;
    let maxDiff = 0;
    rows.forEach((row, i) => {
      const z = names.reduce((acc, n, j) => acc + (builtin.coefficients[j]! * (row[n as keyof typeof row] - mean[j]!)) / scale[j]!, builtin.intercept);
      const p1 = 1 / (1 + Math.exp(-z));
      maxDiff = Math.max(maxDiff, Math.abs(body.probabilities![i]![1]! - p1), Math.abs(body.probabilities![i]![0]! - (1 - p1)));
      expect(body.predictions[i]).toBe(p1 > 0.5 ? 1 : 0);
    });
    console.log(`served ONNX export vs the model computed by hand, 40 rows: max |Δp| = ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(new Set(body.predictions)).toEqual(new Set([0, 1]));
  });

  it('gives the answer the built-in predictor gives for the same model', async () => {
    const ours = (await (await post(s, { inputs: [SAMPLE] })).json()) as PredictBody;
    const X = Float64Array.from(builtin.signature.inputs.map((i) => SAMPLE[i.name as keyof typeof SAMPLE]));
    const expected = await createPredictor(builtin).predictMatrix(X, 1);
    expect(ours.predictions).toEqual(expected.labels);
    expect(Math.abs(ours.probabilities![0]![1]! - expected.probabilities![1]!)).toBeLessThan(1e-12);
  });

  it('describes the model with the signature read from the graph', async () => {
    const info = (await (await fetch(`${s.url}/api/model-info`)).json()) as Record<string, unknown> & { signature: { inputs: Array<{ name: string; type: string }> } };
    expect(info).toMatchObject({ model: 'diabetes-onnx', kind: 'classifier', flavor: 'onnx', classes: [0, 1], trained_at: builtin.trainedAt });
    expect(info.signature.inputs).toEqual(builtin.signature.inputs);
  });
});

describe('a multiclass ONNX classifier (LinearClassifier + ZipMap)', () => {
  let s: TestServer;
  const signature = { inputs: MULTICLASS.columns.map((name) => ({ name, type: 'float' })), outputs: [{ name: 'output_label', type: 'string' }] };
  beforeAll(async () => {
    s = await startTestServer({ model: 'iris@production', seed: false, aliasPollMs: 200 });
    await waitServing(s, 'iris', await registerOnnx(s, 'iris', multiclassOnnx(), onnxMlmodelText({ signature })));
  });
  afterAll(() => s.close());

  const flowers = [
    [5.1, 3.5, 1.4, 0.2],
    [6.2, 2.9, 4.3, 1.3],
    [7.7, 3.0, 6.1, 2.3],
    [5.9, 3.0, 5.1, 1.8],
  ];
  const records = flowers.map((f) => Object.fromEntries(MULTICLASS.columns.map((c, j) => [c, f[j]])));

  it('predicts labels and three probabilities per row, against softmax computed here', async () => {
    const res = await post(s, { inputs: records });
    expect(res.status).toBe(200);
    const body = (await res.json()) as PredictBody;
    expect(body.classes).toEqual(MULTICLASS.classes);
    flowers.forEach((f, i) => {
      const e = multiclassExpected(f);
      expect(body.predictions[i]).toBe(e.label);
      expect(body.probabilities![i]).toHaveLength(3);
      body.probabilities![i]!.forEach((p, c) => expect(Math.abs(p - e.probabilities[c]!)).toBeLessThan(1e-5));
    });
    expect(new Set(body.predictions).size).toBeGreaterThan(1);
    const split = (await (await post(s, { columns: [...MULTICLASS.columns].reverse(), data: flowers.map((f) => [...f].reverse()) })).json()) as PredictBody;
    expect(split.predictions).toEqual(body.predictions);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/fluxops_predictions_total\{model="iris",version="1",class="virginica"\} \d+/);
  });

  it('answers the Open Inference Protocol v2 with the same labels and probabilities', async () => {
    const res = await fetch(`${s.url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` },
      body: JSON.stringify({ id: 'q1', inputs: [{ name: 'input-0', shape: [flowers.length, 4], datatype: 'FP64', data: flowers.flat() }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; outputs: Array<{ name: string; shape: number[]; data: Array<number | string> }> };
    expect(body.id).toBe('q1');
    const byName = Object.fromEntries(body.outputs.map((o) => [o.name, o]));
    expect(byName.prediction?.data).toEqual(flowers.map((f) => multiclassExpected(f).label));
    expect(byName.probabilities?.shape).toEqual([flowers.length, 3]);
    flowers.forEach((f, i) => multiclassExpected(f).probabilities.forEach((p, c) => expect(Math.abs((byName.probabilities!.data[i * 3 + c] as number) - p)).toBeLessThan(1e-5)));
  });

  it('refuses bad input with a 4xx naming the column', async () => {
    const res = await post(s, { inputs: [{ ...records[0], petal_width: 'wide' }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('inputs[0].petal_width must be a number');
  });

  it('hot-swaps between ONNX versions without failing a request, and closes the replaced sessions', async () => {
    const first = s.app.modelServer!.model!.predictor;
    const v2 = await registerOnnx(s, 'iris', multiclassOnnx(), onnxMlmodelText({ signature }));
    let failures = 0;
    let stop = false;
    const seen = new Set<string>();
    const hammer = async () => {
      while (!stop) {
        const res = await post(s, { inputs: records });
        if (res.status !== 200) failures++;
        else seen.add(((await res.json()) as PredictBody).version);
      }
    };
    const workers = Array.from({ length: 4 }, hammer);
    const client = new FluxClient({ url: s.url, apiKey: s.key });
    for (const v of ['1', v2, '1', v2]) {
      await client.setAlias('iris', 'production', v);
      await new Promise((r) => setTimeout(r, 150));
    }
    stop = true;
    await Promise.all(workers);
    expect(failures).toBe(0);
    expect([...seen].sort()).toEqual(['1', v2]);
    // The predictor of the first load was replaced with requests in flight; it is closed once they finished.
    expect(s.app.modelServer!.model!.predictor).not.toBe(first);
    for (let i = 0; i < 100; i++) {
      const closed = await first.predictMatrix(new Float64Array(4), 1).then(() => false, (e: { code?: string }) => e.code === 'TEMPORARILY_UNAVAILABLE');
      if (closed) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the replaced predictor was not closed');
  });
});

describe('an ONNX regressor with one input per column', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ model: 'progression@production', seed: false });
    const signature = planOnnxModel(regressorOnnx(), 'model.onnx').signature;
    await waitServing(s, 'progression', await registerOnnx(s, 'progression', regressorOnnx(), onnxMlmodelText({ signature })));
  });
  afterAll(() => s.close());

  it('answers numbers, without classes or probabilities', async () => {
    const rows = [
      { age: 50, bmi: 31.5, bp: 80 },
      { age: 23, bmi: 18.25, bp: 120 },
    ];
    const res = await post(s, { inputs: rows });
    expect(res.status).toBe(200);
    const body = (await res.json()) as PredictBody;
    expect(Object.keys(body)).toEqual(['request_id', 'model', 'version', 'predictions']);
    rows.forEach((r, i) => expect(Math.abs((body.predictions[i] as number) - regressorExpected([r.age, r.bmi, r.bp]))).toBeLessThan(1e-4));
    const info = (await (await fetch(`${s.url}/api/model-info`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ kind: 'regressor', classes: [], trained_at: null, signature: { inputs: REGRESSOR.columns.map((name, j) => ({ name, type: j === 0 ? 'long' : 'float' })) } });
    // Values are not class labels: no per-class series for a regressor.
    expect(await (await fetch(`${s.url}/metrics`)).text()).not.toMatch(/fluxops_predictions_total\{model="progression"/);
  });

  it('answers through an endpoint deployment in the same shape, naming the deployment', async () => {
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${s.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    expect((await call('POST', '/api/v1/endpoints', { name: 'progression-prod', environment: 'production' })).status).toBe(201);
    expect((await call('PUT', '/api/v1/endpoints/progression-prod/deployments/blue', { model: 'progression/1' })).status).toBe(200);
    const row = { age: 50, bmi: 31.5, bp: 80 };
    let res = await call('POST', '/api/v1/endpoints/progression-prod/predict', { inputs: [row] });
    // The server routes the endpoint once it has followed its events.
    for (let i = 0; i < 200 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      res = await call('POST', '/api/v1/endpoints/progression-prod/predict', { inputs: [row] });
    }
    expect(res.status).toBe(200);
    const body = (await res.json()) as PredictBody & { endpoint: string; deployment: string };
    expect(Object.keys(body)).toEqual(['request_id', 'model', 'version', 'predictions', 'endpoint', 'deployment']);
    expect(body).toMatchObject({ model: 'progression', version: '1', endpoint: 'progression-prod', deployment: 'blue' });
    expect(Math.abs((body.predictions[0] as number) - regressorExpected([row.age, row.bmi, row.bp]))).toBeLessThan(1e-4);
  });

  it("answers MLflow's scoring protocol with the values alone", async () => {
    const res = await fetch(`${s.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` },
      body: JSON.stringify({ dataframe_split: { columns: ['bp', 'age', 'bmi'], data: [[80, 50, 31.5]] } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: number[] };
    expect(Object.keys(body)).toEqual(['predictions']);
    expect(Math.abs(body.predictions[0]! - regressorExpected([50, 31.5, 80]))).toBeLessThan(1e-4);
  });

  it('refuses a fraction for its int64 column with a 400, never a 500', async () => {
    const res = await post(s, { inputs: [{ age: 50.5, bmi: 31.5, bp: 80 }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error_code: 'INVALID_DATA', message: 'row 1: age must be an integer for this model (an int64 input), got 50.5' });
  });
});

describe('micro-batching an ONNX deployment', () => {
  let s: TestServer;
  const signature = { inputs: MULTICLASS.columns.map((name) => ({ name, type: 'float' })), outputs: [{ name: 'output_label', type: 'string' }] };
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}`, ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  beforeAll(async () => {
    s = await startTestServer({ model: 'iris@production', seed: false, aliasPollMs: 200 });
    await waitServing(s, 'iris', await registerOnnx(s, 'iris', multiclassOnnx(), onnxMlmodelText({ signature })));
    expect((await call('POST', '/api/v1/endpoints', { name: 'iris-prod' })).status).toBe(201);
    expect((await call('PUT', '/api/v1/endpoints/iris-prod/deployments/plain', { model: 'iris/1' })).status).toBe(200);
    const batched = await call('PUT', '/api/v1/endpoints/iris-prod/deployments/batched', { model: 'iris/1', batching: { maxBatch: 32, maxWaitMs: 5 } });
    expect(batched.status).toBe(200);
    expect(await batched.json()).toMatchObject({ status: [{ name: 'plain', batched: null }, { name: 'batched', batched: { batches: 0, rows: 0 } }] });
  });
  afterAll(() => s.close());

  it('gathers concurrent requests into fewer ONNX runs, each answered as without batching (to float32 rounding)', async () => {
    const inputs = Array.from({ length: 200 }, (_, i) => [4.5 + (i % 35) / 10, 2 + (i % 13) / 10, 1 + (i % 59) / 10, 0.1 + (i % 24) / 10]);
    const body = (f: number[]) => ({ inputs: [Object.fromEntries(MULTICLASS.columns.map((c, j) => [c, f[j]]))] });
    const answer = async (deployment: string, f: number[]) => {
      const res = await call('POST', '/api/v1/endpoints/iris-prod/predict', body(f), { 'x-fluxops-deployment': deployment });
      expect(res.status).toBe(200);
      return (await res.json()) as PredictBody;
    };
    const plain: PredictBody[] = [];
    for (const f of inputs) plain.push(await answer('plain', f));
    const batched = await Promise.all(inputs.map((f) => answer('batched', f)));
    batched.forEach((b, i) => {
      expect(b.predictions).toEqual(plain[i]!.predictions);
      // ONNX Runtime computes in float32 and may vectorise a batch differently from one row.
      b.probabilities![0]!.forEach((p, c) => expect(Math.abs(p - plain[i]!.probabilities![0]![c]!)).toBeLessThan(1e-6));
      const e = multiclassExpected(inputs[i]!);
      expect(b.predictions[0]).toBe(e.label);
    });
    const status = (await (await call('GET', '/api/v1/endpoints/iris-prod')).json()) as { status: Array<{ name: string; batched: { batches: number; rows: number } | null }> };
    const st = status.status.find((d) => d.name === 'batched')!.batched!;
    expect(st.rows).toBe(inputs.length);
    expect(st.batches).toBeLessThan(inputs.length / 2);
  });

  it('answers within a caller deadline (200 or 503, never a hang or a 500) and refuses a bad deadline naming the header', async () => {
    const bad = await call('POST', '/api/v1/endpoints/iris-prod/predict', { inputs: [Object.fromEntries(MULTICLASS.columns.map((c) => [c, 1]))] }, { 'x-fluxops-timeout-ms': 'soon' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('x-fluxops-timeout-ms');
    // Large requests with a 1 ms deadline queue behind each other: those that cannot finish in time get 503.
    const big = { inputs: Array.from({ length: 5000 }, (_, i) => Object.fromEntries(MULTICLASS.columns.map((c, j) => [c, 1 + ((i + j) % 7)]))) };
    const t0 = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const res = await call('POST', '/api/v1/endpoints/iris-prod/predict', big, { 'x-fluxops-deployment': 'batched', 'x-fluxops-timeout-ms': '1' });
        return { status: res.status, body: (await res.json()) as { message?: string } };
      }),
    );
    expect(Date.now() - t0).toBeLessThan(20_000);
    for (const a of answers) {
      expect([200, 503]).toContain(a.status);
      if (a.status === 503) expect(a.body.message).toMatch(/deadline/);
    }
    expect(answers.some((a) => a.status === 503)).toBe(true);
  });
});
