/**
 * The MLflow-compatible tracking and artifact API over a real server on a port: every route,
 * with the error cases MLflow clients rely on (404 to create-or-continue, 400 for bad or
 * conflicting input), paging, NaN round trips, query-string lists, streamed artifacts and
 * artifact paths that try to leave their run's folder.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlflowExperiment, MlflowFileInfo, MlflowMetric, MlflowRun, MlflowRunInfo } from '../../src/mlflow/convert.js';
import type { App } from '../../src/api/index.js';
import { storeBackends, type StoreBackend } from '../helpers/backends.js';
import { serializeModel } from '../../src/models/index.js';
import { tinyModel } from '../helpers/model-fixture.js';
import { freshHome, startTestServer } from '../helpers/server.js';

interface Server {
  app: App;
  url: string;
  home: string;
  /** The SQLite file, kept beside the artifact root as in a default home; none on Postgres. */
  dbFile: string | undefined;
  /** An admin API key (predictions need one even with auth off). */
  key: string;
  close(): Promise<void>;
}

/** The real server on a free port over a fresh home, with its metadata on the given backend. */
async function startServer(backend: StoreBackend, opts: { artifactsMode?: 'proxied' | 'direct'; model?: string } = {}): Promise<Server> {
  const home = freshHome('fluxops-mlflow-');
  const dbFile = backend.name === 'sqlite' ? path.join(home, 'fluxops.db') : undefined;
  const databaseUrl = dbFile !== undefined ? `sqlite:${dbFile}` : await backend.freshDatabaseUrl();
  const server = await startTestServer({ home, databaseUrl, ...opts });
  return { app: server.app, url: server.url, home, dbFile, key: server.key, close: () => server.close() };
}

let s: Server;

interface Res<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** Every field an MLflow response of these tests may carry; each test reads the ones its route returns. */
interface Json {
  experiment: MlflowExperiment;
  experiments?: MlflowExperiment[];
  experiment_id: string;
  run: MlflowRun;
  runs?: MlflowRun[];
  run_info: MlflowRunInfo;
  metrics?: MlflowMetric[];
  files?: MlflowFileInfo[];
  root_uri: string;
  next_page_token?: string;
  error_code: string;
  message: string;
}

async function call(method: string, route: string, body?: unknown, prefix = '/api/2.0/mlflow'): Promise<Res<Json>> {
  const res = await fetch(`${s.url}${prefix}/${route}`, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
}
const post = (route: string, body: unknown = {}) => call('POST', route, body);
const get = (route: string, query: Record<string, string | number | Array<string | number>> = {}) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  const qs = q.toString();
  return call('GET', qs === '' ? route : `${route}?${qs}`);
};

function expectError(res: Res<Json>, status: number, code: string, mentions?: string | RegExp): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error_code).toBe(code);
  expect(typeof res.body.message).toBe('string');
  if (mentions !== undefined) expect(res.body.message).toMatch(mentions);
}

let counter = 0;
const uid = () => `${Date.now().toString(36)}-${++counter}`;

async function newExperiment(name = `exp-${uid()}`): Promise<string> {
  const res = await post('experiments/create', { name });
  expect(res.status).toBe(200);
  return res.body.experiment_id;
}

