/**
 * MLflow 3's logged-model API over a real server on a port: the calls the 3.x client makes in
 * `log_model` (create PENDING, files into the model's own folder, finalize READY) and in
 * `register_model` with a `models:/<model_id>` source (get, model-versions/create, set tags), plus
 * search, params, tags, delete, the artifact listing and download routes, and the error cases.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlflowModelVersion } from '../../src/mlflow/registry-convert.js';
import { serializeModel, type BuiltinModel } from '../../src/models/index.js';
import type { Run } from '../../src/tracking/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let expId: string;
let run: Run;

beforeAll(async () => {
  s = await startTestServer();
  expId = await s.platform.tracking.createExperiment({ name: 'mlflow3-logged-models' });
  run = await s.platform.tracking.createRun({ experimentId: expId });
  await s.platform.tracking.logBatch(run.info.runId, { params: [{ key: 'alpha', value: '0.1' }], metrics: [{ key: 'rmse', value: 0.42 }] });
});
afterAll(async () => {
  await s.close();
});

interface MlflowLoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: string;
    model_type?: string;
    source_run_id?: string;
    tags?: Array<{ key: string; value: string }>;
  };
  data: { params?: Array<{ key: string; value: string }>; metrics?: Array<Record<string, unknown>> };
}
interface Json {
  model: MlflowLoggedModel;
  models?: MlflowLoggedModel[];
  next_page_token?: string;
  model_version: MlflowModelVersion;
  artifact_uri: string;
  root_uri: string;
  files?: Array<{ path: string; is_dir: boolean; file_size?: number }>;
  error_code: string;
  message: string;
}
interface Res {
  status: number;
  body: Json;
}

async function call(method: string, route: string, body?: Record<string, unknown>, query?: Record<string, string>): Promise<Res> {
  const qs = query === undefined ? '' : `?${new URLSearchParams(query).toString()}`;
  const res = await fetch(`${s.url}/api/2.0/mlflow/${route}${qs}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
}
function ok(res: Res): Json {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
function expectError(res: Res, status: number, code: string, mentions?: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error_code).toBe(code);
  if (mentions !== undefined) expect(res.body.message).toMatch(mentions);
}
const uid = () => randomBytes(4).toString('hex');
/** An asymmetric matcher, typed so it sits in object literals without `any`. */
const anyNumber: unknown = expect.any(Number);

const PYFUNC_MLMODEL = (modelId: string) => `artifact_path: mlflow-artifacts:/${expId}/models/${modelId}/artifacts
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.6.1
mlflow_version: 3.1.0
model_id: ${modelId}
model_uuid: ${modelId}
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
  params: null
`;

/** What `log_model` does: create the model, write its files into its own folder, finalize it. */
async function logModel(name: string, files: (id: string) => Record<string, string | Buffer>, extra: Record<string, unknown> = {}): Promise<MlflowLoggedModel> {
  const created = ok(
    await call('POST', 'logged-models', {
      experiment_id: expId,
      name,
      source_run_id: run.info.runId,
      params: [{ key: 'alpha', value: '0.1' }],
      tags: [{ key: 'mlflow.source.name', value: 'train.py' }],
      ...extra,
    }),
  ).model;
  for (const [p, content] of Object.entries(files(created.info.model_id))) await s.platform.loggedModels.logArtifact(created.info.model_id, p, content);
  return ok(await call('PATCH', `logged-models/${created.info.model_id}`, { model_id: created.info.model_id, status: 'LOGGED_MODEL_READY' })).model;
}

