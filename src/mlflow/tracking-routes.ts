import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { callerOf, WRITES_RUN_IN_BODY } from '../http/index.js';
import { LIMITS, type KeyValue, type LogDatasetInput, type Metric, type MetricInput, type Page, type RunStatus, type ViewType } from '../tracking/index.js';
import { byPath, experimentJson, fileInfoJson, metricJson, runInfoJson, runJson, type MlflowRun } from './convert.js';
import type { MlflowRouteDeps } from './index.js';
import { type MlflowFields, doubleOf, int64Of, stringOf } from './mlflow-fields.js';
import { invalid, invalidValue, missing, mlflowArtifactPath } from './mlflow-refusals.js';
import { mlflowRouter } from './mlflow-router.js';

/** Largest page of metric history MLflow's server returns for one request. */
const HISTORY_PAGE_MAX = 25_000;
const RUN_STATUS_BY_NUMBER: Record<number, RunStatus> = { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' };
const VIEW_TYPE_BY_NUMBER: Record<number, ViewType> = { 1: 'ACTIVE_ONLY', 2: 'DELETED_ONLY', 3: 'ALL' };


/**
 * MLflow's tracking REST API (experiments, runs, metrics, params, tags, inputs, logged models,
 * run search, metric history, artifact listing) as a thin adapter over TrackingService: each
 * handler reads MLflow's fields, calls the service, and writes MLflow's JSON.
 */
export const mlflowTrackingRoutes: FastifyPluginAsync<MlflowRouteDeps> = async (app, { platform, hidden }) => {
  const t = platform.tracking;
  const route = mlflowRouter(app, hidden);


  // ---- experiments ----
  route('POST', '/experiments/create', 'write', 'Create an experiment', 'Body: name, artifact_location? (a relative local path is made absolute against the server\'s working directory), tags? [{key, value}]. Returns {experiment_id}.', async (f, req) => {
    const id = await t.createExperiment({
      name: f.requiredString('name'),
      artifactLocation: resolveLocalLocation(f.string('artifact_location') || undefined),
      tags: keyValueList(f.objectList('tags'), 'tags'),
    }, callerOf(req));
    return { experiment_id: id };
  });

  route('GET', '/experiments/get', 'read', 'Get an experiment', 'Query: experiment_id. Returns {experiment}.', async (f) => ({
    experiment: experimentJson(await t.getExperiment(requiredId(f, 'experiment_id'))),
  }));

  route('GET', '/experiments/get-by-name', 'read', 'Get an experiment by name', 'Query: experiment_name. Returns {experiment}; 404 when absent.', async (f) => ({
    experiment: experimentJson(await t.getExperimentByName(f.requiredString('experiment_name'))),
  }));

  route(
    ['POST', 'GET'],
    '/experiments/search', 'read',
    'Search experiments',
    'Fields: filter (name, creation_time, last_update_time, tags.<key>), order_by [], max_results (≤ 50000), page_token, view_type. Returns {experiments, next_page_token}.',
    async (f) => {
      const orderBy = f.stringList('order_by');
      const page = await t.searchExperiments({
        maxResults: maxResults(f, 1000, LIMITS.maxSearchResults),
        pageToken: f.string('page_token') || undefined,
        filter: f.string('filter'),
        // MLflow lists the newest experiments first unless told otherwise (ties: id ascending).
        orderBy: orderBy.length > 0 ? orderBy : ['creation_time DESC'],
        viewType: viewType(f, 'view_type'),
      });
      return pageJson('experiments', page, experimentJson);
    },
  );

  route('POST', '/experiments/update', 'write', 'Rename an experiment', 'Body: experiment_id, new_name.', async (f) => {
    const id = requiredId(f, 'experiment_id');
    const newName = f.string('new_name');
    if (newName) await t.renameExperiment(id, newName);
    else await t.getExperiment(id);
    return {};
  });

  route('POST', '/experiments/delete', 'write', 'Delete an experiment', 'Body: experiment_id.', async (f) => {
    await t.deleteExperiment(requiredId(f, 'experiment_id'));
    return {};
  });

  route('POST', '/experiments/restore', 'write', 'Restore a deleted experiment', 'Body: experiment_id.', async (f) => {
    await t.restoreExperiment(requiredId(f, 'experiment_id'));
    return {};
  });

  route('POST', '/experiments/set-experiment-tag', 'write', 'Set an experiment tag', 'Body: experiment_id, key, value.', async (f) => {
    await t.setExperimentTag(requiredId(f, 'experiment_id'), f.requiredString('key'), f.requiredString('value'));
    return {};
  });

  // ---- runs ----
  route('POST', '/runs/create', 'write', 'Create a run', 'Body: experiment_id, user_id, run_name, start_time, tags [{key, value}]. Returns {run}; with a key, its name is the run\'s user.', async (f, req) => {
    const tags = keyValueList(f.objectList('tags'), 'tags');
    const runName = f.string('run_name') || undefined;
    const tagName = tags.findLast((tg) => tg.key === 'mlflow.runName')?.value;
    if (runName !== undefined && tagName !== undefined && tagName !== runName) {
      throw invalid(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${runName}', mlflow.runName='${tagName}').`);
    }
    const run = await t.createRun({
      experimentId: f.string('experiment_id') || '0',
      runName,
      userId: req.principal.name ?? f.string('user_id'),
      startTime: f.int64('start_time'),
      tags: Object.fromEntries(tags.map((tg) => [tg.key, tg.value])),
    }, callerOf(req));
    return { run: runJson(run, false) };
  });

  route('GET', '/runs/get', 'read', 'Get a run', 'Query: run_id (or run_uuid). Returns {run} with its latest metrics, params, tags, inputs and (MLflow 3) the logged models it output.', async (f) => {
    const run = await t.getRun(f.runId());
    const json: MlflowRun & { outputs?: { model_outputs: Array<{ model_id: string; step: number }> } } = runJson(run, true);
    const outputs = await platform.loggedModels.runOutputs(run.info.runId);
    if (outputs.length > 0) json.outputs = { model_outputs: outputs.map((o) => ({ model_id: o.modelId, step: o.step })) };
    return { run: json };
  });

  route('POST', '/runs/outputs', WRITES_RUN_IN_BODY, 'Record logged models a run output (MLflow 3)', 'Body: run_id, models [{model_id, step}].', async (f) => {
    const runId = f.runId();
    await platform.loggedModels.logOutputs(
      runId,
      f.objectList('models').map((m, i) => ({ modelId: stringOf(m.model_id, `models[${i}].model_id`, true), step: m.step === undefined ? undefined : int64Of(m.step, `models[${i}].step`) })),
    );
    return {};
  });

  route('POST', '/runs/update', WRITES_RUN_IN_BODY, 'Update a run', 'Body: run_id, status?, end_time?, run_name?. Returns {run_info}.', async (f, req) => {
    const run = await t.updateRun(f.runId(), { status: runStatus(f), endTime: f.int64('end_time'), runName: f.string('run_name') || undefined }, callerOf(req));
    return { run_info: runInfoJson(run.info) };
  });

  route('POST', '/runs/delete', WRITES_RUN_IN_BODY, 'Delete a run', 'Body: run_id.', async (f, req) => {
    await t.deleteRun(f.runId(), callerOf(req));
    return {};
  });

  route('POST', '/runs/restore', WRITES_RUN_IN_BODY, 'Restore a deleted run', 'Body: run_id.', async (f, req) => {
    await t.restoreRun(f.runId(), callerOf(req));
    return {};
  });

  route('POST', '/runs/log-metric', WRITES_RUN_IN_BODY, 'Log a metric', 'Body: run_id, key, value (number, or "NaN"/"Infinity"/"-Infinity"), timestamp, step?.', async (f) => {
    const runId = f.runId();
    const key = f.requiredString('key');
    if (!f.has('value')) throw missing('value');
    const value = doubleOf(f.value('value'), 'value')!;
    const metric = { key, value, timestamp: f.requiredInt64('timestamp'), step: f.int64('step') ?? 0 };
    await t.logMetric(runId, metric);
    const modelId = f.string('model_id');
    if (modelId) await platform.loggedModels.recordMetrics(modelId, [{ ...metric, runId, datasetName: f.string('dataset_name') ?? '', datasetDigest: f.string('dataset_digest') ?? '' }]);
    return {};
  });

  route('POST', '/runs/log-parameter', WRITES_RUN_IN_BODY, 'Log a parameter', 'Body: run_id, key, value. Params are immutable: another value for a logged key is a 400.', async (f) => {
    await t.logParam(f.runId(), f.requiredString('key'), paramValue(f.value('value'), 'value', f.rawToken('value')));
    return {};
  });

  route('POST', '/runs/set-tag', WRITES_RUN_IN_BODY, 'Set a run tag', 'Body: run_id, key, value.', async (f) => {
    await t.setTag(f.runId(), f.requiredString('key'), f.requiredString('value'));
    return {};
  });

  route('POST', '/runs/delete-tag', WRITES_RUN_IN_BODY, 'Delete a run tag', 'Body: run_id, key.', async (f) => {
    await t.deleteTag(f.runId(), f.requiredString('key'));
    return {};
  });

  route(
    'POST',
    '/runs/log-batch', WRITES_RUN_IN_BODY,
    'Log metrics, params and tags in one call',
    'Body: run_id, metrics [{key, value, timestamp, step}] (≤ 1000), params [{key, value}] (≤ 100), tags [{key, value}] (≤ 100); at most 1000 items in all. All or nothing.',
    async (f) => {
      const runId = f.runId();
      // MLflow requires key, value and timestamp of every metric (step defaults to 0) and the key
      // of every param and tag; without one it refuses the whole list, printed as Python does.
      const metrics = f.objectList('metrics').map((m, i): MetricInput => {
        if (!present(m.key) || !present(m.value) || !present(m.timestamp)) throw f.invalid('metrics');
        return {
          key: m.key,
          value: doubleOf(m.value, `metrics[${i}].value`),
          timestamp: int64Of(m.timestamp, `metrics[${i}].timestamp`),
          step: int64Of(m.step, `metrics[${i}].step`),
        };
      });
      const paramList = f.objectList('params');
      if (!paramList.every((p) => present(p.key))) throw f.invalid('params');
      const params = paramList.map((p, i) => ({ key: stringOf(p.key, `params[${i}].key`, true)!, value: paramValue(p.value, `params[${i}].value`) }));
      const tagList = f.objectList('tags');
      if (!tagList.every((tg) => present(tg.key))) throw f.invalid('tags');
      const tags = keyValueList(tagList, 'tags');
      await t.logBatch(runId, { metrics, params, tags });
      // MLflow 3 links metric points to a logged model through their model_id.
      const byModel = new Map<string, Array<{ key: string; value: number; timestamp: number | undefined; step: number | undefined; runId: string; datasetName: string; datasetDigest: string }>>();
      f.objectList('metrics').forEach((m, i) => {
        if (typeof m.model_id !== 'string' || m.model_id === '') return;
        const point = metrics[i]!;
        const list = byModel.get(m.model_id) ?? [];
        list.push({
          key: point.key as string,
          value: point.value as number,
          timestamp: point.timestamp as number | undefined,
          step: point.step as number | undefined,
          runId,
          datasetName: typeof m.dataset_name === 'string' ? m.dataset_name : '',
          datasetDigest: typeof m.dataset_digest === 'string' ? m.dataset_digest : '',
        });
        byModel.set(m.model_id, list);
      });
      for (const [modelId, points] of byModel) await platform.loggedModels.recordMetrics(modelId, points);
      return {};
    },
  );

  route(
    'POST',
    '/runs/log-inputs', WRITES_RUN_IN_BODY,
    'Log dataset inputs of a run',
    'Body: run_id, datasets [{tags [{key, value}], dataset {name, digest, source_type, source, schema?, profile?}}]; every tag is kept in the order sent, and the mlflow.data.context tag is also the input context.',
    async (f) => {
      const runId = f.runId();
      if (!f.has('datasets')) throw missing('datasets');
      const datasets = f.objectList('datasets').map((d, i): LogDatasetInput => {
        const ds = d.dataset;
        if (typeof ds !== 'object' || ds === null || Array.isArray(ds)) throw missing(`datasets[${i}].dataset`);
        const dataset = ds as Record<string, unknown>;
        const tags = d.tags === undefined || d.tags === null ? [] : keyValueList(asObjectList(d.tags, `datasets[${i}].tags`), `datasets[${i}].tags`);
        const field = (name: string, required: boolean): string => stringOf(dataset[name], `datasets[${i}].dataset.${name}`, required) ?? '';
        return {
          name: field('name', true),
          digest: field('digest', true),
          sourceType: field('source_type', true),
          source: field('source', true),
          schema: field('schema', false),
          profile: field('profile', false),
          tags,
        };
      });
      await t.logInputs(runId, datasets);
      return {};
    },
  );

  route('POST', '/runs/log-model', WRITES_RUN_IN_BODY, 'Record a logged model', "Body: run_id, model_json (the MLmodel as JSON); appended to the run's mlflow.log-model.history tag.", async (f) => {
    const runId = f.runId();
    const text = f.requiredString('model_json');
    let model: unknown;
    try {
      model = JSON.parse(text);
    } catch {
      throw invalidValue('model_json', text.slice(0, 100));
    }
    await t.recordLoggedModel(runId, model);
    return {};
  });

  route(
    'POST',
    '/runs/search', 'read',
    'Search runs',
    'Body: experiment_ids [], filter (metrics., params., tags., attributes. with =, !=, <, <=, >, >=, LIKE, ILIKE, IN joined by AND), run_view_type, max_results (≤ 50000), order_by [], page_token. Returns {runs, next_page_token}.',
    async (f) => {
      const experimentIds = f.stringList('experiment_ids');
      // MLflow's handler checks the bound itself, with its generic message (experiments/search leaves it to the store).
      const requested = f.int64('max_results');
      if (requested !== undefined && requested > LIMITS.maxSearchResults) throw f.invalid('max_results');
      const max = maxResults(f, 1000, LIMITS.maxSearchResults);
      if (experimentIds.length === 0) return {};
      const page = await t.searchRuns({
        experimentIds,
        filter: f.string('filter'),
        orderBy: f.stringList('order_by'),
        viewType: viewType(f, 'run_view_type'),
        maxResults: max,
        pageToken: f.string('page_token') || undefined,
      });
      return pageJson('runs', page, (r) => runJson(r, true));
    },
  );

  route(
    'GET',
    '/metrics/get-history', 'read',
    'Get the history of a metric',
    'Query: run_id (or run_uuid), metric_key, max_results (≤ 25000 per page), page_token. Returns {metrics, next_page_token}.',
    async (f) => {
      const runId = f.runId();
      const key = f.requiredString('metric_key');
      const requested = f.int64('max_results');
      if (requested !== undefined && requested < 1) throw f.invalid('max_results');
      const pageToken = f.string('page_token') || undefined;
      if (requested === undefined && pageToken === undefined) {
        // Without paging fields MLflow's server returns the whole history: gather every page.
        const metrics: Metric[] = [];
        let token: string | undefined;
        do {
          const page = await t.getMetricHistory(runId, key, { maxResults: HISTORY_PAGE_MAX, pageToken: token });
          metrics.push(...page.items);
          token = page.nextPageToken;
        } while (token !== undefined);
        return metrics.length > 0 ? { metrics: metrics.map(metricJson) } : {};
      }
      const page = await t.getMetricHistory(runId, key, { maxResults: Math.min(requested ?? HISTORY_PAGE_MAX, HISTORY_PAGE_MAX), pageToken });
      return pageJson('metrics', page, metricJson);
    },
  );

  route('GET', '/artifacts/list', 'read', 'List artifacts of a run', "Query: run_id (or run_uuid), path?, page_token?. Returns {root_uri, files [{path, is_dir, file_size}]}; paths are relative to the run root. A path that leaves the run's folder is 400 'Invalid path'.", async (f) => {
    const runId = f.runId();
    // The path is checked before anything is looked up, as MLflow does.
    const dir = mlflowArtifactPath(f.string('path') ?? '').join('/');
    const run = await t.getRun(runId);
    const files = await t.listArtifacts(runId, dir);
    const out: { root_uri: string; files?: ReturnType<typeof fileInfoJson>[] } = { root_uri: run.info.artifactUri };
    if (files.length > 0) out.files = byPath(files).map((e) => fileInfoJson(e, ''));
    return out;
  });
};

/** `{<name>: [...], next_page_token}`, leaving out an empty list and a missing token as MLflow does. */
function pageJson<T, J>(name: string, page: Page<T>, convert: (item: T) => J): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (page.items.length > 0) out[name] = page.items.map(convert);
  if (page.nextPageToken !== undefined) out.next_page_token = page.nextPageToken;
  return out;
}

function requiredId(f: MlflowFields, name: string): string {
  const v = f.string(name);
  if (v === undefined || v === '') throw missing(name);
  return v;
}

function maxResults(f: MlflowFields, dflt: number, limit: number): number {
  const n = f.int64('max_results');
  if (n === undefined) return dflt;
  if (n > limit) throw invalid(`Invalid value for request parameter max_results. It must be at most ${limit}, but got value ${n}`);
  if (n < 1) throw invalid(`Invalid value for request parameter max_results. It must be a positive integer, but got value ${n}`);
  return n;
}

function viewType(f: MlflowFields, name: string): ViewType | undefined {
  if (!f.has(name)) return undefined;
  const v = f.value(name);
  if (typeof v === 'number' && VIEW_TYPE_BY_NUMBER[v] !== undefined) return VIEW_TYPE_BY_NUMBER[v];
  if (v === 'ACTIVE_ONLY' || v === 'DELETED_ONLY' || v === 'ALL') return v;
  if (typeof v === 'string' && /^[123]$/.test(v)) return VIEW_TYPE_BY_NUMBER[Number(v)];
  throw f.invalid(name);
}

function runStatus(f: MlflowFields): string | undefined {
  if (!f.has('status')) return undefined;
  const v = f.value('status');
  if (typeof v === 'number' && RUN_STATUS_BY_NUMBER[v] !== undefined) return RUN_STATUS_BY_NUMBER[v];
  if (typeof v === 'string') return v;
  throw f.invalid('status');
}

/** A param value: a string, as MLflow requires (a number is refused, not converted). */
function paramValue(v: unknown, field: string, rawToken?: string): string {
  if (v === undefined || v === null) throw missing(field);
  if (typeof v !== 'string') throw invalidValue(field, v, rawToken);
  return v;
}

/** Present as MLflow's handlers require a field: neither absent, null nor the empty string. */
function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/**
 * An experiment's artifact location as MLflow's server stores it: a relative local path (no URI
 * scheme) is made absolute against the server's working directory; URIs and absolute paths are
 * kept as given.
 */
function resolveLocalLocation(location: string | undefined): string | undefined {
  if (location === undefined || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(location) || path.posix.isAbsolute(location)) return location;
  // Joined as Python's pathlib joins: '.' and empty segments go, '..' stays as written.
  const segments = location.split('/').filter((s) => s !== '' && s !== '.');
  const cwd = process.cwd().replace(/\/+$/, '');
  return segments.length === 0 ? cwd : `${cwd}/${segments.join('/')}`;
}

function asObjectList(v: unknown, field: string): Array<Record<string, unknown>> {
  if (!Array.isArray(v)) throw invalidValue(field, v);
  return v.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidValue(`${field}[${i}]`, item);
    return item as Record<string, unknown>;
  });
}

function keyValueList(items: Array<Record<string, unknown>>, field: string): KeyValue[] {
  return items.map((item, i) => ({
    key: stringOf(item.key, `${field}[${i}].key`, true)!,
    value: stringOf(item.value, `${field}[${i}].value`, true)!,
  }));
}