async function newRun(experimentId: string, extra: Record<string, unknown> = {}): Promise<MlflowRun> {
  const res = await post('runs/create', { experiment_id: experimentId, start_time: Date.now(), ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.run;
}

/** Sends a request exactly as written: fetch would normalise `..` and `%2e%2e` away. */
function raw(method: string, rawPath: string, body?: Buffer | string, contentType: string | undefined = 'application/octet-stream'): Promise<{ status: number; text: string }> {
  const url = new URL(s.url);
  const headers: Record<string, string | number> = {};
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  if (body !== undefined && contentType !== undefined) headers['content-type'] = contentType;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path: rawPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

for (const backend of storeBackends()) {
  describe(`MLflow tracking API on ${backend.label}`, () => {
    beforeAll(async () => {
      s = await startServer(backend);
    });
    afterAll(async () => {
      await s.close();
    });

    describe('MLflow experiments', () => {
      it('has experiment 0 named Default in a new store', async () => {
        const res = await get('experiments/get', { experiment_id: '0' });
        expect(res.status).toBe(200);
        expect(res.body.experiment).toMatchObject({ experiment_id: '0', name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active' });
        expect(typeof res.body.experiment.creation_time).toBe('number');
        expect(res.body.experiment).not.toHaveProperty('tags');
      });

      it('answers get-by-name 404 then create, the flow mlflow.set_experiment relies on; a second create is RESOURCE_ALREADY_EXISTS', async () => {
        const name = `set-exp-${uid()}`;
        expectError(await get('experiments/get-by-name', { experiment_name: name }), 404, 'RESOURCE_DOES_NOT_EXIST', name);
        const created = await post('experiments/create', { name, tags: [{ key: 'team', value: 'vision' }] });
        expect(created.status).toBe(200);
        expect(created.body.experiment_id).toMatch(/^\d+$/);
        const byName = await get('experiments/get-by-name', { experiment_name: name });
        expect(byName.status).toBe(200);
        expect(byName.body.experiment).toMatchObject({ experiment_id: created.body.experiment_id, name, tags: [{ key: 'team', value: 'vision' }] });
        expect(byName.body.experiment.artifact_location).toBe(`mlflow-artifacts:/${created.body.experiment_id}`);
        expectError(await post('experiments/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', name);
      });

      it('refuses a create without a name and a get of an unknown or malformed id', async () => {
        expectError(await post('experiments/create', {}), 400, 'INVALID_PARAMETER_VALUE', /Missing value for required parameter 'name'/);
        expectError(await post('experiments/create', { name: 42 }), 400, 'INVALID_PARAMETER_VALUE', /parameter 'name'/);
        expectError(await get('experiments/get', { experiment_id: '987654' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        expectError(await get('experiments/get', {}), 400, 'INVALID_PARAMETER_VALUE', /experiment_id/);
        expectError(await get('experiments/get', { experiment_id: 'abc' }), 400, 'INVALID_PARAMETER_VALUE');
      });

      it('renames, tags, deletes and restores an experiment', async () => {
        const id = await newExperiment();
        const taken = `taken-${uid()}`;
        await newExperiment(taken);
        const newName = `renamed-${uid()}`;
        expect((await post('experiments/update', { experiment_id: id, new_name: newName })).status).toBe(200);
        expect((await get('experiments/get', { experiment_id: id })).body.experiment.name).toBe(newName);
        expectError(await post('experiments/update', { experiment_id: id, new_name: taken }), 400, 'RESOURCE_ALREADY_EXISTS');
        expectError(await post('experiments/update', { experiment_id: '987654', new_name: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');

        expect((await post('experiments/set-experiment-tag', { experiment_id: id, key: 'owner', value: 'ada' })).body).toEqual({});
        await post('experiments/set-experiment-tag', { experiment_id: id, key: 'owner', value: 'grace' });
        expect((await get('experiments/get', { experiment_id: id })).body.experiment.tags).toEqual([{ key: 'owner', value: 'grace' }]);
        expectError(await post('experiments/set-experiment-tag', { experiment_id: id, key: 'owner' }), 400, 'INVALID_PARAMETER_VALUE', /'value'/);

        expect((await post('experiments/delete', { experiment_id: id })).body).toEqual({});
        expect((await get('experiments/get', { experiment_id: id })).body.experiment.lifecycle_stage).toBe('deleted');
        // A deleted experiment takes no runs: MLflow's code for it is INVALID_PARAMETER_VALUE.
        expectError(await post('runs/create', { experiment_id: id }), 400, 'INVALID_PARAMETER_VALUE', /deleted/);
        expect((await post('experiments/restore', { experiment_id: id })).body).toEqual({});
        expect((await get('experiments/get', { experiment_id: id })).body.experiment.lifecycle_stage).toBe('active');
        expectError(await post('experiments/delete', { experiment_id: '0' }), 400, 'INVALID_PARAMETER_VALUE');
      });

      it('searches with a filter on name and tags, orders, and pages (POST and GET)', async () => {
        const prefix = `srch-${uid()}`;
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await newExperiment(`${prefix}-${i}`));
        await post('experiments/set-experiment-tag', { experiment_id: ids[1], key: 'team', value: 'audio' });
        await post('experiments/set-experiment-tag', { experiment_id: ids[3], key: 'team', value: 'audio' });
        const names = (r: Res<Json>) => (r.body.experiments ?? []).map((e) => e.name);

        const byName = await post('experiments/search', { filter: `name LIKE '${prefix}-%'`, order_by: ['name DESC'] });
        expect(byName.status).toBe(200);
        expect(names(byName)).toEqual([4, 3, 2, 1, 0].map((i) => `${prefix}-${i}`));
        expect(names(await post('experiments/search', { filter: `attributes.name = '${prefix}-2'` }))).toEqual([`${prefix}-2`]);
        expect(names(await post('experiments/search', { filter: `name ILIKE '${prefix.toUpperCase()}-%' AND tags.team = 'audio'`, order_by: ['name'] }))).toEqual([`${prefix}-1`, `${prefix}-3`]);
        // MLflow's default order: newest first, then id ascending; a later update does not move one.
        const byDefault = async () => (await post('experiments/search', { filter: `name LIKE '${prefix}-%'` })).body.experiments ?? [];
        const before = await byDefault();
        const expected = [...before].sort((a, b) => b.creation_time - a.creation_time || Number(a.experiment_id) - Number(b.experiment_id));
        expect(before.map((e) => e.experiment_id)).toEqual(expected.map((e) => e.experiment_id));
        await new Promise((r) => setTimeout(r, 5));
        await post('experiments/update', { experiment_id: ids[0], new_name: `${prefix}-0` });
        expect((await byDefault()).map((e) => e.experiment_id)).toEqual(expected.map((e) => e.experiment_id));

        const seen: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await get('experiments/search', { filter: `name LIKE '${prefix}-%'`, order_by: ['name ASC'], max_results: '2', ...(token !== undefined ? { page_token: token } : {}) });
          expect(page.status).toBe(200);
          seen.push(...names(page));
          token = page.body.next_page_token;
          pages++;
        } while (token !== undefined);
        expect(pages).toBe(3);
        expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`));

        await post('experiments/delete', { experiment_id: ids[4] });
        expect(names(await post('experiments/search', { filter: `name LIKE '${prefix}-%'`, view_type: 'DELETED_ONLY' }))).toEqual([`${prefix}-4`]);
        expect(names(await get('experiments/search', { filter: `name LIKE '${prefix}-%'`, view_type: 'ALL' }))).toHaveLength(5);
        expect((await post('experiments/search', { filter: `name = 'no-such-${uid()}'` })).body).toEqual({});

        expectError(await post('experiments/search', { max_results: 50_001 }), 400, 'INVALID_PARAMETER_VALUE', /at most 50000/);
        expectError(await post('experiments/search', { filter: 'metrics.x > 1' }), 400, 'INVALID_PARAMETER_VALUE', /invalid filter/);
        expectError(await post('experiments/search', { order_by: ['colour DESC'] }), 400, 'INVALID_PARAMETER_VALUE');
        expectError(await post('experiments/search', { page_token: 'garbage' }), 400, 'INVALID_PARAMETER_VALUE');
      });
    });

    describe('MLflow runs', () => {
      let exp: string;
      beforeAll(async () => {
        exp = await newExperiment();
      });

      it('creates a run with a tag list and reads it back by run_id and by the legacy run_uuid', async () => {
        const start = Date.now();
        const run = await newRun(exp, {
          user_id: 'ada',
          run_name: 'r1',
          start_time: String(start), // int64 as a string, as protobuf's JSON mapping allows
          tags: [
            { key: 'mlflow.user', value: 'ada' },
            { key: 'mlflow.source.name', value: 'train.py' },
          ],
        });
        const id = run.info.run_id;
        expect(run.info).toEqual({
          run_uuid: id,
          experiment_id: exp,
          run_name: 'r1',
          user_id: 'ada',
          status: 'RUNNING',
          start_time: start,
          artifact_uri: `mlflow-artifacts:/${exp}/${id}/artifacts`,
          lifecycle_stage: 'active',
          run_id: id,
        });
        expect(run.data.tags).toEqual(
          expect.arrayContaining([
            { key: 'mlflow.user', value: 'ada' },
            { key: 'mlflow.source.name', value: 'train.py' },
            { key: 'mlflow.runName', value: 'r1' },
          ]),
        );
        expect(run).not.toHaveProperty('inputs');
        const byId = await get('runs/get', { run_id: id });
        const byUuid = await get('runs/get', { run_uuid: id });
        expect(byId.status).toBe(200);
        expect(byUuid.body).toEqual(byId.body);
        expect(byId.body.run.info).toEqual(run.info);
        expect(byId.body.run.inputs).toEqual({});
      });

      it('names a run when none is given, and refuses a run_name that contradicts the mlflow.runName tag', async () => {
        const run = await newRun(exp);
        expect(run.info.run_name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
        expect(run.data.tags).toContainEqual({ key: 'mlflow.runName', value: run.info.run_name });
        expect((await newRun(exp, { tags: [{ key: 'mlflow.runName', value: 'from-tag' }] })).info.run_name).toBe('from-tag');
        expectError(await post('runs/create', { experiment_id: exp, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] }), 400, 'INVALID_PARAMETER_VALUE', /run_name/);
        expectError(await post('runs/create', { experiment_id: '987654' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        expectError(await post('runs/create', { experiment_id: exp, tags: [{ key: '../escape', value: 'x' }] }), 400, 'INVALID_PARAMETER_VALUE');
        expectError(await post('runs/create', { experiment_id: exp, tags: { a: 'b' } }), 400, 'INVALID_PARAMETER_VALUE', /'tags'/);
      });

      it('answers 404 for a run it does not have, whatever the id looks like, and 400 without an id', async () => {
        expectError(await get('runs/get', { run_id: 'a'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST');
        expectError(await get('runs/get', { run_id: 'not-a-fluxops-id' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        expectError(await get('runs/get', {}), 400, 'INVALID_PARAMETER_VALUE', /run_id/);
        expectError(await get('runs/get', { run_id: '../../etc' }), 400, 'INVALID_PARAMETER_VALUE');
        expectError(await post('runs/log-metric', { run_id: 'b'.repeat(32), key: 'm', value: 1, timestamp: 1 }), 404, 'RESOURCE_DOES_NOT_EXIST');
      });

      it('updates status, end time and name and returns run_info; set-tag mlflow.runName renames too', async () => {
        const run = await newRun(exp, { run_name: 'before' });
        const id = run.info.run_id;
        const end = Date.now() + 5;
        const res = await post('runs/update', { run_id: id, status: 'FINISHED', end_time: end, run_name: 'after' });
        expect(res.status).toBe(200);
        expect(Object.keys(res.body)).toEqual(['run_info']);
        expect(res.body.run_info).toMatchObject({ run_id: id, run_uuid: id, status: 'FINISHED', end_time: end, run_name: 'after' });
        const got = (await get('runs/get', { run_id: id })).body.run;
        expect(got.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'after' });
        await post('runs/set-tag', { run_id: id, key: 'mlflow.runName', value: 'renamed-by-tag' });
        expect((await get('runs/get', { run_id: id })).body.run.info.run_name).toBe('renamed-by-tag');
        // The enum may also come as its number (3 = FINISHED, 4 = FAILED).
        expect((await post('runs/update', { run_uuid: id, status: 4 })).body.run_info.status).toBe('FAILED');
        expectError(await post('runs/update', { run_id: id, status: 'DONE' }), 400, 'INVALID_PARAMETER_VALUE', /status/);
        expectError(await post('runs/update', { run_id: id, end_time: 'soon' }), 400, 'INVALID_PARAMETER_VALUE', /end_time/);
      });

      it('deletes and restores a run; a deleted run takes no writes', async () => {
        const id = (await newRun(exp)).info.run_id;
        expect((await post('runs/delete', { run_id: id })).body).toEqual({});
        expect((await get('runs/get', { run_id: id })).body.run.info.lifecycle_stage).toBe('deleted');
        expectError(await post('runs/log-parameter', { run_id: id, key: 'k', value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', /active/);
        expect((await post('runs/restore', { run_id: id })).body).toEqual({});
        expect((await get('runs/get', { run_id: id })).body.run.info.lifecycle_stage).toBe('active');
        expect((await post('runs/log-parameter', { run_id: id, key: 'k', value: 'v' })).status).toBe(200);
      });

      it('logs metrics with int64 fields as strings and round-trips NaN and infinities as MLflow writes them', async () => {
        const id = (await newRun(exp)).info.run_id;
        const ok = await post('runs/log-metric', { run_id: id, key: 'loss', value: 0.5, timestamp: '1700000000001', step: '3' });
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        expect(ok.body).toEqual({});
        await post('runs/log-metric', { run_uuid: id, key: 'nan', value: 'NaN', timestamp: 1, step: 0 });
        await post('runs/log-metric', { run_id: id, key: 'inf', value: 'Infinity', timestamp: 1 });
        await post('runs/log-metric', { run_id: id, key: 'ninf', value: '-Infinity', timestamp: 1 });
        await post('runs/log-batch', { run_id: id, metrics: [{ key: 'nan2', value: 'NaN', timestamp: '2', step: '1' }] });
        const metrics = (await get('runs/get', { run_id: id })).body.run.data.metrics ?? [];
        const byKey = Object.fromEntries(metrics.map((m) => [m.key, m]));
        expect(byKey.loss).toEqual({ key: 'loss', value: 0.5, timestamp: 1_700_000_000_001, step: 3 });
        expect(byKey.nan).toEqual({ key: 'nan', value: 'NaN', timestamp: 1, step: 0 });
        expect(byKey.inf?.value).toBe('Infinity');
        expect(byKey.ninf?.value).toBe('-Infinity');
        expect(byKey.nan2).toEqual({ key: 'nan2', value: 'NaN', timestamp: 2, step: 1 });
        expect((await get('metrics/get-history', { run_id: id, metric_key: 'nan' })).body.metrics).toEqual([{ key: 'nan', value: 'NaN', timestamp: 1, step: 0 }]);

        expectError(await post('runs/log-metric', { run_id: id, key: 'm', value: 1 }), 400, 'INVALID_PARAMETER_VALUE', /'timestamp'/);
        expectError(await post('runs/log-metric', { run_id: id, key: 'm', timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE', /'value'/);
        expectError(await post('runs/log-metric', { run_id: id, key: 'm', value: 'high', timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE', /'value'/);
        expectError(await post('runs/log-metric', { run_id: id, key: 'm', value: 1, timestamp: 1, step: 1.5 }), 400, 'INVALID_PARAMETER_VALUE', /'step'/);
        expectError(await post('runs/log-metric', { run_id: id, key: 'bad key!', value: 1, timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE');
      });

      it('keeps params immutable: the same value again is fine, another value is a 400', async () => {
        const id = (await newRun(exp)).info.run_id;
        expect((await post('runs/log-parameter', { run_id: id, key: 'lr', value: '0.01' })).status).toBe(200);
        expect((await post('runs/log-parameter', { run_uuid: id, key: 'lr', value: '0.01' })).status).toBe(200);
        expectError(await post('runs/log-parameter', { run_id: id, key: 'lr', value: '0.02' }), 400, 'INVALID_PARAMETER_VALUE', /0\.01/);
        expectError(await post('runs/log-batch', { run_id: id, params: [{ key: 'lr', value: '0.03' }] }), 400, 'INVALID_PARAMETER_VALUE');
        // String fields must be strings, as MLflow's server requires; only int64 fields are coerced.
        expectError(await post('runs/log-parameter', { run_id: id, key: 'epochs', value: 42 }), 400, 'INVALID_PARAMETER_VALUE', "Invalid value 42 for parameter 'value' supplied");
        expectError(await post('runs/create', { experiment_id: 0 }), 400, 'INVALID_PARAMETER_VALUE', /'experiment_id'/);
        expect((await get('runs/get', { run_id: id })).body.run.data.params).toEqual([{ key: 'lr', value: '0.01' }]);
      });

      it("applies log-batch limits with MLflow's messages and writes nothing from a refused batch", async () => {
        const id = (await newRun(exp)).info.run_id;
        const metrics = (n: number, key = 'm') => Array.from({ length: n }, (_, i) => ({ key, value: i, timestamp: 1, step: i }));
        const kv = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: 'v' }));
        expect((await post('runs/log-batch', { run_id: id, metrics: metrics(1000) })).status).toBe(200);
        expectError(await post('runs/log-batch', { run_id: id, metrics: metrics(1001, 'over') }), 400, 'INVALID_PARAMETER_VALUE', 'A batch logging request can contain at most 1000 metrics. Got 1001 metrics.');
        expectError(await post('runs/log-batch', { run_id: id, params: kv(101, 'p') }), 400, 'INVALID_PARAMETER_VALUE', 'at most 100 params. Got 101 params');
        expectError(await post('runs/log-batch', { run_id: id, tags: kv(101, 't') }), 400, 'INVALID_PARAMETER_VALUE', 'at most 100 tags. Got 101 tags');
        expectError(
          await post('runs/log-batch', { run_id: id, metrics: metrics(900, 'mix'), params: kv(100, 'p'), tags: kv(1, 't') }),
          400,
          'INVALID_PARAMETER_VALUE',
          'at most 1000 metrics, params, and tags. Got 1001',
        );
        // 100 params and 100 tags together are within MLflow's limits.
        expect((await post('runs/log-batch', { run_id: id, params: kv(100, 'p'), tags: kv(100, 't') })).status).toBe(200);
        // A conflicting param refuses the whole batch: its metrics and tags are not written either.
        expectError(await post('runs/log-batch', { run_id: id, metrics: metrics(3, 'lost'), params: [{ key: 'p0', value: 'changed' }], tags: [{ key: 'lost', value: 'x' }] }), 400, 'INVALID_PARAMETER_VALUE');
        expect((await get('metrics/get-history', { run_id: id, metric_key: 'over' })).body).toEqual({});
        expect((await get('metrics/get-history', { run_id: id, metric_key: 'lost' })).body).toEqual({});
        const run = (await get('runs/get', { run_id: id })).body.run;
        expect((run.data.tags ?? []).some((t) => t.key === 'lost')).toBe(false);
        expect(run.data.params).toHaveLength(100);
        expect((await get('metrics/get-history', { run_id: id, metric_key: 'm' })).body.metrics).toHaveLength(1000);
        expectError(await post('runs/log-batch', { run_id: id, metrics: 'lots' }), 400, 'INVALID_PARAMETER_VALUE', /'metrics'/);
        expectError(await post('runs/log-batch', { run_id: id, metrics: [{ key: 'x', timestamp: 1 }] }), 400, 'INVALID_PARAMETER_VALUE', /value/);
      });

      it('sets and deletes tags; deleting an absent tag is a 404', async () => {
        const id = (await newRun(exp)).info.run_id;
        await post('runs/set-tag', { run_id: id, key: 'team', value: 'vision' });
        await post('runs/set-tag', { run_uuid: id, key: 'team', value: 'audio' });
        expect((await get('runs/get', { run_id: id })).body.run.data.tags).toContainEqual({ key: 'team', value: 'audio' });
        expect((await post('runs/delete-tag', { run_id: id, key: 'team' })).body).toEqual({});
        expect(((await get('runs/get', { run_id: id })).body.run.data.tags ?? []).some((t) => t.key === 'team')).toBe(false);
        expectError(await post('runs/delete-tag', { run_id: id, key: 'team' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        expectError(await post('runs/set-tag', { run_id: id, key: 'team' }), 400, 'INVALID_PARAMETER_VALUE', /'value'/);
      });

      it('logs dataset inputs, keeping the mlflow.data.context tag as the context', async () => {
        const id = (await newRun(exp)).info.run_id;
        const dataset = { name: 'diabetes', digest: 'abc123', source_type: 'local', source: '{"uri": "data.csv"}', schema: '{"mlflow_colspec": []}' };
        const res = await post('runs/log-inputs', { run_id: id, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }] });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        await post('runs/log-inputs', { run_id: id, datasets: [{ dataset: { ...dataset, name: 'holdout', digest: 'def456' } }] });
        const inputs = (await get('runs/get', { run_id: id })).body.run.inputs?.dataset_inputs ?? [];
        expect(inputs).toContainEqual({ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset });
        expect(inputs).toContainEqual({ dataset: { ...dataset, name: 'holdout', digest: 'def456' } });
        expectError(await post('runs/log-inputs', { run_id: id, datasets: [{ dataset: { name: 'x' } }] }), 400, 'INVALID_PARAMETER_VALUE', /digest/);
        expectError(await post('runs/log-inputs', { run_id: id, datasets: [{ tags: [] }] }), 400, 'INVALID_PARAMETER_VALUE', /dataset/);
      });

      it('appends each log-model to the mlflow.log-model.history tag', async () => {
        const id = (await newRun(exp)).info.run_id;
        const model = (n: number) => ({ run_id: id, artifact_path: `model${n}`, flavors: { python_function: { loader_module: 'mlflow.pyfunc.model' } }, utc_time_created: '2026-01-01 00:00:00' });
        expect((await post('runs/log-model', { run_id: id, model_json: JSON.stringify(model(1)) })).body).toEqual({});
        // Concurrent log-model calls must not drop each other's entries.
        await Promise.all([2, 3, 4].map((n) => post('runs/log-model', { run_id: id, model_json: JSON.stringify(model(n)) })));
        const tags = (await get('runs/get', { run_id: id })).body.run.data.tags ?? [];
        const history = JSON.parse(tags.find((t) => t.key === 'mlflow.log-model.history')!.value) as Array<{ artifact_path: string }>;
        expect(history.map((h) => h.artifact_path).sort()).toEqual(['model1', 'model2', 'model3', 'model4']);
        expect(history[0]).toEqual(model(1));
        expectError(await post('runs/log-model', { run_id: id }), 400, 'INVALID_PARAMETER_VALUE', /model_json/);
        expectError(await post('runs/log-model', { run_id: id, model_json: '{not json' }), 400, 'INVALID_PARAMETER_VALUE', /model_json/);
      });
    });

    describe('MLflow run search and metric history', () => {
      let exp: string;
      const runs: string[] = [];
      beforeAll(async () => {
        exp = await newExperiment();
        for (let i = 0; i < 25; i++) {
          const run = await newRun(exp, { start_time: 1_700_000_000_000 + i, run_name: `run-${i}` });
          const id = run.info.run_id;
          runs.push(id);
          await post('runs/log-batch', {
            run_id: id,
            metrics: i === 24 ? [] : [{ key: 'acc', value: i / 100, timestamp: 1, step: 0 }],
            params: [{ key: 'solver', value: i % 2 === 0 ? 'lbfgs' : 'saga' }],
            tags: [{ key: 'team', value: i < 10 ? 'vision' : 'audio' }],
          });
        }
      });

      const ids = (r: Res<Json>) => (r.body.runs ?? []).map((x) => x.info.run_id);

      it('filters and orders by metrics, params, tags and attributes', async () => {
        const res = await post('runs/search', { experiment_ids: [exp], filter: 'metrics.acc > 0.2', order_by: ['metrics.acc DESC'], max_results: 100 });
        expect(res.status).toBe(200);
        expect(ids(res)).toEqual(runs.slice(21, 24).reverse());
        expect(res.body).not.toHaveProperty('next_page_token');
        const first = res.body.runs![0]!;
        expect(first.data.metrics).toEqual([{ key: 'acc', value: 0.23, timestamp: 1, step: 0 }]);
        expect(first.data.params).toEqual([{ key: 'solver', value: 'saga' }]);
        expect(first.inputs).toEqual({});

        expect(ids(await post('runs/search', { experiment_ids: [exp], filter: "params.solver = 'lbfgs' AND tags.team = 'vision'", order_by: ['attributes.start_time ASC'] }))).toEqual([0, 2, 4, 6, 8].map((i) => runs[i]));
        expect(ids(await post('runs/search', { experiment_ids: [exp], filter: "attributes.run_name IN ('run-3', 'run-7')" })).sort()).toEqual([runs[3], runs[7]].sort());
        expect(ids(await post('runs/search', { experiment_ids: [exp], filter: "tags.team LIKE 'vis%' AND params.solver != 'lbfgs'", order_by: ['start_time DESC'] }))).toEqual([9, 7, 5, 3, 1].map((i) => runs[i]));
        // Runs without the metric sort last in either direction.
        const asc = ids(await post('runs/search', { experiment_ids: [exp], order_by: ['metrics.acc ASC'] }));
        expect(asc[0]).toBe(runs[0]);
        expect(asc.at(-1)).toBe(runs[24]);
        // Default order: newest start first.
        expect(ids(await post('runs/search', { experiment_ids: [exp], max_results: 1 }))).toEqual([runs[24]]);
      });

      it('pages with max_results and page_token without gaps or duplicates', async () => {
        const seen: string[] = [];
        const sizes: number[] = [];
        let token: string | undefined;
        do {
          const page = await post('runs/search', { experiment_ids: [exp], max_results: 10, order_by: ['attributes.start_time ASC'], ...(token !== undefined ? { page_token: token } : {}) });
          expect(page.status).toBe(200);
          sizes.push(ids(page).length);
          seen.push(...ids(page));
          token = page.body.next_page_token;
        } while (token !== undefined);
        expect(sizes).toEqual([10, 10, 5]);
        expect(seen).toEqual(runs);
      });

      it('honours run_view_type, and answers an empty search with {}', async () => {
        const victim = runs[5]!;
        await post('runs/delete', { run_id: victim });
        try {
          expect(ids(await post('runs/search', { experiment_ids: [exp], run_view_type: 'DELETED_ONLY' }))).toEqual([victim]);
          expect(ids(await post('runs/search', { experiment_ids: [exp], run_view_type: 'ALL', max_results: 1000 }))).toHaveLength(25);
          expect(ids(await post('runs/search', { experiment_ids: [exp], max_results: 1000 }))).toHaveLength(24);
        } finally {
          await post('runs/restore', { run_id: victim });
        }
        expect((await post('runs/search', { experiment_ids: [exp], filter: 'metrics.acc > 5' })).body).toEqual({});
        expect((await post('runs/search', { experiment_ids: [] })).body).toEqual({});
      });

      it('refuses bad searches with 400', async () => {
        // MLflow's handler bounds runs/search itself, with its generic message.
        expectError(await post('runs/search', { experiment_ids: [exp], max_results: 50_001 }), 400, 'INVALID_PARAMETER_VALUE', "Invalid value 50001 for parameter 'max_results' supplied");
        expectError(await post('runs/search', { experiment_ids: [exp], max_results: 123456789 }), 400, 'INVALID_PARAMETER_VALUE', "Invalid value 123456789 for parameter 'max_results' supplied. Hint: Value was of type 'int'.");
        expectError(await post('runs/search', { experiment_ids: [exp], max_results: '123456789' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid value 123456789 for parameter 'max_results' supplied. Hint: Value was of type 'str'.");
        expect((await post('runs/search', { experiment_ids: [exp], max_results: 50_000 })).status).toBe(200);
        expectError(await post('runs/search', { experiment_ids: [exp], filter: 'metrics.acc >' }), 400, 'INVALID_PARAMETER_VALUE', /invalid filter/);
        expectError(await post('runs/search', { experiment_ids: [exp], filter: "metrics.acc > 0.1 OR params.solver = 'saga'" }), 400, 'INVALID_PARAMETER_VALUE', /OR/);
        expectError(await post('runs/search', { experiment_ids: [exp], order_by: ['metrics.acc sideways'] }), 400, 'INVALID_PARAMETER_VALUE');
        expectError(await post('runs/search', { experiment_ids: [exp], run_view_type: 'SOME' }), 400, 'INVALID_PARAMETER_VALUE', /run_view_type/);
        expectError(await post('runs/search', { experiment_ids: [exp], page_token: 'nope' }), 400, 'INVALID_PARAMETER_VALUE', /page_token/);
      });

      it('pages metric history, and returns the whole history when no paging field is given', async () => {
        const id = runs[0]!;
        await post('runs/log-batch', { run_id: id, metrics: Array.from({ length: 30 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: 100 + i, step: i })) });
        const steps: number[] = [];
        const sizes: number[] = [];
        let token: string | undefined;
        do {
          const page = await get('metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 10, ...(token !== undefined ? { page_token: token } : {}) });
          expect(page.status).toBe(200);
          const ms = page.body.metrics ?? [];
          sizes.push(ms.length);
          steps.push(...ms.map((m) => m.step));
          token = page.body.next_page_token;
        } while (token !== undefined);
        expect(sizes).toEqual([10, 10, 10]);
        expect(steps).toEqual(Array.from({ length: 30 }, (_, i) => i));
        const all = await get('metrics/get-history', { run_uuid: id, metric_key: 'loss' });
        expect(all.body.metrics).toHaveLength(30);
        expect(all.body).not.toHaveProperty('next_page_token');
        expect(all.body.metrics![0]).toEqual({ key: 'loss', value: 1, timestamp: 100, step: 0 });
        expect((await get('metrics/get-history', { run_id: id, metric_key: 'never-logged' })).body).toEqual({});
        expectError(await get('metrics/get-history', { run_id: id }), 400, 'INVALID_PARAMETER_VALUE', /metric_key/);
        expectError(await get('metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 0 }), 400, 'INVALID_PARAMETER_VALUE');
      });

      it('reads repeated query keys as lists on GET', async () => {
        const prefix = `multi-${uid()}`;
        await newExperiment(`${prefix}-b`);
        await newExperiment(`${prefix}-a`);
        const res = await get('experiments/search', { filter: `name LIKE '${prefix}-%'`, order_by: ['name ASC', 'experiment_id DESC'], view_type: 'ACTIVE_ONLY' });
        expect(res.status).toBe(200);
        expect(res.body.experiments!.map((e) => e.name)).toEqual([`${prefix}-a`, `${prefix}-b`]);
        const raw = await fetch(`${s.url}/api/2.0/mlflow/experiments/search?filter=${encodeURIComponent(`name LIKE '${prefix}-%'`)}&order_by=name+DESC&order_by=experiment_id`);
        expect(((await raw.json()) as Json).experiments!.map((e) => e.name)).toEqual([`${prefix}-b`, `${prefix}-a`]);
      });
    });

    describe('MLflow artifacts', () => {
      let exp: string;
      let runId: string;
      let base: string; // <exp>/<run>/artifacts
      const artifactsUrl = (p: string) => `${s.url}/api/2.0/mlflow-artifacts/artifacts/${p}`;
      const put = (p: string, body: Buffer | string, contentType = 'application/octet-stream') => fetch(artifactsUrl(p), { method: 'PUT', headers: { 'content-type': contentType }, body });
      const list = async (dir: string) => {
        const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(dir)}`);
        return { status: res.status, body: (await res.json()) as Json };
      };

      beforeAll(async () => {
        exp = await newExperiment();
        const run = await newRun(exp);
        runId = run.info.run_id;
        base = `${exp}/${runId}/artifacts`;
        expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${base}`);
      });

      it('uploads, lists, downloads and deletes through the proxied artifact API', async () => {
        const up = await put(`${base}/hello.txt`, 'hi\n', 'text/plain');
        expect(up.status).toBe(200);
        expect(await up.json()).toEqual({});
        expect((await put(`${base}/dir/sub/x.json`, '{}', 'application/json')).status).toBe(200);
        expect((await put(`${base}/dir/hello.txt`, 'hi\n')).status).toBe(200);
        const binary = randomBytes(4096);
        expect((await put(`${base}/model/model.bin`, binary)).status).toBe(200);
        // No content type at all is accepted too.
        expect((await raw('PUT', `/api/2.0/mlflow-artifacts/artifacts/${base}/plain.txt`, 'plain', undefined)).status).toBe(200);

        expect((await list(base)).body).toEqual({
          files: [
            { path: 'dir', is_dir: true },
            { path: 'hello.txt', is_dir: false, file_size: 3 },
            { path: 'model', is_dir: true },
            { path: 'plain.txt', is_dir: false, file_size: 5 },
          ],
        });
        expect((await list(`${base}/dir`)).body).toEqual({ files: [{ path: 'hello.txt', is_dir: false, file_size: 3 }, { path: 'sub', is_dir: true }] });
        expect((await list(`${base}/hello.txt`)).body).toEqual({});
        expect((await list(`${base}/no-such-dir`)).body).toEqual({});

        const viaRunApi = await get('artifacts/list', { run_id: runId, path: 'dir' });
        expect(viaRunApi.body).toEqual({ root_uri: `mlflow-artifacts:/${base}`, files: [{ path: 'dir/hello.txt', is_dir: false, file_size: 3 }, { path: 'dir/sub', is_dir: true }] });
        expect((await get('artifacts/list', { run_uuid: runId })).body.files).toHaveLength(4);
        expect((await get('artifacts/list', { run_id: runId, path: 'nothing' })).body).toEqual({ root_uri: `mlflow-artifacts:/${base}` });

        const down = await fetch(artifactsUrl(`${base}/model/model.bin`));
        expect(down.status).toBe(200);
        expect(Buffer.from(await down.arrayBuffer()).equals(binary)).toBe(true);
        expect(await (await fetch(artifactsUrl(`${base}/hello.txt`))).text()).toBe('hi\n');
        const absent = await fetch(artifactsUrl(`${base}/absent.txt`));
        expectError({ status: absent.status, body: (await absent.json()) as Json }, 404, 'RESOURCE_DOES_NOT_EXIST', 'absent.txt');

        const del = await fetch(artifactsUrl(`${base}/dir`), { method: 'DELETE' });
        expect(del.status).toBe(200);
        expect((await list(`${base}/dir`)).body).toEqual({});
        expect((await fetch(artifactsUrl(`${base}/dir/hello.txt`))).status).toBe(404);
      });

      it('streams an upload larger than the JSON body limit', async () => {
        const big = randomBytes(12 * 1024 * 1024);
        const res = await put(`${base}/big/weights.bin`, big);
        expect(res.status).toBe(200);
        const back = Buffer.from(await (await fetch(artifactsUrl(`${base}/big/weights.bin`))).arrayBuffer());
        expect(back.length).toBe(big.length);
        expect(back.equals(big)).toBe(true);
      });

      it("confines uploads and deletes to an existing run's artifact folder", async () => {
        const other = await newExperiment();
        const bad = async (res: Response, status: number, code: string) => {
          expect(res.status).toBe(status);
          expect(((await res.json()) as Json).error_code).toBe(code);
        };
        await bad(await put(`${exp}/${'c'.repeat(32)}/artifacts/x.txt`, 'x'), 404, 'RESOURCE_DOES_NOT_EXIST');
        await bad(await put(`${other}/${runId}/artifacts/x.txt`, 'x'), 404, 'RESOURCE_DOES_NOT_EXIST');
        await bad(await put(`${exp}/${runId}/elsewhere/x.txt`, 'x'), 400, 'INVALID_PARAMETER_VALUE');
        await bad(await put(`${exp}/${runId}/artifacts`, 'x'), 400, 'INVALID_PARAMETER_VALUE');
        await bad(await put(`${exp}/x.txt`, 'x'), 400, 'INVALID_PARAMETER_VALUE');
        await bad(await put(`loose.txt`, 'x'), 400, 'INVALID_PARAMETER_VALUE');
        await bad(await fetch(artifactsUrl(`${exp}/${runId}`), { method: 'DELETE' }), 400, 'INVALID_PARAMETER_VALUE');
        expect(fs.existsSync(path.join(s.home, 'artifacts', other, runId))).toBe(false);
        expect(fs.existsSync(path.join(s.home, 'artifacts', exp, runId, 'elsewhere'))).toBe(false);
        // A deleted run takes no more artifacts.
        const gone = (await newRun(exp)).info.run_id;
        await post('runs/delete', { run_id: gone });
        await bad(await put(`${exp}/${gone}/artifacts/x.txt`, 'x'), 400, 'INVALID_PARAMETER_VALUE');
      });

      it('refuses artifact paths that escape, however they are spelled, and writes nothing outside', async () => {
        const before = new Set(filesUnder(s.home));
        const prefix = `/api/2.0/mlflow-artifacts/artifacts`;
        const escapes = [
          `${base}/../../../../escape-a.txt`,
          `${base}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escape-b.txt`,
          `${base}/..%2F..%2F..%2F..%2Fescape-c.txt`,
          `${base}/%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fescape-d.txt`,
          `${base}/..%5C..%5C..%5C..%5Cescape-e.txt`,
          `${base}/x%00escape-f.txt`,
          `%2Ftmp%2Fescape-g.txt`,
          `/tmp/escape-h.txt`,
          `${exp}/${runId}/artifacts/sub/../../../escape-i.txt`,
        ];
        for (const p of escapes) {
          const res = await raw('PUT', `${prefix}/${p}`, 'owned');
          expect(res.status, `PUT ${p}: ${res.text}`).toBeGreaterThanOrEqual(400);
          expect(res.status, `PUT ${p}: ${res.text}`).toBeLessThan(500);
          expect((JSON.parse(res.text) as Json).error_code).toBeTypeOf('string');
        }
        const after = filesUnder(s.home).filter((f) => !before.has(f) && !f.endsWith('-wal') && !f.endsWith('-shm'));
        expect(after).toEqual([]);
        for (const name of 'abcdefghi') expect(fs.existsSync(path.join('/tmp', `escape-${name}.txt`))).toBe(false);

        // Reads and deletes that escape are refused too: the database lives next to the artifact root.
        for (const p of ['../fluxops.db', '%2e%2e/fluxops.db', '..%2Ffluxops.db', `${base}/../../../../fluxops.db`]) {
          const res = await raw('GET', `${prefix}/${p}`);
          expect(res.status, `GET ${p}`).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(res.text).not.toContain('SQLite format');
          const del = await raw('DELETE', `${prefix}/${p}`);
          expect(del.status, `DELETE ${p}`).toBeGreaterThanOrEqual(400);
          expect(del.status).toBeLessThan(500);
        }
        for (const dir of ['..', '../..', '/etc', `${base}/../../..`]) {
          const res = await raw('GET', `${prefix}?path=${encodeURIComponent(dir)}`);
          expect(res.status, `list ${dir}`).toBe(400);
        }
        expectError(await get('artifacts/list', { run_id: runId, path: '../../..' }), 400, 'INVALID_PARAMETER_VALUE');
        if (s.dbFile !== undefined) expect(fs.existsSync(s.dbFile)).toBe(true);
      });

      it('refuses to follow a symbolic link planted in a run folder', async () => {
        const dir = path.join(s.home, 'artifacts', base);
        fs.mkdirSync(dir, { recursive: true });
        const outside = path.join(s.home, 'outside');
        fs.mkdirSync(outside, { recursive: true });
        fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
        fs.symlinkSync(outside, path.join(dir, 'link'));
        const res = await fetch(artifactsUrl(`${base}/link/secret.txt`));
        expect(res.status).toBe(400);
        expect(await res.text()).not.toContain('secret"');
        expect((await put(`${base}/link/planted.txt`, 'x')).status).toBe(400);
        expect(fs.existsSync(path.join(outside, 'planted.txt'))).toBe(false);
      });
    });

    describe('MLflow 2.12.2 compatibility: refusal messages, dataset tags, locations, paths', () => {
      let exp: string;
      let runId: string;
      beforeAll(async () => {
        exp = await newExperiment();
        runId = (await newRun(exp)).info.run_id;
      });
      /** A POST whose body is sent exactly as written (JSON.stringify would print 9.0 as 9). */
      const postText = async (route: string, text: string): Promise<Res<Json>> => {
        const res = await fetch(`${s.url}/api/2.0/mlflow/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
        return { status: res.status, body: (await res.json()) as Json };
      };
      const invalidValue = (shown: string, param: string, type: string) =>
        `Invalid value ${shown} for parameter '${param}' supplied. Hint: Value was of type '${type}'. See the API docs for more information about request parameters.`;

      it("prints a refused value as Python's str() does: strings bare, floats as floats, lists and dicts in repr", async () => {
        const metric = { run_id: runId, key: 'foo', value: 31, timestamp: 59, step: 41 };
        expect((await post('runs/log-metric', { ...metric, step: 'foo' })).body.message).toBe(invalidValue('foo', 'step', 'str'));
        expect((await post('runs/log-metric', { ...metric, timestamp: 'foo' })).body.message).toBe(invalidValue('foo', 'timestamp', 'str'));
        for (const field of ['metrics', 'params', 'tags']) {
          expectError(await post('runs/log-batch', { run_id: runId, [field]: 'foo' }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('foo', field, 'str'));
        }
        expectError(await post('experiments/create', { name: `e-${uid()}`, tags: '5' }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('5', 'tags', 'str'));
        // The float as written: JSON.parse alone would print 9.
        const float = await postText('experiments/create', `{"name": "e-${uid()}", "artifact_location": 9.0}`);
        expectError(float, 400, 'INVALID_PARAMETER_VALUE', invalidValue('9.0', 'artifact_location', 'float'));
        expect((await postText('experiments/create', `{"name": "e-${uid()}", "artifact_location": 9}`)).body.message).toBe(invalidValue('9', 'artifact_location', 'int'));
        expect((await postText('experiments/create', `{"name": "e-${uid()}", "artifact_location": 1e16}`)).body.message).toContain('Invalid value 1e+16 ');
        expect((await postText('experiments/create', `{"name": "e-${uid()}", "artifact_location": 0.00001}`)).body.message).toContain('Invalid value 1e-05 ');
        expect((await postText('experiments/create', `{"name": "e-${uid()}", "artifact_location": 123456789012345678901234567890}`)).body.message).toContain('Invalid value 123456789012345678901234567890 ');
        // Lists and dicts: single quotes (double when the text holds one), ', ' and ': ', True/False/None, escapes.
        const nested = await postText(
          'experiments/create',
          // JSON text: a tab escape, an escaped backslash; keys in the order sent (JS would put '2' first).
          String.raw`{"name": "e-${uid()}", "artifact_location": [1.0, 2, true, false, null, "it's", "tab\there", "back\\slash", {"a": [], "b": {}, "2": -0.5}]}`,
        );
        expect(nested.body.message).toBe(invalidValue(String.raw`[1.0, 2, True, False, None, "it's", 'tab\there', 'back\\slash', {'a': [], 'b': {}, '2': -0.5}]`, 'artifact_location', 'list'));
        expect((await post('experiments/create', { name: `e-${uid()}`, artifact_location: { k: 'v\n', 'é': '\u0007' } })).body.message).toBe(
          invalidValue(`{'k': 'v\\n', 'é': '\\x07'}`, 'artifact_location', 'dict'),
        );
        // Bodies that are not sent as written (no raw text at hand) fall back to the parsed value.
        expectError(await post('runs/log-parameter', { run_id: runId, key: 'p', value: 4.5 }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('4.5', 'value', 'float'));
        expectError(await get('runs/get', { run_id: '../etc' }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('../etc', 'run_id', 'str'));
      });

      it('refuses a log-batch metric without a timestamp (the whole list printed), but not one without a step', async () => {
        const id = (await newRun(exp)).info.run_id;
        const refused = await post('runs/log-batch', { run_id: id, metrics: [{ key: 'mae', value: 2.5 }] });
        expectError(refused, 400, 'INVALID_PARAMETER_VALUE', invalidValue("[{'key': 'mae', 'value': 2.5}]", 'metrics', 'list'));
        const asWritten = await postText('runs/log-batch', `{"run_id": "${id}", "metrics": [{"key": "ok", "value": 1.0, "timestamp": 5}, {"key": "mae", "value": 2.0}]}`);
        expectError(asWritten, 400, 'INVALID_PARAMETER_VALUE', "Invalid value [{'key': 'ok', 'value': 1.0, 'timestamp': 5}, {'key': 'mae', 'value': 2.0}] for parameter 'metrics' supplied");
        expectError(await post('runs/log-batch', { run_id: id, metrics: [{ key: 'mae', value: 2.5, timestamp: '' }] }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'metrics'");
        expectError(await post('runs/log-batch', { run_id: id, metrics: [{ value: 2.5, timestamp: 1 }] }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'metrics'");
        expectError(await post('runs/log-batch', { run_id: id, params: [{ value: 'v' }] }), 400, 'INVALID_PARAMETER_VALUE', invalidValue("[{'value': 'v'}]", 'params', 'list'));
        expectError(await post('runs/log-batch', { run_id: id, tags: [{ key: '', value: 'v' }] }), 400, 'INVALID_PARAMETER_VALUE', invalidValue("[{'key': '', 'value': 'v'}]", 'tags', 'list'));
        // A refused batch writes nothing, not even its valid metrics.
        expect((await get('metrics/get-history', { run_id: id, metric_key: 'ok' })).body).toEqual({});

        expect((await post('runs/log-batch', { run_id: id, metrics: [{ key: 'mae', value: 2.5, timestamp: 123456789 }] })).status).toBe(200);
        expect((await get('metrics/get-history', { run_id: id, metric_key: 'mae' })).body.metrics).toEqual([{ key: 'mae', value: 2.5, timestamp: 123456789, step: 0 }]);
      });

      it('keeps every tag of a dataset input, in the order sent, on runs/get and runs/search', async () => {
        const id = (await newRun(exp)).info.run_id;
        const dataset = { name: 'dataset', digest: 'f0f3e026', source_type: 'local', source: '{"uri": "/tmp/temp.csv"}' };
        const tags = [
          { key: 'foo', value: 'baz' },
          { key: 'mlflow.data.context', value: 'train' },
          { key: 'alpha', value: '' },
        ];
        expect((await post('runs/log-inputs', { run_id: id, datasets: [{ tags, dataset }, { tags: [{ key: 'tag1', value: 'value1' }], dataset: { ...dataset, name: 'name1', digest: 'digest1' } }] })).status).toBe(200);
        const expected = [
          { tags, dataset },
          { tags: [{ key: 'tag1', value: 'value1' }], dataset: { ...dataset, name: 'name1', digest: 'digest1' } },
        ];
        const byName = (xs: Array<{ dataset: { name: string } }>) => [...xs].sort((a, b) => a.dataset.name.localeCompare(b.dataset.name));
        expect(byName((await get('runs/get', { run_id: id })).body.run.inputs?.dataset_inputs ?? [])).toEqual(byName(expected));
        const found = (await post('runs/search', { experiment_ids: [exp], filter: `attributes.run_id = '${id}'` })).body.runs ?? [];
        expect(found).toHaveLength(1);
        expect(byName(found[0]!.inputs?.dataset_inputs ?? [])).toEqual(byName(expected));

        // Logging the same dataset again replaces its tags; the native API sees the context and the tags.
        await post('runs/log-inputs', { run_id: id, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'eval' }], dataset }] });
        const native = (await (await fetch(`${s.url}/api/v1/runs/${id}`)).json()) as { inputs: Array<{ name: string; context: string; tags: unknown }> };
        expect(native.inputs.find((d) => d.name === 'dataset')).toMatchObject({ context: 'eval', tags: [{ key: 'mlflow.data.context', value: 'eval' }] });
        expect(native.inputs.find((d) => d.name === 'name1')).toMatchObject({ context: '', tags: [{ key: 'tag1', value: 'value1' }] });
      });

      it('refuses runs/log-inputs without datasets; an empty list is fine', async () => {
        expectError(await post('runs/log-inputs', { run_id: runId }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'datasets'");
        expectError(await post('runs/log-inputs', { datasets: [] }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'");
        expect((await post('runs/log-inputs', { run_id: runId, datasets: [] })).body).toEqual({});
        expectError(await post('runs/log-inputs', { run_id: runId, datasets: [{ tags: [{ value: 'v' }], dataset: { name: 'n', digest: 'd', source_type: 's', source: 'x' } }] }), 400, 'INVALID_PARAMETER_VALUE', /key/);
      });

      it("stores a relative artifact_location resolved against the server's working directory; URIs and absolute paths as given", async () => {
        const location = async (artifactLocation: string): Promise<string> => {
          const created = await post('experiments/create', { name: `loc-${uid()}`, artifact_location: artifactLocation });
          expect(created.status, JSON.stringify(created.body)).toBe(200);
          return (await get('experiments/get', { experiment_id: created.body.experiment_id })).body.experiment.artifact_location;
        };
        expect(await location('my_location')).toBe(`${process.cwd()}/my_location`);
        expect(await location('./a/./b//c')).toBe(`${process.cwd()}/a/b/c`);
        expect(await location('/srv/mlruns')).toBe('/srv/mlruns');
        expect(await location('s3://bucket/path')).toBe('s3://bucket/path');
        expect(await location('file:///srv/x')).toBe('file:///srv/x');
        expect(await location('mlflow-artifacts:/custom')).toBe('mlflow-artifacts:/custom');
      });

      it("orders experiments/search by creation time, newest first, then id: deleting one does not move it (MLflow's test)", async () => {
        const p = `order-${uid()}`;
        const ids: string[] = [];
        for (const n of ['a', 'ab', 'Abc']) {
          ids.push(await newExperiment(`${p}-${n}`));
          await new Promise((r) => setTimeout(r, 3));
        }
        await new Promise((r) => setTimeout(r, 3));
        await post('experiments/delete', { experiment_id: ids[1] });
        const res = await post('experiments/search', { filter: `name LIKE '${p}-%'`, view_type: 'ALL' });
        expect((res.body.experiments ?? []).map((e) => e.name)).toEqual(['Abc', 'ab', 'a'].map((n) => `${p}-${n}`));
      });

      it("answers a path that leaves the run's folder with exactly 'Invalid path', also on the UI download routes", async () => {
        const invalidPath = { error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' };
        const q = (extra: Record<string, string>) => new URLSearchParams(extra).toString();
        for (const bad of ['../path', 'a/../../b', '/etc/passwd', '%2E%2E/x', '%252E%252E%252Fx', 'a\\..\\b', 'x#y']) {
          const listed = await raw('GET', `/api/2.0/mlflow/artifacts/list?${q({ run_id: runId, path: bad })}`);
          expect(listed.status, bad).toBe(400);
          expect(JSON.parse(listed.text), bad).toEqual(invalidPath);
          const download = await raw('GET', `/get-artifact?${q({ run_id: runId, path: bad })}`);
          expect(download.status, bad).toBe(400);
          expect(JSON.parse(download.text), bad).toEqual(invalidPath);
          // The path is checked first: the model does not even exist. Note the double slash MLflow's test sends.
          const version = await raw('GET', `//model-versions/get-artifact?${q({ name: 'model', version: '1', path: bad })}`);
          expect(version.status, bad).toBe(400);
          expect(JSON.parse(version.text), bad).toEqual(invalidPath);
        }
        expect(JSON.parse((await raw('GET', `/ajax-api/2.0/mlflow/artifacts/list?${q({ run_id: runId, path: '../path' })}`)).text)).toEqual(invalidPath);
      });

      it('downloads a run artifact from /get-artifact as an attachment', async () => {
        const id = (await newRun(exp)).info.run_id;
        const up = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${id}/artifacts/dir/notes.txt`, { method: 'PUT', body: 'hello' });
        expect(up.status).toBe(200);
        const res = await fetch(`${s.url}/get-artifact?${new URLSearchParams({ run_id: id, path: 'dir/notes.txt' }).toString()}`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('hello');
        expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="notes.txt"/);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        const absent = await fetch(`${s.url}/get-artifact?${new URLSearchParams({ run_uuid: id, path: 'dir/absent.txt' }).toString()}`);
        expectError({ status: absent.status, body: (await absent.json()) as Json }, 404, 'RESOURCE_DOES_NOT_EXIST');
        const noPath = await fetch(`${s.url}/get-artifact?${new URLSearchParams({ run_id: id }).toString()}`);
        expectError({ status: noPath.status, body: (await noPath.json()) as Json }, 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'path'");
      });
    });

    describe('MLflow UI routes, under /ajax-api only as MLflow serves them', () => {
      const ajax = (method: string, route: string, body?: unknown) => call(method, route, body, '/ajax-api/2.0/mlflow');
      const ajaxGet = (route: string, query: Record<string, string | number | Array<string | number>>) => {
        const q = new URLSearchParams();
        for (const [k, v] of Object.entries(query)) for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
        return ajax('GET', `${route}?${q.toString()}`);
      };
      const logAll = async (runId: string, points: Array<{ key: string; value: number; timestamp: number; step: number }>) => {
        for (const m of points) expect((await post('runs/log-metric', { run_id: runId, ...m })).status).toBe(200);
      };

      it('metrics/get-history-bulk: every point of each run, by run id then timestamp, step and value, with run_id', async () => {
        const exp = await newExperiment();
        const [r1, r2, r3] = [(await newRun(exp)).info.run_id, (await newRun(exp)).info.run_id, (await newRun(exp)).info.run_id];
        const history = [
          { key: 'a', timestamp: 2, step: 3, value: 12 },
          { key: 'a', timestamp: 1, step: 3, value: 12 },
          { key: 'a', timestamp: 1, step: 2, value: 10 },
          { key: 'a', timestamp: 1, step: 3, value: 11 },
        ];
        await logAll(r1, history);
        await logAll(r2, history.map((m) => ({ ...m, value: m.value + 1 })));
        const sorted = [...history].sort((x, y) => x.timestamp - y.timestamp || x.step - y.step || x.value - y.value);
        const one = await ajaxGet('metrics/get-history-bulk', { run_id: r1, metric_key: 'a' });
        expect(one.status).toBe(200);
        expect(one.body.metrics).toEqual(sorted.map((m) => ({ ...m, run_id: r1 })));
        const many = await ajaxGet('metrics/get-history-bulk', { run_id: [r2, r1, r3], metric_key: 'a' });
        const byRun = [r1, r2].sort().flatMap((r) => sorted.map((m) => ({ ...m, value: r === r2 ? m.value + 1 : m.value, run_id: r })));
        expect(many.body.metrics).toEqual(byRun);
        expect((await ajaxGet('metrics/get-history-bulk', { run_id: r1, metric_key: 'a', max_results: 2 })).body.metrics).toEqual(sorted.slice(0, 2).map((m) => ({ ...m, run_id: r1 })));
        // Like MLflow's one IN query: runs with no such metric, or no such run, add nothing.
        expect((await ajaxGet('metrics/get-history-bulk', { run_id: [r3, 'f'.repeat(32)], metric_key: 'a' })).body).toEqual({ metrics: [] });
        expectError(await ajaxGet('metrics/get-history-bulk', { metric_key: 'a' }), 400, 'INVALID_PARAMETER_VALUE', 'GetMetricHistoryBulk request must specify at least one run_id.');
        expectError(await ajaxGet('metrics/get-history-bulk', { run_id: Array.from({ length: 101 }, (_, i) => `id_${i}`), metric_key: 'a' }), 400, 'INVALID_PARAMETER_VALUE', 'GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids.');
        expectError(await ajaxGet('metrics/get-history-bulk', { run_id: r1 }), 400, 'INVALID_PARAMETER_VALUE', 'GetMetricHistoryBulk request must specify a metric_key.');
        // Only the UI's prefix serves it.
        expectError(await get('metrics/get-history-bulk', { run_id: r1, metric_key: 'a' }), 501, 'NOT_IMPLEMENTED');
      });

      it("metrics/get-history-bulk-interval: samples the runs' logged steps as MLflow does, keeping each run's first and last", async () => {
        const exp = await newExperiment();
        const r1 = (await newRun(exp)).info.run_id;
        await logAll(r1, Array.from({ length: 10 }, (_, i) => ({ key: 'loss', timestamp: 1, step: i, value: 10 })));
        const steps = (res: Res<Json>) => (res.body.metrics ?? []).map((m) => `${(m as MlflowMetric & { run_id: string }).run_id === r1 ? 'r1' : 'r2'}:${m.step}`);
        const sampled = await ajaxGet('metrics/get-history-bulk-interval', { run_ids: r1, metric_key: 'loss', max_results: 5 });
        expect(sampled.status).toBe(200);
        expect(steps(sampled)).toEqual([0, 2, 4, 6, 8, 9].map((x) => `r1:${x}`));
        expect(sampled.body.metrics![0]).toEqual({ key: 'loss', value: 10, timestamp: 1, step: 0, run_id: r1 });
        expect(steps(await ajaxGet('metrics/get-history-bulk-interval', { run_ids: r1, metric_key: 'loss', start_step: 0, end_step: 4, max_results: 5 }))).toEqual([0, 1, 2, 3, 4].map((x) => `r1:${x}`));
        const r2 = (await newRun(exp)).info.run_id;
        await logAll(r2, Array.from({ length: 20 }, (_, i) => ({ key: 'loss', timestamp: 1, step: i, value: 10 })));
        // The steps are sampled over both runs' steps (0..19), plus r1's last step (9).
        const both = steps(await ajaxGet('metrics/get-history-bulk-interval', { run_ids: [r1, r2], metric_key: 'loss', max_results: 5 }));
        expect(both).toEqual([...[0, 4, 8, 9].map((x) => `r1:${x}`), ...[0, 4, 8, 9, 12, 16, 19].map((x) => `r2:${x}`)]);
        const url = 'metrics/get-history-bulk-interval';
        expectError(await ajaxGet(url, { metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_ids'.");
        expectError(await ajaxGet(url, { run_ids: Array.from({ length: 101 }, (_, i) => `id_${i}`), metric_key: 'k' }), 400, 'INVALID_PARAMETER_VALUE', 'GetMetricHistoryBulkInterval request must specify at most 100 run_ids.');
        expectError(await ajaxGet(url, { run_ids: r1, metric_key: 'k', max_results: 0 }), 400, 'INVALID_PARAMETER_VALUE', 'max_results must be between 1 and 2500');
        expectError(await ajaxGet(url, { run_ids: r1, metric_key: '' }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'metric_key'");
        expectError(await ajaxGet(url, { run_ids: r1, metric_key: 'k', start_step: 1, end_step: 0 }), 400, 'INVALID_PARAMETER_VALUE', 'end_step must be greater than start_step. Found start_step=1 and end_step=0.');
        expectError(await ajaxGet(url, { run_ids: r1, metric_key: 'k', start_step: 1 }), 400, 'INVALID_PARAMETER_VALUE', 'If either start step or end step are specified, both must be specified.');
        expectError(await ajaxGet(url, { run_ids: 'f'.repeat(32), metric_key: 'k' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      });

      it('experiments/search-datasets: distinct datasets of the experiments with their context (null without one)', async () => {
        const exp = await newExperiment();
        const other = await newExperiment();
        const r1 = (await newRun(exp)).info.run_id;
        const r2 = (await newRun(exp)).info.run_id;
        const ds = (name: string) => ({ name, digest: `d-${name}`, source_type: 'local', source: `/data/${name}` });
        const ctx = (value: string) => [{ key: 'mlflow.data.context', value }];
        expect((await post('runs/log-inputs', { run_id: r1, datasets: [{ dataset: ds('train'), tags: ctx('training') }, { dataset: ds('raw') }] })).status).toBe(200);
        expect((await post('runs/log-inputs', { run_id: r2, datasets: [{ dataset: ds('train'), tags: ctx('training') }] })).status).toBe(200);
        const res = await ajax('POST', 'experiments/search-datasets', { experiment_ids: [exp, other] });
        expect(res.status).toBe(200);
        const summaries = (res.body as unknown as { dataset_summaries: unknown[] }).dataset_summaries;
        expect(summaries).toHaveLength(2);
        expect(summaries).toEqual(
          expect.arrayContaining([
            { experiment_id: exp, name: 'train', digest: 'd-train', context: 'training' },
            { experiment_id: exp, name: 'raw', digest: 'd-raw', context: null },
          ]),
        );
        expect((await ajax('POST', 'experiments/search-datasets', { experiment_ids: [other] })).body).toEqual({ dataset_summaries: [] });
        expectError(await ajax('POST', 'experiments/search-datasets', {}), 400, 'INVALID_PARAMETER_VALUE', 'SearchDatasets request must specify at least one experiment_id.');
        expectError(await ajax('POST', 'experiments/search-datasets', { experiment_ids: Array.from({ length: 21 }, (_, i) => String(i)) }), 400, 'INVALID_PARAMETER_VALUE', 'SearchDatasets request cannot specify more than 20 experiment_ids. Received 21 experiment_ids.');
      });

      it('upload-artifact: the raw body of any type into the run folder, with MLflow\'s refusals', async () => {
        const exp = await newExperiment();
        const id = (await newRun(exp)).info.run_id;
        const up = (query: string, body?: Buffer | string, type?: string) => raw('POST', `/ajax-api/2.0/mlflow/upload-artifact?${query}`, body, type);
        expect((await up(`run_uuid=${id}&path=notes.txt`, 'hello world', undefined)).status).toBe(200);
        // A JSON file is stored as sent, not parsed.
        expect((await up(`run_uuid=${id}&path=conf/a.json`, '{"a": 1.0}', 'application/json')).status).toBe(200);
        const got = await fetch(`${s.url}/get-artifact?${new URLSearchParams({ run_uuid: id, path: 'notes.txt' }).toString()}`);
        expect(await got.text()).toBe('hello world');
        expect(fs.readFileSync(path.join(s.home, 'artifacts', exp, id, 'artifacts', 'conf', 'a.json'), 'utf8')).toBe('{"a": 1.0}');
        const refused = async (query: string, body: string | Buffer | undefined, message: string) => {
          const res = await up(query, body);
          expect(res.status, res.text).toBe(400);
          expect(JSON.parse(res.text)).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message });
        };
        await refused('', undefined, 'Request must specify run_uuid.');
        await refused(`run_uuid=${id}`, undefined, 'Request must specify path.');
        await refused(`run_uuid=${id}&path=`, 'x', 'Request must specify path.');
        await refused(`run_uuid=${id}&path=../escape.txt`, 'x', 'Invalid path');
        await refused(`run_uuid=${id}&path=%2e%2e/escape.txt`, 'x', 'Invalid path');
        await refused(`run_uuid=${id}&path=empty.txt`, undefined, 'Request must specify data.');
        await refused(`run_uuid=${id}&path=big.bin`, Buffer.alloc(10 * 1024 * 1024 + 1), 'Artifact size is too large. Max size is 10MB.');
        expect(fs.existsSync(path.join(s.home, 'artifacts', exp, id, 'artifacts', 'big.bin'))).toBe(false);
        expect((await up(`run_uuid=${'f'.repeat(32)}&path=x.txt`, 'x')).status).toBe(404);
      });
    });

    describe('MLflow API surface', () => {
      it('serves the same routes under /ajax-api/2.0/mlflow, kept out of the OpenAPI document', async () => {
        const res = await call('GET', 'experiments/get?experiment_id=0', undefined, '/ajax-api/2.0/mlflow');
        expect(res.status).toBe(200);
        expect(res.body.experiment.name).toBe('Default');
        const exp = await newExperiment();
        const run = await newRun(exp);
        const up = await fetch(`${s.url}/ajax-api/2.0/mlflow-artifacts/artifacts/${exp}/${run.info.run_id}/artifacts/a.txt`, { method: 'PUT', body: 'a' });
        expect(up.status).toBe(200);
        const doc = (await (await fetch(`${s.url}/api/docs/json`)).json()) as { paths: Record<string, unknown> };
        expect(doc.paths).toHaveProperty('/api/2.0/mlflow/runs/log-batch');
        expect(doc.paths).toHaveProperty('/api/2.0/mlflow-artifacts/artifacts/{path}');
        expect(Object.keys(doc.paths).some((p) => p.startsWith('/ajax-api'))).toBe(false);
      });

      it('answers 501 NOT_IMPLEMENTED for MLflow routes it does not have', async () => {
        expectError(await post('runs/no-such-route', {}), 501, 'NOT_IMPLEMENTED', /runs\/no-such-route/);
        expectError(await get('runs/log-metric'), 501, 'NOT_IMPLEMENTED');
        const mpu = await fetch(`${s.url}/api/2.0/mlflow-artifacts/mpu/create/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(mpu.status).toBe(501);
        expect(((await mpu.json()) as Json).error_code).toBe('NOT_IMPLEMENTED');
      });

      it('answers malformed JSON and non-object bodies with 400 in the MLflow error shape', async () => {
        const bad = await fetch(`${s.url}/api/2.0/mlflow/runs/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"experiment_id": ' });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as Json).error_code).toBeTypeOf('string');
        expectError(await call('POST', 'runs/create', [1, 2]), 400, 'INVALID_PARAMETER_VALUE');
      });

      it('answers /health with plain OK', async () => {
        const res = await fetch(`${s.url}/health`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('OK');
      });
    });
  });

  describe(`MLflow artifacts in direct mode (--artifacts-mode direct) on ${backend.label}`, () => {
    let d: Server;
    const model = `direct-${backend.name}`;
    const dcall = async (method: string, route: string, body?: unknown): Promise<Res<Json & Record<string, never>>> => {
      const saved = s;
      s = d;
      try {
        return (await call(method, route, body)) as Res<Json & Record<string, never>>;
      } finally {
        s = saved;
      }
    };
    const fileOf = (uri: string) => {
      expect(uri.startsWith('file:///')).toBe(true);
      return uri.slice('file://'.length);
    };
    beforeAll(async () => {
      d = await startServer(backend, { artifactsMode: 'direct', model: `${model}@champion` });
    });
    afterAll(async () => {
      await d.close();
    });

    it("hands out the artifact store's own file:// URIs for experiments, runs and logged models", async () => {
      const root = path.join(d.home, 'artifacts');
      const id = (await dcall('POST', 'experiments/create', { name: `direct-${uid()}` })).body.experiment_id;
      expect((await dcall('GET', `experiments/get?experiment_id=${id}`)).body.experiment.artifact_location).toBe(`file://${root}/${id}`);
      expect((await dcall('GET', 'experiments/get?experiment_id=0')).body.experiment.artifact_location).toBe(`file://${root}/0`);
      const run = (await dcall('POST', 'runs/create', { experiment_id: id, start_time: 1 })).body.run;
      expect(run.info.artifact_uri).toBe(`file://${root}/${id}/${run.info.run_id}/artifacts`);
      const lm = (await dcall('POST', 'logged-models', { experiment_id: id, name: 'm' })).body as unknown as { model: { info: { artifact_uri: string; model_id: string } } };
      expect(lm.model.info.artifact_uri).toBe(`file://${root}/${id}/models/${lm.model.info.model_id}/artifacts`);
    });

    it('lists, downloads, registers and serves files a client wrote into the run folder itself', async () => {
      const exp = (await dcall('POST', 'experiments/create', { name: `direct-${uid()}` })).body.experiment_id;
      const run = (await dcall('POST', 'runs/create', { experiment_id: exp, start_time: 1 })).body.run;
      const runId = run.info.run_id;
      // What MLflow's client does with a file:// artifact URI: writes the files there directly.
      const folder = fileOf(run.info.artifact_uri);
      fs.mkdirSync(path.join(folder, 'model', 'weights'), { recursive: true });
      fs.writeFileSync(path.join(folder, 'model', 'MLmodel'), 'artifact_path: model\nflavors:\n  fluxops:\n    model_file: weights/model.json\n    format_version: 1\n');
      fs.writeFileSync(path.join(folder, 'model', 'weights', 'model.json'), serializeModel(tinyModel()));
      fs.writeFileSync(path.join(folder, 'notes.txt'), 'direct');
      const listed = await dcall('GET', `artifacts/list?run_id=${runId}`);
      expect(listed.body.root_uri).toBe(run.info.artifact_uri);
      expect(listed.body.files).toEqual([
        { path: 'model', is_dir: true },
        { path: 'notes.txt', is_dir: false, file_size: 6 },
      ]);
      // The proxied routes keep working beside the direct URIs.
      expect(await (await fetch(`${d.url}/get-artifact?run_uuid=${runId}&path=notes.txt`)).text()).toBe('direct');
      expect(await (await fetch(`${d.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/notes.txt`)).text()).toBe('direct');
      expect((await dcall('POST', 'registered-models/create', { name: model })).status).toBe(200);
      // MLflow's rule for local sources holds: a run_id, and a path inside that run's folder.
      const noRun = await dcall('POST', 'model-versions/create', { name: model, source: `${run.info.artifact_uri}/model` });
      expectError(noRun, 400, 'INVALID_PARAMETER_VALUE', 'To use a local path as a model version source');
      const outside = await dcall('POST', 'model-versions/create', { name: model, source: `file://${d.home}`, run_id: runId });
      expectError(outside, 400, 'INVALID_PARAMETER_VALUE', 'To use a local path as a model version source');
      const created = await dcall('POST', 'model-versions/create', { name: model, source: `${run.info.artifact_uri}/model`, run_id: runId });
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      const mv = (created.body as unknown as { model_version: { version: string; status: string; status_message: string; run_id: string } }).model_version;
      expect(mv).toMatchObject({ status: 'READY', status_message: 'servable (fluxops)', run_id: runId });
      const download = await dcall('GET', `model-versions/get-download-uri?name=${model}&version=${mv.version}`);
      expect((download.body as unknown as { artifact_uri: string }).artifact_uri).toBe(`${run.info.artifact_uri}/model`);
      expect(await (await fetch(`${d.url}/model-versions/get-artifact?name=${model}&version=${mv.version}&path=MLmodel`)).text()).toMatch(/fluxops/);
      // Served: the alias this server follows moves to the version, and it predicts from those files.
      expect((await dcall('POST', 'registered-models/alias', { name: model, alias: 'champion', version: mv.version })).status).toBe(200);
      // The server swaps on the alias event, just after the move is acknowledged.
      const predict = () =>
        fetch(`${d.url}/api/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${d.key}` },
          body: JSON.stringify({ inputs: [{ x1: 1, x2: 2 }] }),
        });
      await expect.poll(async () => (await predict()).status, { timeout: 10_000 }).toBe(200);
      const predicted = await predict();
      const body = (await predicted.json()) as { model: string; version: string; predictions: number[] };
      expect(predicted.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ model, version: mv.version });
      expect(body.predictions).toHaveLength(1);
    });
  });
}
