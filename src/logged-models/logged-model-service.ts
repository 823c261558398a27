import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FluxError, decodePageToken } from '../core/index.js';
import { LOGGED_MODEL_ID, type LoggedModelLookup } from '../registry/index.js';
import { parseSearchFilter, parseSearchOrderBy, type SearchOrder, type SearchSpec } from '../search/index.js';
import { ArtifactUris, safeRelativePath, type ArtifactEntry, type ArtifactStore } from '../storage/artifacts/index.js';
import { LIMITS, type Page, type TrackingService } from '../tracking/index.js';
import type { LoggedModelStore } from './logged-model-store.js';
import { LOGGED_MODEL_STATUSES, type LoggedModel, type LoggedModelMetric, type LoggedModelStatus } from './types.js';

type KvInput = Array<{ key: unknown; value: unknown }> | undefined;

/** Filters over logged models: attributes, `params.`, `tags.` and (numeric) `metrics.`. */
export const LOGGED_MODEL_SEARCH: SearchSpec = {
  what: 'logged models',
  attributes: {
    name: { numeric: false, inList: true },
    model_id: { numeric: false, inList: true },
    model_type: { numeric: false, inList: true },
    status: { numeric: false, inList: true },
    source_run_id: { numeric: false, inList: true },
    creation_timestamp: { numeric: true },
    last_updated_timestamp: { numeric: true },
  },
  attributeAliases: { creation_time: 'creation_timestamp', last_updated_time: 'last_updated_timestamp', run_id: 'source_run_id' },
  entities: { param: 'param', params: 'param', tag: 'tag', tags: 'tag', metric: 'metric', metrics: 'metric' },
  numericEntities: ['metric'],
  orderable: {
    name: 'name',
    model_id: 'model_id',
    creation_timestamp: 'creation_timestamp',
    creation_time: 'creation_timestamp',
    last_updated_timestamp: 'last_updated_timestamp',
    last_updated_time: 'last_updated_timestamp',
  },
  orderEntities: ['metric'],
};

const ADJECTIVES = ['amber', 'brave', 'clever', 'dapper', 'gentle', 'lively', 'nimble', 'polite', 'rapid', 'steady'];
const NOUNS = ['ant', 'bison', 'crane', 'dolphin', 'eagle', 'finch', 'gecko', 'ibis', 'koala', 'newt'];

/**
 * MLflow 3's logged models: a model with its own id and artifact folder
 * (`<experiment>/models/<model_id>/artifacts`), created PENDING, filled through the artifact
 * proxy, then finalized READY (or FAILED). Registry versions are created from them with a
 * `models:/<model_id>` source, keeping lineage to the source run.
 */
export class LoggedModelService {
  private readonly uris: ArtifactUris;

  constructor(
    private readonly store: LoggedModelStore,
    private readonly tracking: TrackingService,
    private readonly artifacts: ArtifactStore,
    /** How artifact locations are handed out; a model's folder follows its experiment's scheme. */
    uris?: ArtifactUris,
  ) {
    this.uris = uris ?? new ArtifactUris(artifacts.uri, 'proxied');
  }

