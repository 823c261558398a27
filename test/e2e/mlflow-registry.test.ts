/**
 * The MLflow-compatible model registry over a real server on a port: every route with the error
 * cases `mlflow.register_model` relies on (404 for a missing model, version or alias; 400
 * RESOURCE_ALREADY_EXISTS on a duplicate create), response shapes checked against the golden
 * recording of a real MLflow 2.12.2 server, lineage to FluxOps runs, MLmodel folders (signature,
 * flavor, servable or not), stages, aliases, search filters and paging, and download URIs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlflowModelVersion, MlflowRegisteredModel } from '../../src/mlflow/registry-convert.js';
import { loadModel, serializeModel, type LogisticModel } from '../../src/models/index.js';
import type { Run } from '../../src/tracking/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tinyModel } from '../helpers/model-fixture.js';

let s: TestServer;
let expId: string;

beforeAll(async () => {
  s = await startTestServer();
  expId = await s.platform.tracking.createExperiment({ name: 'mlflow-registry' });
});
afterAll(async () => {
  await s.close();
});

interface Json {
  registered_model: MlflowRegisteredModel;
  registered_models?: MlflowRegisteredModel[];
  model_version: MlflowModelVersion;
  model_versions?: MlflowModelVersion[];
  next_page_token?: string;
  artifact_uri: string;
  error_code: string;
  message: string;
}
interface Res {
  status: number;
  body: Json;
}

type Query = Record<string, string | number | boolean | Array<string | number> | undefined>;

/** GET sends fields as a query string (lists as repeated keys); other methods as a JSON body, as MLflow's client does. */
async function call(method: string, route: string, fields: Query | Record<string, unknown> = {}, prefix = '/api/2.0/mlflow'): Promise<Res> {
  let url = `${s.url}${prefix}/${route}`;
  const init: RequestInit = { method };
  if (method === 'GET') {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
    }
    if (q.size > 0) url += `?${q.toString()}`;
  } else {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(fields);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
}
const get = (route: string, q: Query = {}) => call('GET', route, q);
const post = (route: string, b: Record<string, unknown> = {}) => call('POST', route, b);
const patch = (route: string, b: Record<string, unknown> = {}) => call('PATCH', route, b);
const del = (route: string, b: Record<string, unknown> = {}) => call('DELETE', route, b);

function expectError(res: Res, status: number, code: string, mentions?: string | RegExp): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error_code).toBe(code);
  expect(typeof res.body.message).toBe('string');
  if (mentions !== undefined) expect(res.body.message).toMatch(mentions);
}