describe('log_model', () => {
  it('creates a PENDING model with its own artifact folder, then finalizes it READY', async () => {
    const created = ok(
      await call('POST', 'logged-models', {
        experiment_id: expId,
        name: 'model',
        model_type: 'Classifier',
        source_run_id: run.info.runId,
        params: [
          { key: 'alpha', value: '0.1' },
          { key: 'l1', value: '0' },
        ],
        tags: [{ key: 'mlflow.user', value: 'ada' }],
      }),
    ).model;
    const id = created.info.model_id;
    expect(id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(created).toEqual({
      info: {
        model_id: id,
        experiment_id: expId,
        name: 'model',
        creation_timestamp_ms: anyNumber,
        last_updated_timestamp_ms: anyNumber,
        artifact_uri: `mlflow-artifacts:/${expId}/models/${id}/artifacts`,
        status: 'LOGGED_MODEL_PENDING',
        model_type: 'Classifier',
        source_run_id: run.info.runId,
        tags: [{ key: 'mlflow.user', value: 'ada' }],
      },
      data: {
        params: [
          { key: 'alpha', value: '0.1' },
          { key: 'l1', value: '0' },
        ],
      },
    });
    // The client writes the files through the artifact proxy into that folder.
    await s.platform.loggedModels.logArtifact(id, 'MLmodel', PYFUNC_MLMODEL(id));
    await s.platform.loggedModels.logArtifact(id, 'model.pkl', Buffer.from([0x80, 0x04, 0x95]));
    const ready = ok(await call('PATCH', `logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' })).model;
    expect(ready.info.status).toBe('LOGGED_MODEL_READY');
    expect(ok(await call('GET', `logged-models/${id}`)).model).toEqual(ready);
    // Protobuf may send the enum as its number.
    expect(ok(await call('PATCH', `logged-models/${id}`, { status: 3 })).model.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
  });

  it('runs the MLflow 3 log_model flow over HTTP: upload into the model folder, run outputs, linked metrics, register', async () => {
    const created = ok(await call('POST', 'logged-models', { experiment_id: expId, name: 'http-model', source_run_id: run.info.runId })).model;
    const id = created.info.model_id;
    const put = (p: string, body: string) => fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${p}`, { method: 'PUT', body });
    expect((await put(`${expId}/models/${id}/artifacts/MLmodel`, PYFUNC_MLMODEL(id))).status).toBe(200);
    expect((await put(`${expId}/models/${id}/artifacts/python_model.pkl`, 'bytes')).status).toBe(200);
    // Outside the model's folder, another experiment, or an unknown model: refused.
    expect((await put(`${expId}/models/${id}/elsewhere.txt`, 'x')).status).toBe(400);
    expect((await put(`0/models/${id}/artifacts/x.txt`, 'x')).status).toBe(400);
    expect((await put(`${expId}/models/m-${'0'.repeat(32)}/artifacts/x.txt`, 'x')).status).toBe(404);
    const listed = ok(await call('GET', `logged-models/${id}/artifacts/directories`, undefined, { artifact_directory_path: '' }));
    expect(listed.files?.map((f) => f.path).sort()).toEqual(['MLmodel', 'python_model.pkl']);

    ok(await call('POST', 'runs/outputs', { run_id: run.info.runId, models: [{ model_id: id, step: 0 }] }));
    const got = (await call('GET', 'runs/get', undefined, { run_id: run.info.runId })).body as unknown as { run: { outputs?: { model_outputs: Array<{ model_id: string; step: number }> } } };
    expect(got.run.outputs?.model_outputs).toContainEqual({ model_id: id, step: 0 });
    ok(await call('POST', 'runs/log-batch', { run_id: run.info.runId, metrics: [{ key: 'val_f1', value: 0.81, timestamp: 1, step: 0, model_id: id }] }));
    const finalized = ok(await call('PATCH', `logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' })).model;
    expect(finalized.data.metrics).toEqual([expect.objectContaining({ key: 'val_f1', value: 0.81, run_id: run.info.runId })]);

    const name = `mlflow3-${uid()}`;
    ok(await call('POST', 'registered-models/create', { name }));
    const mv = ok(await call('POST', 'model-versions/create', { name, source: `models:/${id}`, model_id: id, run_id: run.info.runId })).model_version;
    expect(mv).toMatchObject({ version: '1', status: 'READY', run_id: run.info.runId });
  });

  it('names a model when the client does not, and refuses bad input', async () => {
    const unnamed = ok(await call('POST', 'logged-models', { experiment_id: expId })).model;
    expect(unnamed.info.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    expect(unnamed.info.source_run_id).toBeUndefined();
    expectError(await call('POST', 'logged-models', {}), 400, 'INVALID_PARAMETER_VALUE', /experiment_id/);
    expectError(await call('POST', 'logged-models', { experiment_id: '987654' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await call('POST', 'logged-models', { experiment_id: expId, source_run_id: 'f'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await call('POST', 'logged-models', { experiment_id: '0', source_run_id: run.info.runId }), 400, 'INVALID_PARAMETER_VALUE', /belongs to experiment/);
    expectError(await call('POST', 'logged-models', { experiment_id: expId, tags: [{ value: 'no key' }] }), 400, 'INVALID_PARAMETER_VALUE', /key/);
    const id = unnamed.info.model_id;
    expectError(await call('PATCH', `logged-models/${id}`, { status: 'DONE' }), 400, 'INVALID_PARAMETER_VALUE', /status/);
    expectError(await call('PATCH', `logged-models/${id}`, { status: 'LOGGED_MODEL_PENDING' }), 400, 'INVALID_PARAMETER_VALUE', /READY or FAILED/);
    expectError(await call('PATCH', `logged-models/${id}`, {}), 400, 'INVALID_PARAMETER_VALUE', /'status'/);
    expectError(await call('GET', `logged-models/m-${'0'.repeat(32)}`), 404, 'RESOURCE_DOES_NOT_EXIST', /not found/);
    expectError(await call('GET', 'logged-models/not-an-id'), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('register_model with a models:/<model_id> source', () => {
  it('registers the logged model folder with lineage to its source run, then tags the model with its versions', async () => {
    const model = await logModel('model', (id) => ({ MLmodel: PYFUNC_MLMODEL(id), 'model.pkl': 'pickle' }));
    const id = model.info.model_id;
    const name = `from-logged-${uid()}`;
    ok(await call('POST', 'registered-models/create', { name }));
    const mv = ok(await call('POST', 'model-versions/create', { name, source: `models:/${id}`, model_id: id })).model_version;
    expect(mv).toMatchObject({
      name,
      version: '1',
      source: `models:/${id}`,
      run_id: run.info.runId,
      status: 'READY',
      model_id: id,
      status_message: 'not servable here: flavor python_function/sklearn is not supported by FluxOps serving',
    });
    expect(ok(await call('GET', 'model-versions/get-download-uri', undefined, { name, version: '1' })).artifact_uri).toBe(model.info.artifact_uri);
    const native = await s.platform.registry.getModelVersion(name, 1);
    expect(native).toMatchObject({ modelId: id, flavor: 'python_function/sklearn', metrics: { rmse: 0.42 } });
    expect(native.signature?.inputs).toEqual([{ name: 'tensor', type: 'tensor<float64>[-1,4]' }]);
    const lineage = await s.platform.registry.lineage(name, 1);
    expect(lineage.run).toMatchObject({ runId: run.info.runId, params: { alpha: '0.1' } });
    // Searches can find the versions of a logged model.
    expect((await s.platform.registry.searchModelVersions({ filter: `model_id = '${id}'` })).items.map((v) => v.name)).toEqual([name]);

    // The client then records the registration on the logged model.
    const before = ok(await call('GET', `logged-models/${id}`)).model;
    expect(before.info.tags?.find((t) => t.key === 'mlflow.modelVersions')).toBeUndefined();
    const tagged = ok(await call('PATCH', `logged-models/${id}/tags`, { tags: [{ key: 'mlflow.modelVersions', value: JSON.stringify([{ name, version: '1' }]) }] })).model;
    expect(tagged.info.tags).toContainEqual({ key: 'mlflow.modelVersions', value: `[{"name":"${name}","version":"1"}]` });

    expectError(await call('POST', 'model-versions/create', { name, source: `models:/m-${'0'.repeat(32)}` }), 404, 'RESOURCE_DOES_NOT_EXIST', /Logged model/);
  });

  it('resolves runs:/<run>/<name> to the logged model when the run folder holds nothing there (MLflow 3 layout)', async () => {
    const fluxops: BuiltinModel = {
      format: 'fluxops-model',
      formatVersion: 1,
      algorithm: 'logistic_regression',
      signature: {
        inputs: [{ name: 'x1', type: 'double' }],
        outputs: [
          { name: 'prediction', type: 'long' },
          { name: 'probabilities', type: 'double', shape: [-1, 2] },
        ],
      },
      target: { name: 'y', classes: [0, 1] },
      preprocessing: { standardize: { mean: [0], scale: [1] } },
      coefficients: [1],
      intercept: 0,
      trainedAt: '2024-01-01T00:00:00.000Z',
      params: {},
    };
    const modelName = `clf-${uid()}`;
    const model = await logModel(modelName, () => ({ MLmodel: 'flavors:\n  fluxops:\n    model_file: fluxops-model.json\n', 'fluxops-model.json': serializeModel(fluxops) }));
    const name = `runs-fallback-${uid()}`;
    ok(await call('POST', 'registered-models/create', { name }));
    const mv = ok(await call('POST', 'model-versions/create', { name, source: `runs:/${run.info.runId}/${modelName}`, run_id: run.info.runId })).model_version;
    expect(mv).toMatchObject({ status: 'READY', status_message: 'servable (fluxops)', model_id: model.info.model_id, run_id: run.info.runId });
    expect(ok(await call('GET', 'model-versions/get-download-uri', undefined, { name, version: '1' })).artifact_uri).toBe(model.info.artifact_uri);
  });
});

describe('logged model data', () => {
  it('logs params (immutable), sets and deletes tags, and deletes the model', async () => {
    const model = await logModel(`data-${uid()}`, () => ({}));
    const id = model.info.model_id;
    expect(ok(await call('POST', `logged-models/${id}/params`, { model_id: id, params: [{ key: 'beta', value: '2' }, { key: 'alpha', value: '0.1' }] }))).toEqual({});
    expect(ok(await call('GET', `logged-models/${id}`)).model.data.params).toEqual([
      { key: 'alpha', value: '0.1' },
      { key: 'beta', value: '2' },
    ]);
    expectError(await call('POST', `logged-models/${id}/params`, { params: [{ key: 'beta', value: '3' }] }), 400, 'INVALID_PARAMETER_VALUE', /cannot change/);

    ok(await call('PATCH', `logged-models/${id}/tags`, { tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] }));
    expect(ok(await call('DELETE', `logged-models/${id}/tags/a`))).toEqual({});
    expect(ok(await call('GET', `logged-models/${id}`)).model.info.tags).toEqual([
      { key: 'b', value: '2' },
      { key: 'mlflow.source.name', value: 'train.py' },
    ]);
    expectError(await call('DELETE', `logged-models/${id}/tags/a`), 404, 'RESOURCE_DOES_NOT_EXIST');

    // Metrics linked to the model (MLflow clients send them with log-batch and a model_id).
    await s.platform.loggedModels.recordMetrics(id, [{ key: 'acc', value: 0.9, step: 1, runId: run.info.runId, datasetName: 'eval', datasetDigest: 'abc' }, { key: 'loss', value: NaN }]);
    expect(ok(await call('GET', `logged-models/${id}`)).model.data.metrics).toEqual([
      { key: 'acc', value: 0.9, timestamp: anyNumber, step: 1, dataset_name: 'eval', dataset_digest: 'abc', model_id: id, run_id: run.info.runId },
      { key: 'loss', value: 'NaN', timestamp: anyNumber, step: 0, model_id: id },
    ]);

    expect(ok(await call('DELETE', `logged-models/${id}`, { model_id: id }))).toEqual({});
    expectError(await call('GET', `logged-models/${id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await call('PATCH', `logged-models/${id}/tags`, { tags: [] }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await call('DELETE', `logged-models/${id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('lists and downloads the model files', async () => {
    const model = await logModel(`files-${uid()}`, (id) => ({ MLmodel: PYFUNC_MLMODEL(id), 'model.pkl': 'pickle', 'extra/notes.txt': 'hello' }));
    const id = model.info.model_id;
    const top = ok(await call('GET', `logged-models/${id}/artifacts/directories`));
    expect(top).toEqual({
      root_uri: model.info.artifact_uri,
      files: [
        { path: 'MLmodel', is_dir: false, file_size: anyNumber },
        { path: 'extra', is_dir: true },
        { path: 'model.pkl', is_dir: false, file_size: 6 },
      ],
    });
    expect(ok(await call('GET', `logged-models/${id}/artifacts/directories`, undefined, { artifact_directory_path: 'extra' })).files).toEqual([{ path: 'extra/notes.txt', is_dir: false, file_size: 5 }]);
    expect(ok(await call('GET', `logged-models/${id}/artifacts/directories`, undefined, { artifact_directory_path: 'nothing' }))).toEqual({ root_uri: model.info.artifact_uri });
    const file = await fetch(`${s.url}/ajax-api/2.0/mlflow/logged-models/${id}/artifacts/files?artifact_file_path=extra/notes.txt`);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe('hello');
    expectError(await call('GET', `logged-models/${id}/artifacts/files`, undefined, { artifact_file_path: '../../escape' }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await call('GET', `logged-models/${id}/artifacts/files`, undefined, { artifact_file_path: 'missing.txt' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('search', () => {
  it('searches by experiment with filters, order and paging, leaving deleted models out', async () => {
    const expB = await s.platform.tracking.createExperiment({ name: `search-${uid()}` });
    const runB = await s.platform.tracking.createRun({ experimentId: expB });
    const ids: string[] = [];
    for (const [n, alpha] of [
      ['m1', '0.1'],
      ['m2', '0.5'],
      ['m3', '0.9'],
    ] as const) {
      const m = ok(await call('POST', 'logged-models', { experiment_id: expB, name: n, source_run_id: runB.info.runId, params: [{ key: 'alpha', value: alpha }], tags: [{ key: 'team', value: n === 'm2' ? 'blue' : 'red' }] })).model;
      ids.push(m.info.model_id);
      await s.platform.loggedModels.recordMetrics(m.info.model_id, [{ key: 'acc', value: Number(alpha) * 100, datasetName: 'test' }]);
      await new Promise((r) => setTimeout(r, 3));
    }
    const names = async (body: Record<string, unknown>) => (ok(await call('POST', 'logged-models/search', { experiment_ids: [expB], ...body })).models ?? []).map((m) => m.info.name);
    // Newest first unless told otherwise.
    expect(await names({})).toEqual(['m3', 'm2', 'm1']);
    expect(await names({ filter: "name = 'm2'" })).toEqual(['m2']);
    expect(await names({ filter: "params.alpha = '0.1'" })).toEqual(['m1']);
    expect(await names({ filter: "tags.team = 'red' AND name != 'm3'" })).toEqual(['m1']);
    expect(await names({ filter: 'metrics.acc > 40' })).toEqual(['m3', 'm2']);
    expect(await names({ filter: 'metrics.acc > 40', datasets: [{ dataset_name: 'other' }] })).toEqual([]);
    expect(await names({ filter: `source_run_id = '${runB.info.runId}' AND status = 'PENDING'` })).toEqual(['m3', 'm2', 'm1']);
    expect(await names({ order_by: [{ field_name: 'name', ascending: true }] })).toEqual(['m1', 'm2', 'm3']);
    expect(await names({ order_by: [{ field_name: 'metrics.acc', ascending: false }] })).toEqual(['m3', 'm2', 'm1']);
    expect(await names({ order_by: [{ field_name: 'creation_timestamp', ascending: true }] })).toEqual(['m1', 'm2', 'm3']);

    const first = ok(await call('POST', 'logged-models/search', { experiment_ids: [expB], max_results: 2 }));
    expect(first.models!.map((m) => m.info.name)).toEqual(['m3', 'm2']);
    const second = ok(await call('POST', 'logged-models/search', { experiment_ids: [expB], max_results: 2, page_token: first.next_page_token }));
    expect(second.models!.map((m) => m.info.name)).toEqual(['m1']);
    expect(second.next_page_token).toBeUndefined();

    ok(await call('DELETE', `logged-models/${ids[1]!}`));
    expect(await names({})).toEqual(['m3', 'm1']);
    expect(ok(await call('POST', 'logged-models/search', { experiment_ids: ['987654'] }))).toEqual({});

    expectError(await call('POST', 'logged-models/search', {}), 400, 'INVALID_PARAMETER_VALUE', /experiment_ids/);
    expectError(await call('POST', 'logged-models/search', { experiment_ids: [expB], filter: 'metrics.acc > ' }), 400, 'INVALID_PARAMETER_VALUE', /filter/);
    expectError(await call('POST', 'logged-models/search', { experiment_ids: [expB], filter: "metrics.acc = 'high'" }), 400, 'INVALID_PARAMETER_VALUE', /number/);
    expectError(await call('POST', 'logged-models/search', { experiment_ids: [expB], order_by: [{ field_name: 'colour' }] }), 400, 'INVALID_PARAMETER_VALUE', /order_by/);
    expectError(await call('POST', 'logged-models/search', { experiment_ids: [expB], max_results: 0 }), 400, 'INVALID_PARAMETER_VALUE', /max_results/);
  });
});
