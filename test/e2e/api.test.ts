import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import { FluxError } from '../../src/core/index.js';
import { SAMPLE, seedModel, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let client: FluxClient;

beforeAll(async () => {
  s = await startTestServer({ model: 'diabetes@production', aliasPollMs: 200 });
  client = new FluxClient({ url: s.url, apiKey: s.key });
});
afterAll(async () => {
  await s.close();
});

const predict = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/api/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function expectError(res: Response, status: number, code: string, mentions?: string): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error_code: string; message: string };
  expect(body.error_code).toBe(code);
  expect(body.message.length).toBeGreaterThan(0);
  if (mentions !== undefined) expect(body.message).toContain(mentions);
}

describe('serving API', () => {
  it('reports health with store and model readiness, anonymously', async () => {
    const res = await fetch(`${s.url}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; store: { ok: boolean; backend: string }; model: { ready: boolean; version: string } };
    expect(body).toMatchObject({ status: 'ok', store: { ok: true, backend: 'sqlite' }, model: { ready: true, version: '1' } });
  });

  it('describes the served model anonymously', async () => {
    const res = await fetch(`${s.url}/api/model-info`);
    expect(res.status).toBe(200);
    const info = (await res.json()) as Record<string, unknown> & { signature: { inputs: Array<{ name: string }> }; metrics: Record<string, number> };
    expect(info).toMatchObject({ model: 'diabetes', version: '1', alias: 'production' });
    expect(info.signature.inputs.map((i) => i.name)).toEqual(Object.keys(SAMPLE));
    expect(info.metrics.f1).toBeGreaterThan(0.5);
    expect(typeof info.trained_at).toBe('string');
  });

  it('predicts from records and from columns/data with probabilities, model version and request id', async () => {
    const res = await predict({ inputs: [SAMPLE, { ...SAMPLE, PlasmaGlucose: 70, BMI: 19 }] }, { 'x-request-id': 'req-abc-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc-1');
    const body = (await res.json()) as { request_id: string; model: string; version: string; predictions: number[]; probabilities: number[][]; classes: number[] };
    expect(body).toMatchObject({ request_id: 'req-abc-1', model: 'diabetes', version: '1', classes: [0, 1] });
    // The answer's fields, in the order clients have always received them.
    expect(Object.keys(body)).toEqual(['request_id', 'model', 'version', 'classes', 'predictions', 'probabilities']);
    expect(body.predictions).toHaveLength(2);
    for (const p of body.probabilities) expect(p[0]! + p[1]!).toBeCloseTo(1, 10);
    const cols = Object.keys(SAMPLE).reverse();
    const split = await predict({ columns: cols, data: [cols.map((c) => SAMPLE[c as keyof typeof SAMPLE])] });
    expect(split.status).toBe(200);
    const sb = (await split.json()) as { probabilities: number[][] };
    expect(sb.probabilities[0]![1]).toBeCloseTo(body.probabilities[0]![1]!, 12);
  });

  it('requires a valid, unrevoked bearer key', async () => {
    await expectError(await predict({ inputs: [SAMPLE] }, { authorization: '' }), 401, 'UNAUTHENTICATED');
    await expectError(await predict({ inputs: [SAMPLE] }, { authorization: 'Bearer flx_000000000000_' + 'a'.repeat(43) }), 401, 'UNAUTHENTICATED');
    await expectError(await predict({ inputs: [SAMPLE] }, { authorization: 'Basic Zm9vOmJhcg==' }), 401, 'UNAUTHENTICATED');
    const { key, info } = await s.platform.keys.create('short-lived');
    expect((await predict({ inputs: [SAMPLE] }, { authorization: `Bearer ${key}` })).status).toBe(200);
    await s.platform.keys.revoke(info.keyId);
    await expectError(await predict({ inputs: [SAMPLE] }, { authorization: `Bearer ${key}` }), 401, 'UNAUTHENTICATED', 'revoked');
  });

  it('rejects bad input with 4xx naming the field, never 5xx', async () => {
    const { Age: _age, ...missing } = SAMPLE;
    await expectError(await predict({ inputs: [missing] }), 400, 'INVALID_PARAMETER_VALUE', 'inputs[0].Age is missing');
    await expectError(await predict({ inputs: [{ ...SAMPLE, Extra: 1 }] }), 400, 'INVALID_PARAMETER_VALUE', 'inputs[0].Extra');
    await expectError(await predict({ inputs: [{ ...SAMPLE, BMI: 'high' }] }), 400, 'INVALID_PARAMETER_VALUE', 'inputs[0].BMI must be a number');
    await expectError(await predict({ inputs: [{ ...SAMPLE, BMI: null }] }), 400, 'INVALID_PARAMETER_VALUE', 'BMI');
    await expectError(await predict('{"inputs":[{"Pregnancies":1e999}]}'), 400, 'INVALID_PARAMETER_VALUE');
    await expectError(await predict({ inputs: [] }), 400, 'INVALID_PARAMETER_VALUE', 'empty');
    await expectError(await predict({ inputs: Array.from({ length: 10_001 }, () => SAMPLE) }), 413, 'PAYLOAD_TOO_LARGE', '10001');
    await expectError(await predict({ columns: ['BMI'], data: [[1]] }), 400, 'INVALID_PARAMETER_VALUE', 'missing');
    await expectError(await predict({ inputs: [SAMPLE], columns: [] }), 400, 'INVALID_PARAMETER_VALUE');
    await expectError(await predict('{"inputs": [}'), 400, 'MALFORMED_REQUEST');
    await expectError(await predict(''), 400, 'MALFORMED_REQUEST');
    await expectError(await predict('inputs', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectError(await predict('x'.repeat(9 * 1024 * 1024)), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('exposes Prometheus metrics with route labels and predictions by version and class', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/fluxops_http_requests_total\{method="POST",route="\/api\/predict",status="200"\} \d+/);
    expect(text).toMatch(/fluxops_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/api\/predict"\}/);
    expect(text).toMatch(/fluxops_predictions_total\{model="diabetes",version="1",class="[01]"\} \d+/);
    expect(text).not.toMatch(/req-abc-1/);
  });

  it('serves OpenAPI generated from the route schemas', async () => {
    const res = await fetch(`${s.url}/api/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/predict', '/api/v1/runs/search', '/api/v1/runs/{runId}/batch', '/api/v1/models/{name}/aliases/{alias}']));
    expect((await fetch(`${s.url}/api/docs`)).status).toBeLessThan(400);
  });

  it('hot-swaps when the alias moves, without failing requests in flight or new ones', async () => {
    const v2 = await seedModel(s.platform, { seed: 99, aliases: [], params: { C: '0.01' } });
    expect(v2.version?.version).toBe('2');
    const seen = new Set<string>();
    let failures = 0;
    let stop = false;
    const hammer = async () => {
      while (!stop) {
        const res = await predict({ inputs: [SAMPLE] });
        if (res.status !== 200) failures++;
        else seen.add(((await res.json()) as { version: string }).version);
      }
    };
    const workers = Array.from({ length: 4 }, hammer);
    for (const v of ['2', '1', '2']) {
      await client.setAlias('diabetes', 'production', v);
      await new Promise((r) => setTimeout(r, 150));
    }
    stop = true;
    await Promise.all(workers);
    expect(failures).toBe(0);
    expect([...seen].sort()).toEqual(['1', '2']);
    // The swap follows the alias event after the move's commit, not inside the PUT: wait for it
    // (the test timeout bounds the wait; the last of several quick moves must win).
    for (;;) {
      const info = (await (await fetch(`${s.url}/api/model-info`)).json()) as { version: string };
      if (info.version === '2') break;
      await new Promise((r) => setTimeout(r, 10));
    }
  });

  it('follows an alias moved by another writer of the store (polling)', async () => {
    await s.platform.registry.setAlias('diabetes', 'production', '1');
    await new Promise((r) => setTimeout(r, 600));
    const info = (await (await fetch(`${s.url}/api/model-info`)).json()) as { version: string };
    expect(info.version).toBe('1');
  });
});

describe('tracking and registry API through the HTTP client', () => {
  it('records an experiment, a run, params, metrics with history, tags and datasets', async () => {
    const expId = await client.createExperiment({ name: 'e2e-exp' });
    expect(expId).toMatch(/^\d+$/);
    await expect(client.createExperiment({ name: 'e2e-exp' })).rejects.toMatchObject({ code: 'RESOURCE_ALREADY_EXISTS' });
    const run = await client.createRun({ experimentId: expId, runName: 'first', tags: { team: 'ml' } });
    expect(run.info.runId).toMatch(/^[0-9a-f]{32}$/);
    await client.logBatch(run.info.runId, {
      params: [{ key: 'solver', value: 'lbfgs' }],
      metrics: Array.from({ length: 30 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), step: i, timestamp: 1000 + i })),
    });
    await client.logMetric(run.info.runId, { key: 'f1', value: 0.7 });
    await client.logMetric(run.info.runId, { key: 'odd', value: NaN });
    await client.logParam(run.info.runId, 'solver', 'lbfgs');
    await expect(client.logParam(run.info.runId, 'solver', 'saga')).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    const first = await client.getMetricHistory(run.info.runId, 'loss', { maxResults: 20 });
    expect(first.items).toHaveLength(20);
    const rest = await client.getMetricHistory(run.info.runId, 'loss', { maxResults: 20, pageToken: first.nextPageToken });
    expect(rest.items.map((m) => m.step)).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    expect(rest.nextPageToken).toBeUndefined();
    const got = await client.getRun(run.info.runId);
    expect(got.data.params).toEqual({ solver: 'lbfgs' });
    expect(got.data.tags.team).toBe('ml');
    expect(got.data.metrics.find((m) => m.key === 'loss')).toMatchObject({ step: 29 });
    const ended = await client.endRun(run.info.runId);
    expect(ended.info.status).toBe('FINISHED');
    expect(ended.info.endTime).toBeGreaterThan(0);
  });

  it('searches runs with a filter, order and pages', async () => {
    const expId = await client.createExperiment({ name: 'e2e-search' });
    for (let i = 0; i < 7; i++) {
      const r = await client.createRun({ experimentId: expId });
      await client.logBatch(r.info.runId, { params: [{ key: 'solver', value: i % 2 ? 'lbfgs' : 'saga' }], metrics: [{ key: 'f1', value: i / 10 }] });
    }
    const q = { experimentIds: [expId], filter: "metrics.f1 > 0.15 and params.solver = 'lbfgs'", orderBy: ['metrics.f1 desc'], maxResults: 1 };
    const page1 = await client.searchRuns(q);
    expect(page1.items.map((r) => r.data.metrics[0]!.value)).toEqual([0.5]);
    expect(page1.nextPageToken).toBeDefined();
    const page2 = await client.searchRuns({ ...q, pageToken: page1.nextPageToken });
    expect(page2.items.map((r) => r.data.metrics[0]!.value)).toEqual([0.3]);
    expect(page2.nextPageToken).toBeUndefined();
    const all = await client.searchRuns({ ...q, maxResults: 10 });
    expect(all.items).toHaveLength(2);
    await expect(client.searchRuns({ experimentIds: [expId], filter: 'metrics.f1 >> 2' })).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
  });

  it('uploads, lists and downloads artifacts and refuses path escapes', async () => {
    const run = await client.createRun({ experimentId: '0' });
    const id = run.info.runId;
    await client.logArtifact(id, 'plots/roc.txt', 'roc-data');
    await client.logArtifact(id, 'notes.md', Buffer.from('# notes'));
    expect((await client.listArtifacts(id)).map((a) => a.path)).toEqual(['notes.md', 'plots']);
    expect((await client.listArtifacts(id, 'plots'))[0]).toMatchObject({ path: 'plots/roc.txt', isDir: false, size: 8 });
    expect((await client.readArtifact(id, 'plots/roc.txt')).toString()).toBe('roc-data');
    for (const bad of ['..%2F..%2Fescape.txt', '%2e%2e/%2e%2e/escape.txt', 'a/../../escape.txt', '%2Fetc%2Fpasswd', 'a%5C..%5Cb']) {
      const res = await fetch(`${s.url}/api/v1/runs/${id}/artifacts/${bad}`, { method: 'PUT', body: 'x', headers: { 'content-type': 'application/octet-stream' } });
      expect(res.status, bad).toBeGreaterThanOrEqual(400);
      expect(res.status, bad).toBeLessThan(500);
    }
    await expect(client.readArtifact(id, 'missing.txt')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('registers versions with signature and lineage, and manages aliases', async () => {
    const run = (await seedModel(s.platform, { aliases: [] })).run;
    const mv = await client.registerModel({ name: 'e2e-model', source: `runs:/${run.info.runId}/model` });
    expect(mv).toMatchObject({ name: 'e2e-model', version: '1', status: 'READY', runId: run.info.runId });
    expect(mv.signature?.inputs.map((i) => i.name)).toContain('BMI');
    expect((await client.registerModel({ name: 'e2e-model', source: `runs:/${run.info.runId}/model` })).version).toBe('2');
    await client.setAlias('e2e-model', 'staging', '2');
    expect((await client.resolve('e2e-model@staging')).version).toBe('2');
    expect((await client.resolve('models:/e2e-model/1')).version).toBe('1');
    const lineage = await client.lineage('e2e-model', '2');
    expect(lineage.run?.params.C).toBe('1');
    expect(lineage.run?.metrics.f1).toBeGreaterThan(0.5);
    expect(lineage.datasets[0]?.digest).toMatch(/^[0-9a-f]{16}$/);
    await client.deleteAlias('e2e-model', 'staging');
    await expect(client.getVersionByAlias('e2e-model', 'staging')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
    await expect(client.registerModel({ name: 'e2e-model', source: `runs:/${run.info.runId}/nothing-here` })).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    await expect(client.getModelVersion('nope', '1')).rejects.toBeInstanceOf(FluxError);
  });

  it('answers unknown routes and ids with the error shape', async () => {
    const r1 = await fetch(`${s.url}/api/v1/nope`);
    await expectError(r1, 404, 'ENDPOINT_NOT_FOUND');
    const r2 = await fetch(`${s.url}/api/v1/runs/${'0'.repeat(32)}`);
    await expectError(r2, 404, 'RESOURCE_DOES_NOT_EXIST');
    const r3 = await fetch(`${s.url}/api/v1/runs/not-an-id`);
    await expectError(r3, 400, 'INVALID_PARAMETER_VALUE', 'run_id');
  });
});