function ok(res: Res): Json {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const uid = () => randomBytes(4).toString('hex');
/** Asymmetric matchers, typed so they sit in object literals without `any`. */
const anyNumber: unknown = expect.any(Number);
const matching = (re: RegExp): unknown => expect.stringMatching(re);

/** The MLmodel MLflow writes for `mlflow.sklearn.log_model(..., signature=...)`: two flavors, column signature as JSON text. */
const SKLEARN_MLMODEL = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.2
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.4.2
mlflow_version: 2.12.2
model_size_bytes: 715
model_uuid: 0d73c2d776054e51abf5f2a1a2dc4436
signature:
  inputs: '[{"type": "double", "name": "PlasmaGlucose", "required": true}, {"type": "long", "name": "Age", "required": true}, {"type": "string", "name": "Clinic", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2026-11-22 03:26:30.298434'
`;


/** A finished run with a param, a metric and files under `model/` (an MLmodel folder by default). */
async function runWithModel(files: Record<string, string> = { 'model/MLmodel': SKLEARN_MLMODEL, 'model/model.pkl': 'pickle bytes' }): Promise<Run> {
  const t = s.platform.tracking;
  const run = await t.createRun({ experimentId: expId });
  await t.logBatch(run.info.runId, { params: [{ key: 'C', value: '0.5' }], metrics: [{ key: 'f1', value: 0.81 }] });
  for (const [p, content] of Object.entries(files)) await t.logArtifact(run.info.runId, p, content);
  return t.endRun(run.info.runId);
}

/** Same keys (recursively) and same JSON types; the first element of each list stands for all. */
function shapeOf(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shapeOf(v[0])];
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shapeOf(x)]));
  return typeof v;
}

describe('golden contract: the registry part of a real MLflow 2.12.2 session', () => {
  interface Pair {
    method: string;
    path: string;
    req: string;
    status: number;
    resp: string;
  }
  const golden = fs
    .readFileSync(new URL('../../../shared/mlflow/traffic-2.12.2.jsonl', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Pair)
    .filter((p) => /\/mlflow\/(registered-models|model-versions)\//.test(p.path));

  it('replays every recorded registry request with the same status and response shape', async () => {
    expect(golden.length).toBeGreaterThanOrEqual(15);
    // The recording's run (and its pyfunc model folder) becomes a FluxOps run; its id is swapped in.
    const recordedRun = /"run_id": "([0-9a-f]{32})"/.exec(golden.find((p) => p.path.includes('model-versions/create'))!.req)![1]!;
    const run = await s.platform.tracking.createRun({ experimentId: expId });
    const pyfunc = SKLEARN_MLMODEL.replace(/ {2}sklearn:[\s\S]*?sklearn_version: 1.4.2\n/, '').replace(/signature:[\s\S]*?params: null\n/, '');
    await s.platform.tracking.logArtifact(run.info.runId, 'model/MLmodel', pyfunc);
    await s.platform.tracking.logArtifact(run.info.runId, 'model/python_model.pkl', 'pickle');
    const swap = (text: string) => text.replaceAll(recordedRun, run.info.runId).replaceAll('mlflow-artifacts:/1/', `mlflow-artifacts:/${expId}/`);

    for (const pair of golden) {
      const [route, qs] = pair.path.replace('/api/2.0/mlflow/', '').split('?') as [string, string | undefined];
      const url = `${s.url}/api/2.0/mlflow/${route}${qs !== undefined ? `?${swap(qs)}` : ''}`;
      const res = await fetch(url, {
        method: pair.method,
        ...(pair.req !== '' ? { headers: { 'content-type': 'application/json' }, body: swap(pair.req) } : {}),
      });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status, `${pair.method} ${pair.path}: ${JSON.stringify(body)}`).toBe(pair.status);
      let expected: unknown;
      try {
        expected = JSON.parse(pair.resp);
      } catch {
        continue; // the recording cut this (long) response short
      }
      // FluxOps adds status_message (the proto's own field) to say whether it can serve the model.
      const strip = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.map(strip)
          : v !== null && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => k !== 'status_message').map(([k, x]) => [k, strip(x)]))
            : v;
      expect(shapeOf(strip(body)), `${pair.method} ${pair.path}`).toEqual(shapeOf(expected));
      // Values that are not ids or times come back as recorded.
      const mv = (body.model_version ?? undefined) as MlflowModelVersion | undefined;
      const want = (expected as { model_version?: MlflowModelVersion }).model_version;
      if (mv !== undefined && want !== undefined) {
        expect({ ...mv, source: swap(mv.source) }).toMatchObject({
          name: want.name,
          version: want.version,
          current_stage: want.current_stage,
          description: want.description,
          source: swap(want.source),
          status: 'READY',
        });
        expect(mv.status_message).toBe('not servable here: flavor python_function is not supported by FluxOps serving');
      }
    }
  });
});

describe('registered models', () => {
  it('creates (with tags and description), gets, and refuses a duplicate with RESOURCE_ALREADY_EXISTS', async () => {
    const name = `rm-${uid()}`;
    const created = ok(await post('registered-models/create', { name, tags: [{ key: 'team', value: 'vision' }], description: 'd' })).registered_model;
    expect(created).toEqual({ name, creation_timestamp: anyNumber, last_updated_timestamp: anyNumber, description: 'd', tags: [{ key: 'team', value: 'vision' }] });
    expect(Object.keys(created)).toEqual(['name', 'creation_timestamp', 'last_updated_timestamp', 'description', 'tags']);
    expect(ok(await get('registered-models/get', { name })).registered_model).toEqual(created);
    // Without description or tags those fields are left out, as protobuf's JSON does.
    const bare = ok(await post('registered-models/create', { name: `${name}-bare` })).registered_model;
    expect(Object.keys(bare)).toEqual(['name', 'creation_timestamp', 'last_updated_timestamp']);

    expectError(await post('registered-models/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', name);
    expectError(await get('registered-models/get', { name: `missing-${uid()}` }), 404, 'RESOURCE_DOES_NOT_EXIST', /not found/);
    expectError(await post('registered-models/create', {}), 400, 'INVALID_PARAMETER_VALUE', /'name'/);
    expectError(await post('registered-models/create', { name: 42 }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await post('registered-models/create', { name: 'a/b' }), 400, 'INVALID_PARAMETER_VALUE');
  });

  it('follows register_model: create, continue on RESOURCE_ALREADY_EXISTS, then a READY version', async () => {
    const run = await runWithModel();
    const name = `flow-${uid()}`;
    for (let i = 1; i <= 2; i++) {
      const created = await post('registered-models/create', { name });
      if (i === 1) expect(created.status).toBe(200);
      else expectError(created, 400, 'RESOURCE_ALREADY_EXISTS');
      const mv = ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model`, run_id: run.info.runId })).model_version;
      expect(mv).toMatchObject({ name, version: String(i), status: 'READY', current_stage: 'None', run_id: run.info.runId, run_link: '', description: '' });
      expect(ok(await get('model-versions/get', { name, version: mv.version })).model_version.status).toBe('READY');
    }
  });

  it('renames (versions and aliases follow), updates the description with PATCH, and deletes', async () => {
    const run = await runWithModel();
    const [name, renamed] = [`ren-${uid()}`, `renamed-${uid()}`];
    ok(await post('registered-models/create', { name }));
    ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model` }));
    ok(await post('registered-models/alias', { name, alias: 'champion', version: '1' }));
    const moved = ok(await post('registered-models/rename', { name, new_name: renamed })).registered_model;
    expect(moved).toMatchObject({ name: renamed, aliases: [{ alias: 'champion', version: '1' }] });
    expect(ok(await get('registered-models/alias', { name: renamed, alias: 'champion' })).model_version).toMatchObject({ name: renamed, version: '1', aliases: ['champion'] });
    expectError(await get('registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await post('registered-models/rename', { name: renamed }), 400, 'INVALID_PARAMETER_VALUE', /new_name/);

    const updated = ok(await patch('registered-models/update', { name: renamed, description: 'new words' })).registered_model;
    expect(updated.description).toBe('new words');
    expectError(await patch('registered-models/update', { name: `missing-${uid()}`, description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');

    expect(ok(await del('registered-models/delete', { name: renamed }))).toEqual({});
    expectError(await get('registered-models/get', { name: renamed }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await get('model-versions/get', { name: renamed, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await del('registered-models/delete', { name: renamed }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('sets and deletes model tags (an empty value is a value); a missing tag is 404', async () => {
    const name = `tags-${uid()}`;
    ok(await post('registered-models/create', { name }));
    expect(ok(await post('registered-models/set-tag', { name, key: 'owner', value: 'ada' }))).toEqual({});
    ok(await post('registered-models/set-tag', { name, key: 'owner', value: 'grace' }));
    ok(await post('registered-models/set-tag', { name, key: 'empty', value: '' }));
    expect(ok(await get('registered-models/get', { name })).registered_model.tags).toEqual([
      { key: 'empty', value: '' },
      { key: 'owner', value: 'grace' },
    ]);
    expect(ok(await del('registered-models/delete-tag', { name, key: 'owner' }))).toEqual({});
    expect(ok(await get('registered-models/get', { name })).registered_model.tags).toEqual([{ key: 'empty', value: '' }]);
    expectError(await del('registered-models/delete-tag', { name, key: 'owner' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await post('registered-models/set-tag', { name: `missing-${uid()}`, key: 'k', value: 'v' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await post('registered-models/set-tag', { name, key: 'k' }), 400, 'INVALID_PARAMETER_VALUE', /'value'/);
  });

  it('searches with filters (name =, LIKE, ILIKE, tags), order_by and paging', async () => {
    const p = `Srch${uid()}`;
    for (const [n, team] of [
      ['alpha', 'red'],
      ['beta', 'blue'],
      ['Gamma', 'red'],
    ] as const) {
      ok(await post('registered-models/create', { name: `${p}-${n}`, tags: [{ key: 'team', value: team }] }));
    }
    const names = async (q: Query) => (ok(await get('registered-models/search', q)).registered_models ?? []).map((m) => m.name.slice(p.length + 1));
    expect(await names({ filter: `name LIKE '${p}-%'` })).toEqual(['Gamma', 'alpha', 'beta']);
    expect(await names({ filter: `name = '${p}-beta'` })).toEqual(['beta']);
    expect(await names({ filter: `name LIKE '${p}-g%'` })).toEqual([]);
    expect(await names({ filter: `name ILIKE '${p.toLowerCase()}-g%'` })).toEqual(['Gamma']);
    expect(await names({ filter: `name LIKE '${p}-%' AND tags.team = 'red'` })).toEqual(['Gamma', 'alpha']);
    expect(await names({ filter: `name LIKE '${p}-%' and tags.\`team\` != 'red'` })).toEqual(['beta']);
    expect(await names({ filter: `name LIKE '${p}-%'`, order_by: 'name DESC' })).toEqual(['beta', 'alpha', 'Gamma']);
    ok(await post('registered-models/set-tag', { name: `${p}-alpha`, key: 'touched', value: 'now' }));
    await new Promise((r) => setTimeout(r, 5));
    ok(await patch('registered-models/update', { name: `${p}-beta`, description: 'latest' }));
    expect((await names({ filter: `name LIKE '${p}-%'`, order_by: ['last_updated_timestamp DESC'] }))[0]).toBe('beta');

    const first = ok(await get('registered-models/search', { filter: `name LIKE '${p}-%'`, max_results: 2 }));
    expect(first.registered_models!.map((m) => m.name)).toEqual([`${p}-Gamma`, `${p}-alpha`]);
    expect(typeof first.next_page_token).toBe('string');
    const second = ok(await get('registered-models/search', { filter: `name LIKE '${p}-%'`, max_results: 2, page_token: first.next_page_token }));
    expect(second.registered_models!.map((m) => m.name)).toEqual([`${p}-beta`]);
    expect(second.next_page_token).toBeUndefined();
    // Nothing matching is an empty message, as protobuf writes an empty list.
    expect(ok(await get('registered-models/search', { filter: `name = 'nothing-${uid()}'` }))).toEqual({});

    expectError(await get('registered-models/search', { filter: 'name = ' }), 400, 'INVALID_PARAMETER_VALUE', /filter/);
    expectError(await get('registered-models/search', { filter: `run_id = 'x'` }), 400, 'INVALID_PARAMETER_VALUE', /run_id/);
    expectError(await get('registered-models/search', { filter: `name = 'a' OR name = 'b'` }), 400, 'INVALID_PARAMETER_VALUE', /OR/);
    expectError(await get('registered-models/search', { order_by: 'version_number' }), 400, 'INVALID_PARAMETER_VALUE', /order_by/);
    expectError(await get('registered-models/search', { max_results: 1001 }), 400, 'INVALID_PARAMETER_VALUE', /max_results/);
    expectError(await get('registered-models/search', { page_token: 'garbage' }), 400, 'INVALID_PARAMETER_VALUE', /page_token/);
  });
});

