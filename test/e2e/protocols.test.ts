import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The MLflow scoring protocol and the Open Inference Protocol v2, golden against FluxOps' own
 * /api/predict on the same rows, and their refusals in each protocol's shape.
 */
describe('serving protocols', () => {
  let s: TestServer;
  let key = '';
  const rows = [SAMPLE, { ...SAMPLE, PlasmaGlucose: 80, BMI: 21.5, Age: 24 }, { ...SAMPLE, PlasmaGlucose: 190, BMI: 44, Age: 61 }];
  let features: string[] = [];
  let native: { predictions: unknown[]; probabilities: number[][]; classes: unknown[]; version: string } = { predictions: [], probabilities: [], classes: [], version: '' };

  beforeAll(async () => {
    s = await startTestServer({ model: 'diabetes@production', auth: 'required' });
    key = (await s.platform.keys.create('scorer', { role: 'predict' })).key;
    await s.platform.endpoints.createEndpoint({ name: 'prod' });
    await s.platform.endpoints.deploy('prod', { name: 'blue', model: 'diabetes/1' });
    await s.app.router.refresh();
    features = [...s.app.modelServer!.model!.features];
    native = (await (await call('POST', '/api/predict', { inputs: rows })).json()) as typeof native;
  }, 120_000);
  afterAll(async () => s?.close());

  function call(method: string, path: string, body?: unknown, contentType = 'application/json', auth = true): Promise<Response> {
    return fetch(`${s.url}${path}`, {
      method,
      headers: { ...(auth ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  }
  const positional = () => rows.map((r) => features.map((f) => (r as Record<string, number>)[f]));

  describe('MLflow scoring server', () => {
    it('answers every input format with the predictions /api/predict gives', async () => {
      const columns = Object.fromEntries(features.map((f) => [f, rows.map((r) => (r as Record<string, number>)[f])]));
      const csv = `${features.join(',')}\n${positional().map((r) => r.join(',')).join('\n')}\n`;
      const bodies: Array<[string, unknown, string?]> = [
        ['dataframe_split', { dataframe_split: { columns: features, data: positional() } }],
        ['dataframe_records', { dataframe_records: rows }],
        ['instances (records)', { instances: rows }],
        ['instances (rows)', { instances: positional() }],
        ['inputs (columns)', { inputs: columns }],
        ['inputs with params', { inputs: rows, params: { unused: 1 } }],
        ['csv', csv, 'text/csv'],
      ];
      for (const [name, body, type] of bodies) {
        const res = await call('POST', '/invocations', body, type);
        expect(res.status, name).toBe(200);
        expect(await res.json(), name).toEqual({ predictions: native.predictions });
      }
      const viaEndpoint = await call('POST', '/api/v1/endpoints/prod/invocations', { dataframe_records: rows });
      expect(await viaEndpoint.json()).toEqual({ predictions: native.predictions });
    });

    it("refuses bad requests as MLflow does: 400 BAD_REQUEST JSON, 415 text for other content types, 401 without a key", async () => {
      const two = await call('POST', '/invocations', { dataframe_records: rows, instances: rows });
      expect(two.status).toBe(400);
      const twoBody = (await two.json()) as { error_code: string; message: string };
      expect(twoBody.error_code).toBe('BAD_REQUEST');
      expect(twoBody.message).toContain('exactly one of the input fields');
      expect(twoBody.message).toContain("Received dictionary with input fields: ['dataframe_records', 'instances']");
      const none = (await (await call('POST', '/invocations', { data: [] })).json()) as { message: string };
      expect(none.message).toContain('exactly one of the input fields');
      const list = await call('POST', '/invocations', [1, 2]);
      expect(list.status).toBe(400);
      expect(((await list.json()) as { message: string }).message).toContain('Received a list');
      const text = await call('POST', '/invocations', 'a,b', 'text/plain');
      expect(text.status).toBe(415);
      const missing = await call('POST', '/invocations', { dataframe_records: [{ Age: 3 }] });
      expect(missing.status).toBe(400);
      expect((await missing.json()) as object).toMatchObject({ error_code: 'BAD_REQUEST' });
      expect((await call('POST', '/invocations', { dataframe_records: rows }, 'application/json', false)).status).toBe(401);
      expect((await call('POST', '/api/v1/endpoints/nope/invocations', { dataframe_records: rows })).status).toBe(404);
    });

    it('answers /ping and /version (and /health as the tracking server does)', async () => {
      const ping = await call('GET', '/ping', undefined, undefined, false);
      expect(ping.status).toBe(200);
      expect(await ping.text()).toBe('\n');
      expect(await (await call('GET', '/health', undefined, undefined, false)).text()).toBe('OK');
      expect(await (await call('GET', '/version', undefined, undefined, false)).text()).toMatch(/^\d+\.\d+\.\d+$/);
    });
  });

  describe('Open Inference Protocol v2', () => {
    it('server metadata and health', async () => {
      expect(await (await call('GET', '/v2', undefined, undefined, false)).json()).toMatchObject({ name: 'fluxops', extensions: [] });
      expect(await (await call('GET', '/v2/health/live', undefined, undefined, false)).json()).toEqual({ live: true });
      expect(await (await call('GET', '/v2/health/ready', undefined, undefined, false)).json()).toEqual({ ready: true });
      expect(await (await call('GET', '/v2/models/prod/ready', undefined, undefined, false)).json()).toEqual({ name: 'prod', ready: true });
    });

    it('model metadata names the inputs and outputs', async () => {
      const meta = (await (await call('GET', '/v2/models/prod')).json()) as { name: string; versions: string[]; inputs: Array<{ name: string; datatype: string }>; outputs: Array<{ name: string; shape: number[] }> };
      expect(meta).toMatchObject({ name: 'prod', versions: ['1'], platform: 'fluxops' });
      expect(meta.inputs.map((i) => i.name)).toEqual(features);
      expect(meta.outputs).toEqual([
        { name: 'prediction', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP64', shape: [-1, 2] },
      ]);
    });

    it('infers on one tensor per column, or one [N, F] tensor nested or flat, with the answers /api/predict gives', async () => {
      const n = rows.length;
      const perColumn = { id: 'req-1', inputs: features.map((f) => ({ name: f, shape: [n], datatype: 'FP64', data: rows.map((r) => (r as Record<string, number>)[f]) })) };
      const matrixNested = { inputs: [{ name: 'input-0', shape: [n, features.length], datatype: 'FP32', data: positional() }] };
      const matrixFlat = { inputs: [{ name: 'input-0', shape: [n, features.length], datatype: 'FP64', data: positional().flat() }] };
      const expected = [
        { name: 'prediction', shape: [n], datatype: 'INT64', data: native.predictions },
        { name: 'probabilities', shape: [n, 2], datatype: 'FP64', parameters: { classes: native.classes }, data: native.probabilities.flat() },
      ];
      for (const [name, body] of [
        ['per column', perColumn],
        ['nested matrix', matrixNested],
        ['flat matrix', matrixFlat],
      ] as const) {
        const res = await call('POST', '/v2/models/prod/infer', body);
        expect(res.status, name).toBe(200);
        const out = (await res.json()) as { model_name: string; model_version: string; id?: string; outputs: unknown[] };
        expect(out.model_name, name).toBe('prod');
        expect(out.model_version, name).toBe('1');
        expect(out.outputs, name).toEqual(expected);
      }
      const withId = (await (await call('POST', '/v2/models/prod/infer', { ...perColumn, outputs: [{ name: 'probabilities' }] })).json()) as { id: string; outputs: Array<{ name: string }> };
      expect(withId.id).toBe('req-1');
      expect(withId.outputs.map((o) => o.name)).toEqual(['probabilities']);
      // A version pins the deployment serving it; the server's own model answers under its name.
      expect((await call('POST', '/v2/models/prod/versions/1/infer', matrixFlat)).status).toBe(200);
      const own = (await (await call('POST', '/v2/models/diabetes/infer', matrixFlat)).json()) as { model_name: string; outputs: unknown[] };
      expect(own).toMatchObject({ model_name: 'diabetes', outputs: expected });
    });

    it('refuses bad tensors with 400 and unknown models with 404, as {"error": …}', async () => {
      const cases: Array<[unknown, number, string]> = [
        [{ inputs: [] }, 400, 'non-empty list of tensors'],
        [{ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP64', data: [1, 2] }] }, 400, 'holds 3 values, data has 2'],
        [{ inputs: [{ name: 'x', shape: [2], datatype: 'STRINGY', data: [1, 2] }] }, 400, 'datatype must be one of'],
        [{ inputs: [{ name: 'x', shape: [1, 2, 3], datatype: 'FP64', data: [1, 2, 3, 4, 5, 6] }] }, 400, 'one tensor per input column'],
        [{ inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: ['a'] }] }, 400, 'must hold numbers'],
        [{ inputs: features.map((f) => ({ name: f, shape: [1], datatype: 'FP64', data: [1] })), outputs: [{ name: 'logits' }] }, 400, "unknown output 'logits'"],
      ];
      for (const [body, status, text] of cases) {
        const res = await call('POST', '/v2/models/prod/infer', body);
        expect(res.status, text).toBe(status);
        const out = (await res.json()) as { error: string };
        expect(out.error, text).toContain(text);
      }
      const unknown = await call('POST', '/v2/models/nope/infer', { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [1] }] });
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: string }).error).toContain("model 'nope' is not served here");
      expect((await call('POST', '/v2/models/prod/versions/9/infer', { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [1] }] })).status).toBe(404);
      const anon = await call('POST', '/v2/models/prod/infer', { inputs: [] }, 'application/json', false);
      expect(anon.status).toBe(401);
      expect(((await anon.json()) as { error: string }).error).toContain('API key');
    });
  });
});
