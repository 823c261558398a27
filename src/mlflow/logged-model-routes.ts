import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { LoggedModel, LoggedModelMetric, LoggedModelStatus } from '../logged-models/index.js';
import { byPath, fileInfoJson, keyValues, toMlflowDouble } from './convert.js';
import type { RouteAuth } from '../http/index.js';
import type { MlflowRouteDeps } from './index.js';
import { type MlflowFields, stringOf } from './mlflow-fields.js';
import { invalidValue, missing } from './mlflow-refusals.js';
import { mlflowRouter } from './mlflow-router.js';
import { tagList } from './registry-convert.js';

/** MLflow's LoggedModelStatus enum: names as JSON writes them, and the numbers protobuf may send. */
const STATUS_NAMES: Record<LoggedModelStatus, string> = { PENDING: 'LOGGED_MODEL_PENDING', READY: 'LOGGED_MODEL_READY', FAILED: 'LOGGED_MODEL_UPLOAD_FAILED' };
const STATUS_IN: Record<string, LoggedModelStatus> = {
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_UPLOAD_FAILED: 'FAILED',
  PENDING: 'PENDING',
  READY: 'READY',
  FAILED: 'FAILED',
  '1': 'PENDING',
  '2': 'READY',
  '3': 'FAILED',
};

interface MlflowLoggedModelMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
  dataset_name?: string;
  dataset_digest?: string;
  model_id: string;
  run_id?: string;
}

/** A logged model as MLflow 3's `LoggedModel` message: `info` (attributes, tags) and `data` (params, metrics). */
export function loggedModelJson(m: LoggedModel) {
  const tags = keyValues(m.tags);
  const params = keyValues(m.params);
  const metrics = m.metrics.map((x: LoggedModelMetric): MlflowLoggedModelMetric => ({
    key: x.key,
    value: toMlflowDouble(x.value),
    timestamp: x.timestamp,
    step: x.step,
    ...(x.datasetName !== '' ? { dataset_name: x.datasetName } : {}),
    ...(x.datasetDigest !== '' ? { dataset_digest: x.datasetDigest } : {}),
    model_id: m.modelId,
    ...(x.runId !== '' ? { run_id: x.runId } : {}),
  }));
  return {
    info: {
      model_id: m.modelId,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.creationTime,
      last_updated_timestamp_ms: m.lastUpdatedTime,
      artifact_uri: m.artifactLocation,
      status: STATUS_NAMES[m.status],
      ...(m.modelType !== '' ? { model_type: m.modelType } : {}),
      ...(m.sourceRunId !== '' ? { source_run_id: m.sourceRunId } : {}),
      ...(m.statusMessage !== '' ? { status_message: m.statusMessage } : {}),
      ...(tags.length > 0 ? { tags } : {}),
    },
    data: {
      ...(params.length > 0 ? { params } : {}),
      ...(metrics.length > 0 ? { metrics } : {}),
    },
  };
}