  async create(input: { experimentId: unknown; name?: unknown; modelType?: unknown; sourceRunId?: unknown; params?: KvInput; tags?: KvInput }): Promise<LoggedModel> {
    const exp = await this.tracking.getExperiment(input.experimentId);
    if (exp.lifecycleStage !== 'active') throw new FluxError('INVALID_STATE', `experiment ${exp.experimentId} is deleted; restore it before logging models to it`);
    const sourceRunId = optionalText(input.sourceRunId, 'source_run_id', 32);
    if (sourceRunId !== '') {
      const run = await this.tracking.getRun(sourceRunId);
      if (run.info.experimentId !== exp.experimentId) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `run ${sourceRunId} belongs to experiment ${run.info.experimentId}, not ${exp.experimentId}`, { field: 'source_run_id' });
      }
    }
    const modelId = `m-${randomUUID().replace(/-/g, '')}`;
    const name = optionalText(input.name, 'name', LIMITS.keyLength) || defaultName(modelId);
    await this.store.create({
      modelId,
      experimentId: exp.experimentId,
      name,
      artifactLocation: `${exp.artifactLocation.replace(/\/+$/, '')}/models/${modelId}/artifacts`,
      modelType: optionalText(input.modelType, 'model_type', LIMITS.keyLength),
      sourceRunId,
      params: unique(kvList(input.params, 'params', LIMITS.paramValueLength)),
      tags: unique(kvList(input.tags, 'tags', LIMITS.tagValueLength)),
    });
    return this.get(modelId);
  }

  /** A live logged model; a deleted or unknown id is RESOURCE_DOES_NOT_EXIST. */
  async get(modelId: unknown): Promise<LoggedModel> {
    const id = typeof modelId === 'string' ? modelId : '';
    const model = LOGGED_MODEL_ID.test(id) ? await this.store.get(id) : undefined;
    if (model === undefined || model.lifecycleStage !== 'active') {
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${String(modelId).slice(0, 80)}' not found`);
    }
    return model;
  }

  /** Marks the upload finished: READY, or FAILED when writing the model's files went wrong. */
  async finalize(modelId: unknown, status: unknown): Promise<LoggedModel> {
    const model = await this.get(modelId);
    if (typeof status !== 'string' || !(LOGGED_MODEL_STATUSES as readonly string[]).includes(status) || status === 'PENDING') {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'status must be READY or FAILED (LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED)', { field: 'status' });
    }
    await this.store.update(model.modelId, { status: status as LoggedModelStatus });
    return this.get(model.modelId);
  }

  /** Deletes the model's record (its files stay, as a run's do). */
  async delete(modelId: unknown): Promise<void> {
    const model = await this.get(modelId);
    await this.store.update(model.modelId, { lifecycleStage: 'deleted' });
  }

  async setTags(modelId: unknown, tags: KvInput): Promise<LoggedModel> {
    const model = await this.get(modelId);
    await this.store.setTags(model.modelId, unique(kvList(tags, 'tags', LIMITS.tagValueLength)));
    return this.get(model.modelId);
  }

  async deleteTag(modelId: unknown, key: unknown): Promise<void> {
    const model = await this.get(modelId);
    const k = textKey(key, 'tag_key');
    if (!(await this.store.deleteTag(model.modelId, k))) {
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `No tag with key '${k}' on logged model ${model.modelId}`);
    }
  }

  async logParams(modelId: unknown, params: KvInput): Promise<void> {
    const model = await this.get(modelId);
    await this.store.logParams(model.modelId, kvList(params, 'params', LIMITS.paramValueLength));
  }

  /**
   * Links metric points to a model. MLflow clients send them with `log-batch` (a metric carrying
   * `model_id`), so the run route calls this for those points.
   */
  async recordMetrics(modelId: unknown, metrics: Array<Partial<LoggedModelMetric> & { key: string; value: number }>): Promise<void> {
    const model = await this.get(modelId);
    const now = Date.now();
    await this.store.logMetrics(
      model.modelId,
      metrics.map((m) => ({
        key: textKey(m.key, 'metric key'),
        value: m.value,
        timestamp: m.timestamp ?? now,
        step: m.step ?? 0,
        runId: m.runId ?? '',
        datasetName: m.datasetName ?? '',
        datasetDigest: m.datasetDigest ?? '',
      })),
    );
  }

  async search(input: {
    experimentIds: unknown;
    filter?: string | undefined;
    datasets?: Array<{ name: unknown; digest?: unknown }> | undefined;
    orderBy?: Array<{ field: unknown; ascending?: unknown }> | undefined;
    maxResults?: unknown;
    pageToken?: string | undefined;
  }): Promise<Page<LoggedModel>> {
    if (!Array.isArray(input.experimentIds) || input.experimentIds.length === 0) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'experiment_ids must list at least one experiment id', { field: 'experiment_ids' });
    }
    const experimentIds = input.experimentIds.map((e, i) => {
      if (typeof e !== 'string' || !/^\d{1,15}$/.test(e)) throw new FluxError('INVALID_PARAMETER_VALUE', `experiment_ids[${i}] must be a numeric string`, { field: 'experiment_ids' });
      return e;
    });
    const orderBy: SearchOrder[] = (input.orderBy ?? []).flatMap((o, i) => {
      if (typeof o.field !== 'string' || o.field === '') throw new FluxError('INVALID_PARAMETER_VALUE', `order_by[${i}].field_name must be a non-empty string`, { field: 'order_by' });
      const [parsed] = parseSearchOrderBy(o.field, LOGGED_MODEL_SEARCH);
      return parsed === undefined ? [] : [{ ...parsed, ascending: o.ascending !== false }];
    });
    const datasets = (input.datasets ?? []).map((d, i) => ({
      name: textKey(d.name, `datasets[${i}].dataset_name`),
      digest: d.digest === undefined || d.digest === null || d.digest === '' ? undefined : textKey(d.digest, `datasets[${i}].dataset_digest`),
    }));
    const max = input.maxResults ?? 50;
    const maxResults = typeof max === 'string' && /^\d+$/.test(max) ? Number(max) : max;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'max_results must be an integer from 1 to 1000', { field: 'max_results' });
    }
    const offset = decodePageToken(input.pageToken);
    if (offset < 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'page_token is not a token this server issued', { field: 'page_token' });
    return this.store.search({ experimentIds, filter: parseSearchFilter(input.filter, LOGGED_MODEL_SEARCH), datasets, orderBy, maxResults, offset });
  }

  // ---- run outputs ----
  /**
   * Records that a run output logged models at a step (MLflow 3's `runs/outputs`, which `log_model`
   * calls); the client's `register_model` with a `runs:/` URI reads them back from the run.
   */
  async logOutputs(runId: unknown, outputs: Array<{ modelId: unknown; step?: unknown }>): Promise<void> {
    const run = await this.tracking.getRun(runId);
    if (!Array.isArray(outputs)) throw new FluxError('INVALID_PARAMETER_VALUE', 'models must be a list of {model_id, step}', { field: 'models' });
    const checked: Array<{ modelId: string; step: number }> = [];
    for (const [i, o] of outputs.entries()) {
      const model = await this.get(o.modelId);
      const step = o.step === undefined || o.step === null ? 0 : typeof o.step === 'string' && /^\d{1,15}$/.test(o.step) ? Number(o.step) : o.step;
      if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `models[${i}].step must be a non-negative integer`, { field: 'models' });
      }
      checked.push({ modelId: model.modelId, step });
    }
    await this.store.logOutputs(run.info.runId, checked);
  }

  /** The live logged models a run output, with their steps. */
  async runOutputs(runId: unknown): Promise<Array<{ modelId: string; step: number }>> {
    const run = await this.tracking.getRun(runId);
    return this.store.outputsOf(run.info.runId);
  }

  // ---- artifacts ----
  /** Store-relative folder of the model's files; refused when they live outside FluxOps. */
  artifactRoot(model: LoggedModel): string {
    const root = this.uris.pathOf(model.artifactLocation);
    if (root === undefined) throw new FluxError('INVALID_STATE', `logged model ${model.modelId} keeps its files outside FluxOps (${model.artifactLocation})`);
    return root;
  }

  /** Direct children of a folder of the model's files, with paths relative to the model's root. */
  async listArtifacts(modelId: unknown, relDir = ''): Promise<ArtifactEntry[]> {
    const model = await this.get(modelId);
    const root = this.artifactRoot(model);
    const entries = await this.artifacts.list([root, ...safeRelativePath(relDir)].join('/'));
    return entries.map((e) => ({ ...e, path: e.path.slice(root.length + 1) }));
  }

  async openArtifact(modelId: unknown, relPath: string): Promise<Readable> {
    const model = await this.get(modelId);
    const segments = safeRelativePath(relPath);
    if (segments.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'artifact path must name a file', { field: 'path' });
    return this.artifacts.get([this.artifactRoot(model), ...segments].join('/'));
  }

  /** Writes one file into the model's folder (what the MLflow client does through the artifact proxy). */
  async logArtifact(modelId: unknown, relPath: string, data: Buffer | string | Readable): Promise<{ path: string; size: number }> {
    const model = await this.get(modelId);
    const segments = safeRelativePath(relPath);
    if (segments.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'artifact path must name a file', { field: 'path' });
    const { size } = await this.artifacts.put([this.artifactRoot(model), ...segments].join('/'), data);
    return { path: segments.join('/'), size };
  }

  /** What the registry needs to register versions from logged models. */
  lookup(): LoggedModelLookup {
    const ref = (m: LoggedModel) => ({ modelId: m.modelId, experimentId: m.experimentId, name: m.name, artifactLocation: m.artifactLocation, sourceRunId: m.sourceRunId });
    return {
      get: async (id) => {
        const m = await this.store.get(id);
        return m === undefined || m.lifecycleStage !== 'active' ? undefined : ref(m);
      },
      findForRun: async (runId, name) => {
        const m = await this.store.findForRun(runId, name);
        return m === undefined ? undefined : ref(m);
      },
    };
  }
}

