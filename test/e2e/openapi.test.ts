import fs from 'node:fs';
import path from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openapiDocument, openapiText } from '../../src/api/index.js';
import { permissionOf } from '../../src/http/index.js';
import { SAMPLE, startTestServer, type TestServer } from '../helpers/server.js';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
  tags?: string[];
}
type Doc = { paths: Record<string, Record<string, Operation>> };

const COMMITTED = path.resolve(import.meta.dirname, '../../docs/openapi.json');

let s: TestServer;
let doc: Doc;

beforeAll(async () => {
  s = await startTestServer({ model: 'diabetes@production' });
  doc = (await openapiDocument()) as unknown as Doc;
});
afterAll(async () => {
  await s.close();
});

/** The native API's routes: everything but the MLflow adapter, the API docs and /metrics. */
const isNative = (url: string) => url.startsWith('/api/v1/') || ['/api/health', '/api/model-info', '/api/predict'].includes(url);
/** A Fastify route pattern as an OpenAPI path template (the document names a trailing wildcard `path`). */
const templateOf = (url: string) => url.replace(/\*$/, '{path}').replace(/:(\w+)/g, '{$1}');

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3, with no wildcard path template', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    // `{*}` passes the validator yet no client generator can name it: every template is an identifier.
    for (const p of Object.keys(doc.paths)) for (const [, name] of p.matchAll(/\{([^}]*)\}/g)) expect(name, p).toMatch(/^[A-Za-z_]\w*$/);
    expect(Object.keys(doc.paths)).toContain('/api/v1/runs/{runId}/artifacts/{path}');
    expect(Object.keys(doc.paths)).toContain('/api/2.0/mlflow-artifacts/artifacts/{path}');
  });

  it('gives every native route a 2xx response schema, the error schema for 4xx and 5xx, and its security', () => {
    const native = s.app.routeTable.filter((r) => isNative(r.url) && r.method !== 'HEAD');
    expect(native.length).toBeGreaterThan(40);
    for (const r of native) {
      const op = doc.paths[templateOf(r.url)]?.[r.method.toLowerCase()];
      const where = `${r.method} ${r.url}`;
      expect(op, where).toBeDefined();
      const success = Object.entries(op!.responses).filter(([code]) => /^2\d\d$/.test(code));
      expect(success.length, `${where} has a 2xx response`).toBeGreaterThan(0);
      for (const [, res] of success) expect(Object.values(res.content ?? {})[0]?.schema, `${where} 2xx schema`).toBeDefined();
      for (const code of ['4XX', '5XX']) {
        const schema = op!.responses[code]?.content?.['application/json']?.schema as { required?: string[] } | undefined;
        expect(schema?.required, `${where} ${code}`).toEqual(['error_code', 'message']);
      }
      expect(op!.security, where).toEqual(permissionOf(r.auth) === 'public' ? [] : [{ bearer: [] }]);
    }
  });

  it('documents the MLflow routes under the mlflow tag', () => {
    const mlflow = Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/2.0/'));
    expect(mlflow.length).toBeGreaterThan(20);
    for (const [p, ops] of mlflow) for (const op of Object.values(ops)) expect(op.tags, p).toEqual(['mlflow']);
  });

  it('is committed as docs/openapi.json, as `npm run openapi` writes it', () => {
    const committed = fs.existsSync(COMMITTED) ? fs.readFileSync(COMMITTED, 'utf8') : '';
    expect(committed === openapiText(doc as never), 'docs/openapi.json is out of date: run `npm run openapi` and commit it').toBe(true);
  });
});

/*
 * Fastify serialises responses with their schema and drops whatever it does not name, so the body
 * on the wire must equal what the services return, written as JSON.stringify writes it.
 */