type Handler = (f: MlflowFields, modelId: string, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * MLflow 3's logged-model API (`/logged-models…`, from its published `service.proto`) over
 * LoggedModelService. The client's `log_model` creates a model (PENDING), uploads its files
 * through the artifact proxy into `<experiment>/models/<model_id>/artifacts`, and finalizes it
 * READY; `register_model` then creates a version with source `models:/<model_id>`.
 */
export const mlflowLoggedModelRoutes: FastifyPluginAsync<MlflowRouteDeps> = async (app, { platform, hidden }) => {
  const lm = platform.loggedModels;
  const register = mlflowRouter(app, hidden);
  const route = (method: HTTPMethods, url: string, auth: RouteAuth, summary: string, description: string, handler: Handler): void =>
    register(method, url, auth, summary, description, (f, req, reply) => handler(f, (req.params as Record<string, string | undefined>).model_id ?? '', req, reply));


  route(
    'POST',
    '/logged-models', 'write',
    'Create a logged model',
    'Body: experiment_id, name?, model_type?, source_run_id?, params? [{key, value}], tags? [{key, value}]. Returns {model} in LOGGED_MODEL_PENDING with its artifact_uri (mlflow-artifacts:/<exp>/models/<model_id>/artifacts).',
    async (f) => {
      const model = await lm.create({
        experimentId: f.idString('experiment_id') ?? missingField('experiment_id'),
        name: f.string('name') || undefined,
        modelType: f.string('model_type'),
        sourceRunId: f.string('source_run_id') || undefined,
        params: tagList(f, 'params'),
        tags: tagList(f, 'tags'),
      });
      return { model: loggedModelJson(model) };
    },
  );

  route('POST', '/logged-models/search', 'read', 'Search logged models', 'Body: experiment_ids [], filter? (name, model_id, status, source_run_id, creation_timestamp, params.<k>, tags.<k>, metrics.<k>), datasets? [{dataset_name, dataset_digest?}], order_by? [{field_name, ascending}], max_results? (default 50), page_token?. Returns {models, next_page_token}.', async (f) => {
    const page = await lm.search({
      experimentIds: f.stringList('experiment_ids'),
      filter: f.string('filter'),
      datasets: f.objectList('datasets').map((d, i) => ({ name: stringOf(d.dataset_name, `datasets[${i}].dataset_name`, true), digest: stringOf(d.dataset_digest, `datasets[${i}].dataset_digest`) })),
      orderBy: f.objectList('order_by').map((o, i) => ({ field: stringOf(o.field_name, `order_by[${i}].field_name`, true), ascending: o.ascending })),
      maxResults: f.int64('max_results'),
      pageToken: f.string('page_token') || undefined,
    });
    return {
      ...(page.items.length > 0 ? { models: page.items.map(loggedModelJson) } : {}),
      ...(page.nextPageToken !== undefined ? { next_page_token: page.nextPageToken } : {}),
    };
  });

  route('GET', '/logged-models/:model_id', 'read', 'Get a logged model', 'Returns {model}; RESOURCE_DOES_NOT_EXIST (404) for an unknown or deleted id.', async (_f, id) => ({ model: loggedModelJson(await lm.get(id)) }));

  route('PATCH', '/logged-models/:model_id', 'write', 'Finalize a logged model', 'Body: status (LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED). Returns {model}.', async (f, id) => {
    const raw = f.value('status');
    if (raw === undefined || raw === null) throw missing('status');
    const status = typeof raw === 'string' || typeof raw === 'number' ? STATUS_IN[String(raw)] : undefined;
    if (status === undefined) throw invalidValue('status', raw);
    return { model: loggedModelJson(await lm.finalize(id, status)) };
  });

  route('DELETE', '/logged-models/:model_id', 'write', 'Delete a logged model', 'Its record goes; registered versions made from it stay.', async (_f, id) => {
    await lm.delete(id);
    return {};
  });

  route('PATCH', '/logged-models/:model_id/tags', 'write', 'Set logged model tags', 'Body: tags [{key, value}]. Returns {model}.', async (f, id) => ({ model: loggedModelJson(await lm.setTags(id, tagList(f, 'tags'))) }));

  route('DELETE', '/logged-models/:model_id/tags/:tag_key', 'write', 'Delete a logged model tag', 'RESOURCE_DOES_NOT_EXIST (404) when the tag is not set.', async (_f, id, req) => {
    await lm.deleteTag(id, (req.params as Record<string, string>).tag_key);
    return {};
  });

  route('POST', '/logged-models/:model_id/params', 'write', 'Log logged model params', 'Body: params [{key, value}]. Params are immutable: another value for a logged key is a 400.', async (f, id) => {
    await lm.logParams(id, tagList(f, 'params'));
    return {};
  });

  route(
    'GET',
    '/logged-models/:model_id/artifacts/directories', 'read',
    "List a logged model's files",
    "Query: artifact_directory_path? (relative to the model's root), page_token?. Returns {root_uri, files [{path, is_dir, file_size}]}, paths relative to the model's root.",
    async (f, id) => {
      const model = await lm.get(id);
      const entries = await lm.listArtifacts(model.modelId, f.string('artifact_directory_path') ?? '');
      return { root_uri: model.artifactLocation, ...(entries.length > 0 ? { files: byPath(entries).map((e) => fileInfoJson(e, '')) } : {}) };
    },
  );

  route('GET', '/logged-models/:model_id/artifacts/files', 'read', "Download one of a logged model's files", 'Query: artifact_file_path (relative to the model\'s root). Streams the file.', async (f, id, _req, reply) => {
    const stream = await lm.openArtifact(id, f.requiredString('artifact_file_path'));
    void reply.header('content-type', 'application/octet-stream');
    return reply.send(stream);
  });
};

function missingField(name: string): never {
  throw missing(name);
}