function defaultName(modelId: string): string {
  const n = parseInt(modelId.slice(2, 10), 16);
  return `${ADJECTIVES[n % ADJECTIVES.length]}-${NOUNS[(n >>> 4) % NOUNS.length]}-${n % 1000}`;
}

function optionalText(v: unknown, field: string, max: number): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a string`, { field });
  if (v.length > max) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} is longer than ${max} characters`, { field });
  return v;
}

function textKey(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '' || v.length > LIMITS.keyLength) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a string of 1–${LIMITS.keyLength} characters`, { field });
  }
  return v;
}

function kvList(list: KvInput, field: string, maxValue: number): Array<{ key: string; value: string }> {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a list of {key, value}`, { field });
  return list.map((kv, i) => {
    if (typeof kv !== 'object' || kv === null) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}[${i}] must be an object with key and value`, { field });
    const value = kv.value ?? '';
    if (typeof value !== 'string' || value.length > maxValue) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `${field}[${i}].value must be a string of at most ${maxValue} characters`, { field });
    }
    return { key: textKey(kv.key, `${field}[${i}].key`), value };
  });
}

/** The last value of each key wins, as a map would keep it. */
function unique(list: Array<{ key: string; value: string }>): Array<{ key: string; value: string }> {
  return [...new Map(list.map((kv) => [kv.key, kv.value]))].map(([key, value]) => ({ key, value }));
}