describe('responses through their schemas drop nothing', () => {
  const get = async (p: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${s.url}${p}`, { headers });
    expect(res.status, p).toBe(200);
    return res.json();
  };
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

  it('tracking: experiments, runs with params, tags, datasets and NaN/±Infinity metrics, history, search, artifacts', async () => {
    const t = s.platform.tracking;
    const exp = await t.createExperiment({ name: 'schemas', tags: [{ key: 'team', value: 'ml' }] });
    const run = await t.createRun({ experimentId: exp, runName: 'r', tags: { a: '1' } });
    const id = run.info.runId;
    await t.logBatch(id, {
      metrics: [
        { key: 'nan', value: 'NaN', step: 0 },
        { key: 'inf', value: 'Infinity', step: 1 },
        { key: 'ninf', value: '-Infinity', step: 2 },
        { key: 'loss', value: 0.25, step: 3, timestamp: 1234 },
      ],
      params: [{ key: 'solver', value: 'lbfgs' }],
      tags: [{ key: 'b', value: '2' }],
    });
    await t.logInputs(id, [{ name: 'd', digest: 'abc', sourceType: 'local', source: 'x.csv', tags: [{ key: 'mlflow.data.context', value: 'training' }, { key: 'k', value: 'v' }] }]);
    await t.logArtifact(id, 'dir/file.txt', 'hello');

    const got = (await get(`/api/v1/runs/${id}`)) as { data: { metrics: Array<{ key: string; value: unknown }> } };
    expect(got).toEqual(plain(await t.getRun(id)));
    expect(got.data.metrics.find((m) => m.key === 'nan')?.value).toBeNull();
    expect(got.data.metrics.find((m) => m.key === 'inf')?.value).toBeNull();
    expect(await get(`/api/v1/experiments/${exp}`)).toEqual(plain(await t.getExperiment(exp)));
    expect(await get('/api/v1/experiments?maxResults=2')).toEqual(plain(await t.searchExperiments({ maxResults: 2 })));
    expect(await get(`/api/v1/runs/${id}/metrics/nan/history`)).toEqual(plain(await t.getMetricHistory(id, 'nan')));
    expect(await get(`/api/v1/runs/${id}/artifacts?path=dir`)).toEqual(plain({ files: await t.listArtifacts(id, 'dir') }));
    const search = await fetch(`${s.url}/api/v1/runs/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ experimentIds: [exp] }) });
    expect(await search.json()).toEqual(plain(await t.searchRuns({ experimentIds: [exp] })));
  });

  it('registry: models, versions with signature and metrics, aliases, lineage', async () => {
    const r = s.platform.registry;
    expect(await get('/api/v1/models/diabetes')).toEqual(plain(await r.getRegisteredModel('diabetes')));
    expect(await get('/api/v1/models')).toEqual(plain(await r.searchRegisteredModels({})));
    const version = (await get('/api/v1/models/diabetes/versions/1')) as { signature: unknown; metrics: Record<string, unknown> };
    expect(version).toEqual(plain(await r.getModelVersion('diabetes', '1')));
    expect(version.signature).not.toBeNull();
    expect(Object.keys(version.metrics).length).toBeGreaterThan(0);
    expect(await get('/api/v1/models/diabetes/versions')).toEqual(plain(await r.searchModelVersions({ name: 'diabetes' })));
    expect(await get('/api/v1/models/diabetes/aliases/production')).toEqual(plain(await r.getVersionByAlias('diabetes', 'production')));
    expect(await get('/api/v1/models/diabetes/versions/1/lineage')).toEqual(plain(await r.lineage('diabetes', '1')));
  });

  it('keys and audit', async () => {
    const admin = { authorization: `Bearer ${s.key}` };
    const res = await fetch(`${s.url}/api/v1/keys`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'scoped', role: 'predict', scopes: ['model:diabetes'], expires: '1d' }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { key: string; keyId: string };
    expect(created).toEqual(plain({ key: created.key, ...(await s.platform.keys.get(created.keyId)) }));
    expect(await get('/api/v1/keys', admin)).toEqual(plain({ keys: await s.platform.keys.list() }));
    await s.platform.audit.flush();
    // Oldest first, so the first entries do not change as this call is audited.
    const { entries } = await s.platform.audit.list({ limit: 1 });
    expect(entries.length).toBe(1);
    expect(await get('/api/v1/audit?limit=1', admin)).toEqual(plain({ entries, next_after: entries[0]!.seq }));
  });

  it('serving: health, model-info and predict', async () => {
    const m = s.app.modelServer!.model!;
    expect(await get('/api/health')).toEqual({ status: 'ok', store: { ok: true, backend: 'sqlite' }, model: { configured: true, ready: true, ref: 'diabetes@production', name: 'diabetes', version: m.version } });
    expect(await get('/api/model-info')).toEqual(
      plain({
        model: m.name,
        version: m.version,
        alias: m.alias,
        signature: m.info.signature,
        kind: 'classifier',
        flavor: 'fluxops',
        classes: m.predictor.classes,
        metrics: m.info.metrics,
        trained_at: m.trainedAt,
        registered_at: new Date(m.info.creationTime).toISOString(),
        run_id: m.info.runId,
      }),
    );
    const body = { inputs: [SAMPLE, SAMPLE] };
    const res = await fetch(`${s.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}`, 'x-request-id': 'req-1' }, body: JSON.stringify(body) });
    expect(await res.json()).toEqual(plain({ request_id: 'req-1', ...(await s.app.modelServer!.predict(body)) }));
  });
});