describe('model versions', () => {
  it('keeps lineage to the FluxOps run of a runs:/ source and reads the MLmodel signature and flavor', async () => {
    const run = await runWithModel();
    const name = `lineage-${uid()}`;
    ok(await post('registered-models/create', { name }));
    const mv = ok(
      await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model`, run_id: run.info.runId, description: 'first', run_link: 'http://other/#/runs/1', tags: [{ key: 'k', value: 'v' }] }),
    ).model_version;
    expect(mv).toEqual({
      name,
      version: '1',
      creation_timestamp: anyNumber,
      last_updated_timestamp: anyNumber,
      current_stage: 'None',
      description: 'first',
      source: `runs:/${run.info.runId}/model`,
      run_id: run.info.runId,
      status: 'READY',
      status_message: 'not servable here: flavor python_function/sklearn is not supported by FluxOps serving',
      tags: [{ key: 'k', value: 'v' }],
      run_link: 'http://other/#/runs/1',
    });
    // The native API shows what FluxOps read: the signature, the flavor and the run's lineage.
    const native = (await (await fetch(`${s.url}/api/v1/models/${name}/versions/1`)).json()) as Record<string, unknown>;
    expect(native).toMatchObject({
      flavor: 'python_function/sklearn',
      runLink: 'http://other/#/runs/1',
      metrics: { f1: 0.81 },
      signature: {
        inputs: [
          { name: 'PlasmaGlucose', type: 'double' },
          { name: 'Age', type: 'long' },
          { name: 'Clinic', type: 'string' },
        ],
        outputs: [{ name: 'tensor', type: 'tensor<int64>[-1]' }],
      },
    });
    const lineage = (await (await fetch(`${s.url}/api/v1/models/${name}/versions/1/lineage`)).json()) as { run: { runId: string; params: Record<string, string> } };
    expect(lineage.run).toMatchObject({ runId: run.info.runId, params: { C: '0.5' } });
    expect(ok(await get('model-versions/get-download-uri', { name, version: 1 })).artifact_uri).toBe(`mlflow-artifacts:/${expId}/${run.info.runId}/artifacts/model`);
  });

  it('serves nothing it cannot: a fluxops flavor is servable, an onnx flavor whose file is not an ONNX graph is refused with the reason', async () => {
    const fluxopsMlmodel = 'artifact_path: model\nflavors:\n  fluxops:\n    model_file: weights/model.json\n    format_version: 1\n';
    const run = await runWithModel({ 'model/MLmodel': fluxopsMlmodel, 'model/weights/model.json': serializeModel(tinyModel()) });
    const onnxRun = await runWithModel({
      'model/MLmodel': 'flavors:\n  python_function:\n    loader_module: mlflow.onnx\n  onnx:\n    onnx_version: 1.16.0\n    data: model.onnx\n',
      'model/model.onnx': 'onnx bytes',
    });
    const name = `flavors-${uid()}`;
    ok(await post('registered-models/create', { name }));
    const served = ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model` })).model_version;
    expect(served.status_message).toBe('servable (fluxops)');
    const onnx = ok(await post('model-versions/create', { name, source: `runs:/${onnxRun.info.runId}/model` })).model_version;
    expect(onnx).toMatchObject({ status: 'READY', status_message: matching(/^not servable here: model\.onnx is not an ONNX model \(/) });
    // The served flavor's model document loads from the file the MLmodel names.
    const mv = await s.platform.registry.getModelVersion(name, 1);
    expect(mv.signature?.inputs.map((i) => i.name)).toEqual(['x1', 'x2']);
    expect(((await loadModel(s.platform.artifacts, mv.storageLocation)) as LogisticModel).coefficients).toEqual([0.5, -0.25]);
  });

  it('an MLmodel uploaded alone (through the artifact store) registered from mlflow-artifacts: carries its signature', async () => {
    const name = `artifacts-${uid()}`;
    await s.platform.artifacts.put(`${expId}/loose/${name}/MLmodel`, SKLEARN_MLMODEL);
    ok(await post('registered-models/create', { name }));
    const mv = ok(await post('model-versions/create', { name, source: `mlflow-artifacts:/${expId}/loose/${name}` })).model_version;
    expect(mv.status_message).toMatch(/flavor python_function\/sklearn is not supported/);
    expect(mv.run_id).toBeUndefined();
    expect((await s.platform.registry.getModelVersion(name, 1)).signature?.inputs).toHaveLength(3);
    // A broken MLmodel is still registered, with the reason.
    await s.platform.artifacts.put(`${expId}/loose/${name}-bad/MLmodel`, 'flavors: [unclosed');
    const bad = ok(await post('model-versions/create', { name, source: `mlflow-artifacts:/${expId}/loose/${name}-bad` })).model_version;
    expect(bad).toMatchObject({ status: 'READY', status_message: matching(/not servable here: invalid MLmodel file: not valid YAML/) });
  });

  it('records sources FluxOps cannot see (s3, unknown runs) READY without verifying them', async () => {
    const name = `external-${uid()}`;
    ok(await post('registered-models/create', { name }));
    const s3 = ok(await post('model-versions/create', { name, source: 's3://bucket/models/m1' })).model_version;
    expect(s3).toMatchObject({ status: 'READY', source: 's3://bucket/models/m1', status_message: matching(/outside FluxOps and was not verified/) });
    expect(ok(await get('model-versions/get-download-uri', { name, version: s3.version })).artifact_uri).toBe('s3://bucket/models/m1');
    // MLflow's own tests register `runs:/run_id/model` with run id "run_id": recorded as given.
    const fake = ok(await post('model-versions/create', { name, source: 'runs:/run_id/model', run_id: 'run_id_1' })).model_version;
    expect(fake).toMatchObject({ status: 'READY', run_id: 'run_id_1', status_message: matching(/run 'run_id' is not a FluxOps run/) });
    const lineage = (await (await fetch(`${s.url}/api/v1/models/${name}/versions/${fake.version}/lineage`)).json()) as { run: unknown };
    expect(lineage.run).toBeNull();
    // An mlflow-artifacts folder with nothing in it yet is recorded too, and says so.
    const empty = ok(await post('model-versions/create', { name, source: 'mlflow-artifacts:/models///' })).model_version;
    expect(empty.status_message).toMatch(/no model files found/);
    expect(ok(await get('model-versions/get-download-uri', { name, version: empty.version })).artifact_uri).toBe('mlflow-artifacts:/models');
    const other = ok(await post('model-versions/create', { name, source: 'mlflow-artifacts://host:9000/models' })).model_version;
    expect(other.status_message).toMatch(/another artifact server/);
  });

  describe('local paths (a plain path or file: URI) follow MLflow\'s rule: only with run_id, inside that run\'s artifact folder', () => {
    const RULE = 'To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.';
    const runFolder = (run: Run) => path.join(s.platform.config.artifactRoot, expId, run.info.runId, 'artifacts');
    let name: string;
    beforeAll(async () => {
      name = `local-${uid()}`;
      ok(await post('registered-models/create', { name }));
    });

    it('refuses /etc, file:///etc and a relative path without run_id, with MLflow\'s message', async () => {
      for (const source of ['/etc', 'file:///etc', 'file://localhost/etc/passwd', 'model', 'file:relative/model']) {
        const res = await post('model-versions/create', { name, source });
        expectError(res, 400, 'INVALID_PARAMETER_VALUE');
        expect(res.body.message).toBe(`Invalid model version source: '${source}'. ${RULE}`);
      }
      // The native API follows the same rule: it is the registry service's.
      const native = await fetch(`${s.url}/api/v1/models/${name}/versions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: '/etc' }) });
      expect(native.status).toBe(400);
      expect(((await native.json()) as { message: string }).message).toContain(RULE);
      expect(ok(await get('model-versions/search', { filter: `name = '${name}'` })).model_versions ?? []).toEqual([]);
    });

    it('accepts a path (or file: URI) inside the artifact folder of the run given as run_id, with lineage to it', async () => {
      const run = await runWithModel();
      const inside = path.join(runFolder(run), 'model');
      const mv = ok(await post('model-versions/create', { name, source: inside, run_id: run.info.runId })).model_version;
      expect(mv).toMatchObject({ source: inside, run_id: run.info.runId, status: 'READY', status_message: 'not servable here: flavor python_function/sklearn is not supported by FluxOps serving' });
      expect(ok(await get('model-versions/get-download-uri', { name, version: mv.version })).artifact_uri).toBe(`mlflow-artifacts:/${expId}/${run.info.runId}/artifacts/model`);
      const uri = ok(await post('model-versions/create', { name, source: `file://${inside}`, run_id: run.info.runId })).model_version;
      expect(uri).toMatchObject({ run_id: run.info.runId, status_message: matching(/python_function\/sklearn/) });
      // `..` that stays inside the run folder resolves inside it, as MLflow resolves it.
      const roundabout = ok(await post('model-versions/create', { name, source: `${runFolder(run)}/model/../model`, run_id: run.info.runId })).model_version;
      expect(roundabout.status_message).toMatch(/python_function\/sklearn/);
    });

    it('refuses a path outside the run\'s folder, also by (encoded) traversal, or in another run\'s folder', async () => {
      const run = await runWithModel();
      const other = await runWithModel();
      for (const source of ['/etc', `${runFolder(run)}/../../../../etc`, `${runFolder(run)}/model/%2e%2e/%2e%2e/%2e%2e/x`, `file://${runFolder(run)}/..%2F..%2Fother`, path.join(runFolder(other), 'model'), `${runFolder(run)}-evil/model`]) {
        const res = await post('model-versions/create', { name, source, run_id: run.info.runId });
        expectError(res, 400, 'INVALID_PARAMETER_VALUE');
        expect(res.body.message).toMatch(/^Invalid model version source: '\/[^']*'\. To use a local path/);
        expect(res.body.message).toContain(RULE);
      }
      // MLflow looks the run up first: an unknown run is a 404.
      expectError(await post('model-versions/create', { name, source: '/etc', run_id: 'f'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST', /Run with id=f{32} not found/);
      // A file: URI naming another host cannot be checked against a run at all.
      expectError(await post('model-versions/create', { name, source: 'file://evil.example/etc', run_id: run.info.runId }), 400, 'INVALID_PARAMETER_VALUE', /not on host 'evil.example'/);
    });

    it('leaves the other schemes to their own rules (runs:/, models:/, mlflow-artifacts:/, s3://, http(s)://)', async () => {
      const run = await runWithModel();
      for (const source of [`runs:/${run.info.runId}/model`, `mlflow-artifacts:/${expId}/${run.info.runId}/artifacts/model`, 's3://bucket/m', 'gs://b/m', 'https://host/m', 'hdfs://nn/m', 'dbfs:/m']) {
        ok(await post('model-versions/create', { name, source }));
      }
      ok(await post('model-versions/create', { name, source: `models:/${name}/1` }));
    });
  });

  it('refuses sources that climb out of their folder, also percent-encoded, and NUL', async () => {
    const name = `escape-${uid()}`;
    ok(await post('registered-models/create', { name }));
    for (const source of ['mlflow-artifacts://host:9000/models/../../../', 'http://host/models/../../x', 's3a://b/a/../../', 'mlflow-artifacts:/models/..%2f..%2fartifacts', 'mlflow-artifacts:/models/artifact%00', 'runs:/x/../../etc']) {
      expectError(await post('model-versions/create', { name, source }), 400, 'INVALID_PARAMETER_VALUE', /If supplying a source as an http, https,/);
    }
    expect(ok(await post('model-versions/create', { name, source: 'mlflow-artifacts://host:9000/models/artifact/..../' })).model_version.version).toBe('1');
    expectError(await post('model-versions/create', { name }), 400, 'INVALID_PARAMETER_VALUE', /'source'/);
    expectError(await post('model-versions/create', { name: `missing-${uid()}`, source: 's3://b/m' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('gets, updates with PATCH, deletes, and never hands a deleted number out again', async () => {
    const run = await runWithModel();
    const name = `versions-${uid()}`;
    ok(await post('registered-models/create', { name }));
    for (let i = 0; i < 2; i++) ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model` }));
    const updated = ok(await patch('model-versions/update', { name, version: '2', description: 'better' })).model_version;
    expect(updated).toMatchObject({ version: '2', description: 'better' });
    const touched = ok(await get('registered-models/get', { name })).registered_model.last_updated_timestamp;
    await new Promise((r) => setTimeout(r, 5));
    expect(ok(await del('model-versions/delete', { name, version: '2' }))).toEqual({});
    // Deleting a version is a change of the model.
    expect(ok(await get('registered-models/get', { name })).registered_model.last_updated_timestamp).toBeGreaterThan(touched);
    expectError(await get('model-versions/get', { name, version: '2' }), 404, 'RESOURCE_DOES_NOT_EXIST', /Model Version/);
    expectError(await del('model-versions/delete', { name, version: '2' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model` })).model_version.version).toBe('3');
    expectError(await get('model-versions/get', { name, version: 'abc' }), 400, 'INVALID_PARAMETER_VALUE', /Model version must be an integer/);
    expectError(await get('model-versions/get', { name }), 400, 'INVALID_PARAMETER_VALUE', /'version'/);
    expectError(await patch('model-versions/update', { name, version: '99', description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    // A JSON client may send the version as a number.
    expect(ok(await patch('model-versions/update', { name, version: 3, description: 'n' })).model_version.description).toBe('n');
  });

  it('sets and deletes version tags; a missing tag or version is 404', async () => {
    const run = await runWithModel();
    const name = `vtags-${uid()}`;
    ok(await post('registered-models/create', { name }));
    ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model` }));
    expect(ok(await post('model-versions/set-tag', { name, version: '1', key: 'validated', value: 'yes' }))).toEqual({});
    ok(await post('model-versions/set-tag', { name, version: '1', key: 'empty', value: '' }));
    expect(ok(await get('model-versions/get', { name, version: '1' })).model_version.tags).toEqual([
      { key: 'empty', value: '' },
      { key: 'validated', value: 'yes' },
    ]);
    expect(ok(await del('model-versions/delete-tag', { name, version: '1', key: 'validated' }))).toEqual({});
    expectError(await del('model-versions/delete-tag', { name, version: '1', key: 'validated' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await post('model-versions/set-tag', { name, version: '7', key: 'k', value: 'v' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('copies another version from a models:/name/version source, keeping its files and lineage', async () => {
    const run = await runWithModel();
    const [src, dst] = [`copy-src-${uid()}`, `copy-dst-${uid()}`];
    ok(await post('registered-models/create', { name: src }));
    ok(await post('registered-models/create', { name: dst }));
    ok(await post('model-versions/create', { name: src, source: `runs:/${run.info.runId}/model`, run_id: run.info.runId }));
    const copy = ok(await post('model-versions/create', { name: dst, source: `models:/${src}/1` })).model_version;
    expect(copy).toMatchObject({ source: `models:/${src}/1`, run_id: run.info.runId, status_message: matching(/python_function\/sklearn/) });
    expect(ok(await get('model-versions/get-download-uri', { name: dst, version: '1' })).artifact_uri).toBe(`mlflow-artifacts:/${expId}/${run.info.runId}/artifacts/model`);
    expectError(await post('model-versions/create', { name: dst, source: `models:/${src}/9` }), 404, 'RESOURCE_DOES_NOT_EXIST');
    // A copy of a version kept outside FluxOps downloads from that version's source.
    ok(await post('model-versions/create', { name: src, source: 's3://bucket/m', run_id: 'external_run', description: 'd', tags: [{ key: 'hello', value: 'world' }] }));
    const external = ok(await post('model-versions/create', { name: dst, source: `models:/${src}/2` })).model_version;
    expect(external).toMatchObject({ source: `models:/${src}/2`, run_id: 'external_run' });
    expect(ok(await get('model-versions/get-download-uri', { name: dst, version: external.version })).artifact_uri).toBe('s3://bucket/m');
  });
});

describe("the MLflow UI's model version download (/model-versions/get-artifact)", () => {
  it("streams a file of the version's folder as an attachment; a path that leaves it is 'Invalid path'", async () => {
    const run = await runWithModel();
    const name = `download-${uid()}`;
    ok(await post('registered-models/create', { name }));
    ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model` }));
    ok(await post('model-versions/create', { name, source: 's3://bucket/elsewhere' }));
    const download = (q: Record<string, string>, prefix = '/') => fetch(`${s.url}${prefix}model-versions/get-artifact?${new URLSearchParams(q).toString()}`);

    const mlmodel = await download({ name, version: '1', path: 'MLmodel' });
    expect(mlmodel.status).toBe(200);
    expect(await mlmodel.text()).toBe(SKLEARN_MLMODEL);
    expect(mlmodel.headers.get('content-disposition')).toMatch(/^attachment; filename="MLmodel"/);
    // MLflow's own test calls it with a double slash.
    expect(await (await download({ name, version: '1', path: 'model.pkl' }, '//')).text()).toBe('pickle bytes');

    const refused = await download({ name, version: '1', path: '../../secret' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' });
    const fail = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(((await res.json()) as Json).error_code).toBe(code);
    };
    await fail(await download({ name, version: '1', path: 'absent.txt' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await fail(await download({ name, version: '2', path: 'MLmodel' }), 404, 'RESOURCE_DOES_NOT_EXIST'); // kept in s3, not here
    await fail(await download({ name, version: '9', path: 'MLmodel' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await fail(await download({ name, version: '1' }), 400, 'INVALID_PARAMETER_VALUE');
  });
});

describe('stages', () => {
  it('transitions stages, archiving the versions already there when asked (boolean or "true"), and reports the latest per stage', async () => {
    const run = await runWithModel();
    const name = `stages-${uid()}`;
    ok(await post('registered-models/create', { name }));
    for (let i = 0; i < 4; i++) ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model` }));
    const before = ok(await get('registered-models/get', { name })).registered_model.last_updated_timestamp;
    await new Promise((r) => setTimeout(r, 5));
    const t1 = ok(await post('model-versions/transition-stage', { name, version: '1', stage: 'Production', archive_existing_versions: false })).model_version;
    expect(t1.current_stage).toBe('Production');
    // A stage change is a change of the model, as MLflow reports it.
    expect(ok(await get('registered-models/get', { name })).registered_model.last_updated_timestamp).toBeGreaterThan(before);
    ok(await post('model-versions/transition-stage', { name, version: '2', stage: 'production', archive_existing_versions: 'true' }));
    ok(await post('model-versions/transition-stage', { name, version: '3', stage: 'Staging', archive_existing_versions: true }));
    ok(await post('model-versions/transition-stage', { name, version: '4', stage: 'Staging', archive_existing_versions: 'false' }));
    const stage = async (v: string) => ok(await get('model-versions/get', { name, version: v })).model_version.current_stage;
    expect([await stage('1'), await stage('2'), await stage('3'), await stage('4')]).toEqual(['Archived', 'Production', 'Staging', 'Staging']);

    const latest = async (stages?: string[], method: 'POST' | 'GET' = 'POST') =>
      (ok(await call(method, 'registered-models/get-latest-versions', stages === undefined ? { name } : { name, stages })).model_versions ?? []).map((v) => `${v.version}:${v.current_stage}`);
    expect(await latest()).toEqual(['1:Archived', '2:Production', '4:Staging']);
    expect(await latest(['Production'])).toEqual(['2:Production']);
    expect(await latest(['staging', 'Production'], 'GET')).toEqual(['4:Staging', '2:Production']);
    expect(await latest(['None'])).toEqual([]);
    expect(ok(await get('registered-models/get', { name })).registered_model.latest_versions!.map((v) => v.version)).toEqual(['1', '2', '4']);

    expectError(await post('registered-models/get-latest-versions', { name, stages: ['Live'] }), 400, 'INVALID_PARAMETER_VALUE', /stage/);
    expectError(await post('registered-models/get-latest-versions', { name: `missing-${uid()}` }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await post('model-versions/transition-stage', { name, version: '1', stage: 'Live', archive_existing_versions: false }), 400, 'INVALID_PARAMETER_VALUE', /stage/);
    expectError(await post('model-versions/transition-stage', { name, version: '1', stage: 'Archived', archive_existing_versions: true }), 400, 'INVALID_PARAMETER_VALUE', /archive_existing_versions/);
    expectError(await post('model-versions/transition-stage', { name, version: '1', stage: 'Staging', archive_existing_versions: 'maybe' }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await post('model-versions/transition-stage', { name, version: '9', stage: 'Staging', archive_existing_versions: false }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('aliases', () => {
  it('sets, moves, resolves and deletes aliases; a missing alias is 404', async () => {
    const run = await runWithModel();
    const name = `aliases-${uid()}`;
    ok(await post('registered-models/create', { name }));
    for (let i = 0; i < 2; i++) ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model` }));
    expect(ok(await post('registered-models/alias', { name, alias: 'champion', version: '1' }))).toEqual({});
    ok(await post('registered-models/alias', { name, alias: 'challenger', version: '2' }));
    expect(ok(await get('registered-models/alias', { name, alias: 'champion' })).model_version).toMatchObject({ version: '1', aliases: ['champion'] });
    ok(await post('registered-models/alias', { name, alias: 'champion', version: '2' }));
    expect(ok(await get('registered-models/alias', { name, alias: 'champion' })).model_version).toMatchObject({ version: '2', aliases: ['challenger', 'champion'] });
    expect(ok(await get('model-versions/get', { name, version: '1' })).model_version.aliases).toBeUndefined();
    expect(ok(await get('registered-models/get', { name })).registered_model.aliases).toEqual([
      { alias: 'challenger', version: '2' },
      { alias: 'champion', version: '2' },
    ]);
    // Searches leave aliases out, as MLflow's server does.
    expect(ok(await get('model-versions/search', { filter: `name = '${name}'` })).model_versions!.every((v) => v.aliases === undefined)).toBe(true);

    expect(ok(await del('registered-models/alias', { name, alias: 'champion' }))).toEqual({});
    expectError(await get('registered-models/alias', { name, alias: 'champion' }), 404, 'RESOURCE_DOES_NOT_EXIST', /champion/);
    expectError(await del('registered-models/alias', { name, alias: 'champion' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await post('registered-models/alias', { name, alias: 'latest', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', /reserved/);
    expectError(await post('registered-models/alias', { name, alias: 'x', version: '5' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await post('registered-models/alias', { name: `missing-${uid()}`, alias: 'x', version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    // Deleting the version an alias points at removes the alias.
    ok(await del('model-versions/delete', { name, version: '2' }));
    expectError(await get('registered-models/alias', { name, alias: 'challenger' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('model version search', () => {
  it('filters by name, run_id (also IN), source_path, version_number and tags, orders, and pages', async () => {
    const [runA, runB] = [await runWithModel(), await runWithModel()];
    const name = `vsearch-${uid()}`;
    ok(await post('registered-models/create', { name }));
    for (const run of [runA, runB, runA]) ok(await post('model-versions/create', { name, source: `runs:/${run.info.runId}/model`, run_id: run.info.runId }));
    ok(await post('model-versions/set-tag', { name, version: '2', key: 'stage', value: 'candidate' }));
    await new Promise((r) => setTimeout(r, 5));
    ok(await patch('model-versions/update', { name, version: '2', description: 'changed last' }));
    const versions = async (q: Query) => (ok(await get('model-versions/search', q)).model_versions ?? []).map((v) => v.version);

    // Without an order MLflow lists the most recently changed first.
    expect(await versions({ filter: `name='${name}'` })).toEqual(['2', '3', '1']);
    expect(await versions({ filter: `name='${name}'`, order_by: ['version_number ASC'] })).toEqual(['1', '2', '3']);
    expect(await versions({ filter: `name = '${name}' AND run_id = '${runA.info.runId}'`, order_by: 'version_number DESC' })).toEqual(['3', '1']);
    expect(await versions({ filter: `run_id IN ('${runB.info.runId}', 'nope')` })).toEqual(['2']);
    expect(await versions({ filter: `source_path = 'runs:/${runB.info.runId}/model'` })).toEqual(['2']);
    expect(await versions({ filter: `name = '${name}' AND tags.stage = 'candidate'` })).toEqual(['2']);
    expect(await versions({ filter: `name = '${name}' AND version_number > 1`, order_by: 'version_number' })).toEqual(['2', '3']);
    expect(await versions({ filter: `name ILIKE '${name.toUpperCase()}'`, order_by: 'version_number' })).toEqual(['1', '2', '3']);

    const first = ok(await get('model-versions/search', { filter: `name='${name}'`, order_by: 'version_number', max_results: 2 }));
    expect(first.model_versions!.map((v) => v.version)).toEqual(['1', '2']);
    const second = ok(await get('model-versions/search', { filter: `name='${name}'`, order_by: 'version_number', max_results: 2, page_token: first.next_page_token }));
    expect(second.model_versions!.map((v) => v.version)).toEqual(['3']);
    expect(second.next_page_token).toBeUndefined();

    expectError(await get('model-versions/search', { filter: `tags.stage > 'a'` }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await get('model-versions/search', { filter: `version_number = 'x'` }), 400, 'INVALID_PARAMETER_VALUE', /number/);
    expectError(await get('model-versions/search', { filter: `metrics.f1 > 1` }), 400, 'INVALID_PARAMETER_VALUE', /metrics/);
    expectError(await get('model-versions/search', { order_by: ['name', 'name DESC'] }), 400, 'INVALID_PARAMETER_VALUE', /more than once/);
  });
});

describe('the MLflow routes as a whole', () => {
  it('answers under /ajax-api too, and 501 for registry routes it does not have', async () => {
    const name = `ajax-${uid()}`;
    expect((await call('POST', 'registered-models/create', { name }, '/ajax-api/2.0/mlflow')).status).toBe(200);
    expect(ok(await get('registered-models/get', { name })).registered_model.name).toBe(name);
    const res = await call('POST', 'registered-models/list-webhooks', {});
    expectError(res, 501, 'NOT_IMPLEMENTED');
    // Wrong method for a known path is not a silent success either.
    expect((await call('GET', 'registered-models/create', { name })).status).toBe(501);
  });
});
