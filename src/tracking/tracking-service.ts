import type { Readable } from 'node:stream';
import { FluxError, decodePageToken, newRunId } from '../core/index.js';
import { actorOf, type WriteContext } from '../events/index.js';
import type { ArtifactEntry, ArtifactStore } from '../storage/artifacts/index.js';
import { ArtifactUris, safeRelativePath } from '../storage/artifacts/index.js';
import { parseExperimentFilter, parseExperimentOrderBy, parseFilter, parseOrderBy } from '../search/index.js';
import type { KeyValue, TrackingStore } from './tracking-store.js';
import {
  DATASET_CONTEXT_TAG,
  RUN_STATUSES,
  type CreateRunInput,
  type DatasetInput,
  type DatasetSummary,
  type InputTag,
  type Experiment,
  type LogBatchInput,
  type LogDatasetInput,
  type Metric,
  type Page,
  type Run,
  type RunInfo,
  type RunStatus,
  type UpdateRunInput,
  type ViewType,
} from './types.js';
import {
  LIMITS,
  validateExperimentId,
  validateInteger,
  validateKey,
  validateMetricValue,
  validateRunId,
  validateValue,
} from './validation.js';

export interface SearchRunsInput {
  experimentIds: string[];
  filter?: string | undefined;
  orderBy?: string[] | undefined;
  viewType?: ViewType | undefined;
  maxResults?: number | undefined;
  pageToken?: string | undefined;
}

/**
 * Tracking: experiments, runs, params, metrics, tags, inputs and run artifacts. Every transport
 * (native REST, MLflow adapter, CLI, SDK) goes through this service, so the rules live here once.
 */
export class TrackingService {
  private readonly uris: ArtifactUris;

  constructor(
    private readonly store: TrackingStore,
    private readonly artifacts: ArtifactStore,
    /** How artifact locations are handed out (proxied `mlflow-artifacts:/` unless told). */
    uris?: ArtifactUris,
  ) {
    this.uris = uris ?? new ArtifactUris(artifacts.uri, 'proxied');
  }

  // ---- experiments ----
  async createExperiment(input: { name: unknown; artifactLocation?: string | undefined; tags?: KeyValue[] | undefined }, ctx?: WriteContext): Promise<string> {
    const name = this.experimentName(input.name);
    const tags = (input.tags ?? []).map((t, i) => this.tag(t, `tags[${i}]`));
    return this.store.createExperiment({ name, artifactLocation: input.artifactLocation, tags }, actorOf(ctx));
  }

  async getExperiment(experimentId: unknown): Promise<Experiment> {
    const id = validateExperimentId(experimentId);
    const exp = await this.store.getExperiment(id);
    if (!exp) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);
    return this.presented(exp);
  }

  async getExperimentByName(name: unknown): Promise<Experiment> {
    const n = this.experimentName(name, 'experiment_name');
    const exp = await this.store.getExperimentByName(n);
    if (!exp) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${n}'`);
    return this.presented(exp);
  }

  /** Returns the id of the named experiment, creating it when absent. */
  async ensureExperiment(name: string, ctx?: WriteContext): Promise<string> {
    const exp = await this.store.getExperimentByName(name);
    if (exp) return exp.experimentId;
    try {
      return await this.createExperiment({ name }, ctx);
    } catch (e) {
      if (e instanceof FluxError && e.code === 'RESOURCE_ALREADY_EXISTS') return (await this.getExperimentByName(name)).experimentId;
      throw e;
    }
  }

  /**
   * Experiments by view type, optionally filtered (`nameLike`, or MLflow's experiment filter
   * grammar: `name`, `creation_time`, `last_update_time`, `tags.<key>`) and ordered (`name`,
   * `experiment_id`, `creation_time`, `last_update_time`; experiment id ascending by default and as
   * the tiebreak).
   */
  async searchExperiments(
    input: {
      viewType?: ViewType | undefined;
      maxResults?: number | undefined;
      pageToken?: string | undefined;
      nameLike?: string | undefined;
      filter?: string | undefined;
      orderBy?: string[] | string | undefined;
    } = {},
  ): Promise<Page<Experiment>> {
    const maxResults = validateInteger(input.maxResults ?? 1000, 'max_results', 1, 50_000);
    const viewType = input.viewType ?? 'ACTIVE_ONLY';
    if (!['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'].includes(viewType)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'view_type must be ACTIVE_ONLY, DELETED_ONLY or ALL', { field: 'view_type' });
    }
    const page = await this.store.searchExperiments({
      viewType,
      maxResults,
      offset: this.offset(input.pageToken),
      nameLike: input.nameLike,
      filter: parseExperimentFilter(input.filter),
      orderBy: parseExperimentOrderBy(input.orderBy),
    });
    return { ...page, items: page.items.map((e) => this.presented(e)) };
  }

  async renameExperiment(experimentId: unknown, newName: unknown): Promise<void> {
    const exp = await this.getExperiment(experimentId);
    await this.store.updateExperiment(exp.experimentId, { name: this.experimentName(newName, 'new_name') });
  }

  async deleteExperiment(experimentId: unknown): Promise<void> {
    const exp = await this.getExperiment(experimentId);
    if (exp.experimentId === '0') throw new FluxError('INVALID_PARAMETER_VALUE', 'the Default experiment (id 0) cannot be deleted');
    await this.store.updateExperiment(exp.experimentId, { lifecycleStage: 'deleted' });
  }

  async restoreExperiment(experimentId: unknown): Promise<void> {
    const exp = await this.getExperiment(experimentId);
    await this.store.updateExperiment(exp.experimentId, { lifecycleStage: 'active' });
  }

  async setExperimentTag(experimentId: unknown, key: unknown, value: unknown): Promise<void> {
    const exp = await this.getExperiment(experimentId);
    await this.store.setExperimentTag(exp.experimentId, this.tag({ key, value }, 'tag'));
  }

  // ---- runs ----
  async createRun(input: CreateRunInput, ctx?: WriteContext): Promise<Run> {
    const exp = await this.getExperiment(input.experimentId);
    if (exp.lifecycleStage !== 'active') throw new FluxError('INVALID_STATE', `experiment ${exp.experimentId} is deleted; restore it before creating runs`);
    const tags = Object.entries(input.tags ?? {}).map(([key, value]) => this.tag({ key, value }, `tags.${key}`));
    const runId = newRunId();
    const tagName = tags.find((t) => t.key === 'mlflow.runName')?.value;
    const runName = validateValue(input.runName ?? tagName ?? defaultRunName(runId), 'run_name', LIMITS.keyLength);
    if (tagName === undefined) tags.push({ key: 'mlflow.runName', value: runName });
    const userId = input.userId ?? tags.find((t) => t.key === 'mlflow.user')?.value ?? '';
    await this.store.createRun({
      runId,
      experimentId: exp.experimentId,
      runName,
      userId,
      startTime: input.startTime ?? Date.now(),
      sourceType: input.sourceType ?? tags.find((t) => t.key === 'mlflow.source.type')?.value ?? 'LOCAL',
      sourceName: input.sourceName ?? tags.find((t) => t.key === 'mlflow.source.name')?.value ?? '',
      sourceVersion: input.sourceVersion ?? tags.find((t) => t.key === 'mlflow.source.git.commit')?.value ?? '',
      artifactUri: `${exp.artifactLocation.replace(/\/+$/, '')}/${runId}/artifacts`,
      tags,
    }, actorOf(ctx));
    return this.getRun(runId);
  }

  async getRun(runId: unknown): Promise<Run> {
    const id = validateRunId(runId);
    const run = await this.store.getRun(id);
    if (!run) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Run '${id}' not found`);
    return run;
  }

  async updateRun(runId: unknown, patch: { status?: unknown; endTime?: unknown; runName?: unknown }, ctx?: WriteContext): Promise<Run> {
    const run = await this.activeRun(runId);
    const update: UpdateRunInput = {};
    if (patch.status !== undefined) {
      if (typeof patch.status !== 'string' || !(RUN_STATUSES as readonly string[]).includes(patch.status)) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `status must be one of ${RUN_STATUSES.join(', ')}`, { field: 'status' });
      }
      update.status = patch.status as RunStatus;
    }
    if (patch.endTime !== undefined && patch.endTime !== null) update.endTime = validateInteger(patch.endTime, 'end_time', 0);
    if (patch.runName !== undefined && patch.runName !== null) update.runName = validateValue(patch.runName, 'run_name', LIMITS.keyLength);
    await this.store.updateRun(run.info.runId, update, actorOf(ctx));
    return this.getRun(run.info.runId);
  }

  /** Marks a run finished (or failed/killed) with an end time. */
  async endRun(runId: unknown, status: RunStatus = 'FINISHED', ctx?: WriteContext): Promise<Run> {
    return this.updateRun(runId, { status, endTime: Date.now() }, ctx);
  }

  async deleteRun(runId: unknown, ctx?: WriteContext): Promise<void> {
    const run = await this.getRun(runId);
    await this.store.updateRun(run.info.runId, { lifecycleStage: 'deleted', deletedTime: Date.now() }, actorOf(ctx));
  }

  async restoreRun(runId: unknown, ctx?: WriteContext): Promise<void> {
    const run = await this.getRun(runId);
    await this.store.updateRun(run.info.runId, { lifecycleStage: 'active', deletedTime: null }, actorOf(ctx));
  }

  async logMetric(runId: unknown, m: { key: unknown; value: unknown; timestamp?: unknown; step?: unknown }): Promise<void> {
    await this.logBatch(runId, { metrics: [m] });
  }

  async logParam(runId: unknown, key: unknown, value: unknown): Promise<void> {
    await this.logBatch(runId, { params: [{ key: key as string, value: value as string }] });
  }

  async setTag(runId: unknown, key: unknown, value: unknown): Promise<void> {
    await this.logBatch(runId, { tags: [{ key: key as string, value: value as string }] });
  }

  async deleteTag(runId: unknown, key: unknown): Promise<void> {
    const run = await this.activeRun(runId);
    const k = validateKey(key, 'key');
    if (!(await this.store.deleteTag(run.info.runId, k))) {
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `No tag with name: ${k} in run with id ${run.info.runId}`);
    }
  }

  /**
   * Writes many metrics, params and tags in one transaction. Params are immutable: re-logging
   * the same value is accepted, a different one refuses the whole batch.
   */
  async logBatch(runId: unknown, batch: LogBatchInput): Promise<void> {
    const metricsIn = batch.metrics ?? [];
    const paramsIn = toKv(batch.params);
    const tagsIn = toKv(batch.tags);
    if (!Array.isArray(metricsIn)) throw new FluxError('INVALID_PARAMETER_VALUE', 'metrics must be a list', { field: 'metrics' });
    // MLflow's limits, each kind on its own and then all together, with MLflow's wording.
    checkBatchLimit('metrics', LIMITS.batchMetrics, metricsIn.length);
    checkBatchLimit('params', LIMITS.batchParams, paramsIn.length);
    checkBatchLimit('tags', LIMITS.batchTags, tagsIn.length);
    checkBatchLimit('metrics, params, and tags', LIMITS.batchTotal, metricsIn.length + paramsIn.length + tagsIn.length);
    const now = Date.now();
    const metrics: Metric[] = metricsIn.map((m, i) => {
      if (typeof m !== 'object' || m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `metrics[${i}] must be an object`, { field: `metrics[${i}]` });
      return {
        key: validateKey(m.key, `metrics[${i}].key`),
        value: validateMetricValue(m.value, `metrics[${i}].value`),
        timestamp: m.timestamp === undefined || m.timestamp === null ? now : validateInteger(m.timestamp, `metrics[${i}].timestamp`, 0),
        step: m.step === undefined || m.step === null ? 0 : validateInteger(m.step, `metrics[${i}].step`),
      };
    });
    const params = paramsIn.map((p, i) => ({
      key: validateKey(p.key, `params[${i}].key`),
      value: validateValue(typeof p.value === 'number' ? String(p.value) : p.value, `params[${i}].value`, LIMITS.paramValueLength),
    }));
    const tags = tagsIn.map((t, i) => this.tag(t, `tags[${i}]`));
    const run = await this.activeRun(runId);
    await this.store.logBatch(run.info.runId, { metrics, params, tags });
  }

  /**
   * Records datasets a run used. Each keeps its tags in the order given; its context is the
   * `mlflow.data.context` tag, added to the tags when only `context` names it. Logging a dataset
   * (same name and digest) again replaces its context and tags.
   */
  async logInputs(runId: unknown, datasets: LogDatasetInput[]): Promise<void> {
    if (!Array.isArray(datasets)) throw new FluxError('INVALID_PARAMETER_VALUE', 'datasets must be a list', { field: 'datasets' });
    const inputs = datasets.map((d, i): DatasetInput => {
      const at = `datasets[${i}]`;
      if (d.tags !== undefined && d.tags !== null && !Array.isArray(d.tags)) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `${at}.tags must be a list of {key, value}`, { field: `${at}.tags` });
      }
      const tags = (d.tags ?? []).map((t, j) => inputTag(t, `${at}.tags[${j}]`));
      const given = validateValue(d.context ?? '', `${at}.context`, INPUT_TAG_VALUE_MAX);
      const tagged = tags.findLast((t) => t.key === DATASET_CONTEXT_TAG)?.value;
      if (given !== '' && tagged !== undefined && tagged !== given) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `${at}.context '${given}' contradicts its ${DATASET_CONTEXT_TAG} tag '${tagged}'`, { field: `${at}.context` });
      }
      if (given !== '' && tagged === undefined) tags.push({ key: DATASET_CONTEXT_TAG, value: given });
      return {
        name: validateValue(d.name, `${at}.name`, 500),
        digest: validateValue(d.digest, `${at}.digest`, 64),
        sourceType: validateValue(d.sourceType, `${at}.source_type`, 36),
        source: validateValue(d.source, `${at}.source`, 65535),
        schema: validateValue(d.schema ?? '', `${at}.schema`, 1_048_576),
        profile: validateValue(d.profile ?? '', `${at}.profile`, 16_384),
        context: tagged ?? given,
        tags,
      };
    });
    const run = await this.activeRun(runId);
    await this.store.logInputs(run.info.runId, inputs);
  }

  async getMetricHistory(runId: unknown, key: unknown, opts: { maxResults?: unknown; pageToken?: string | undefined } = {}): Promise<Page<Metric>> {
    const run = await this.getRun(runId);
    const k = validateKey(key, 'metric_key');
    const maxResults = validateInteger(opts.maxResults ?? 25_000, 'max_results', 1, 25_000);
    return this.store.getMetricHistory(run.info.runId, k, this.offset(opts.pageToken), maxResults);
  }

  /**
   * The datasets the runs of some experiments used (distinct name, digest and context), for the
   * UI's dataset filter; at most `limit` (1000, MLflow's bound).
   */
  async searchDatasets(experimentIds: string[], limit = 1000): Promise<DatasetSummary[]> {
    return this.store.searchDatasets(experimentIds, validateInteger(limit, 'max_results', 1, 1000));
  }

  /**
   * Appends a logged model's description (MLflow's `MLmodel` as JSON) to the run's
   * `mlflow.log-model.history` tag, a JSON list, as MLflow's `log_model` records it. The append is
   * one atomic read-modify-write in the store, so concurrent calls, on any number of servers, keep
   * every entry.
   */
  async recordLoggedModel(runId: unknown, model: unknown): Promise<void> {
    if (typeof model !== 'object' || model === null || Array.isArray(model)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'model_json must be a JSON object describing the model', { field: 'model_json' });
    }
    const run = await this.activeRun(runId);
    await this.store.updateTag(run.info.runId, LOGGED_MODELS_TAG, (current) => {
      let history: unknown[] = [];
      if (current !== undefined) {
        try {
          const parsed: unknown = JSON.parse(current);
          if (Array.isArray(parsed)) history = parsed;
        } catch {
          // a hand-edited tag that is not a JSON list is replaced rather than failing every log_model
        }
      }
      return validateValue(JSON.stringify([...history, model]), 'tags[0].value', LIMITS.tagValueLength);
    });
  }

  async searchRuns(input: SearchRunsInput): Promise<Page<Run>> {
    if (!Array.isArray(input.experimentIds) || input.experimentIds.length === 0) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'experiment_ids must list at least one experiment id', { field: 'experiment_ids' });
    }
    const experimentIds = input.experimentIds.map((e, i) => validateExperimentId(e, `experiment_ids[${i}]`));
    const maxResults = validateInteger(input.maxResults ?? 1000, 'max_results', 1, LIMITS.maxSearchResults);
    const viewType = input.viewType ?? 'ACTIVE_ONLY';
    if (!['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'].includes(viewType)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'run_view_type must be ACTIVE_ONLY, DELETED_ONLY or ALL', { field: 'run_view_type' });
    }
    return this.store.searchRuns({
      experimentIds,
      filter: parseFilter(input.filter),
      orderBy: parseOrderBy(input.orderBy),
      viewType,
      maxResults,
      offset: this.offset(input.pageToken),
    });
  }

  // ---- run artifacts ----
  /**
   * Store-relative folder of a run's artifacts, from its artifact URI: `mlflow-artifacts:/…`
   * (proxied) or the store's own URI (direct mode), so runs of either mode stay readable.
   */
  runArtifactRoot(run: { info: RunInfo }): string {
    const uri = run.info.artifactUri;
    const root = this.uris.pathOf(uri);
    if (root === undefined) throw new FluxError('INVALID_STATE', `run ${run.info.runId} stores artifacts outside FluxOps (${uri})`);
    return root;
  }

  async logArtifact(runId: unknown, relPath: string, data: Buffer | string | Readable | AsyncIterable<Uint8Array>): Promise<{ path: string; size: number }> {
    const run = await this.activeRun(runId);
    const segments = safeRelativePath(relPath);
    if (segments.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'artifact path must name a file', { field: 'path' });
    const { size } = await this.artifacts.put(`${this.runArtifactRoot(run)}/${segments.join('/')}`, data);
    return { path: segments.join('/'), size };
  }

  async listArtifacts(runId: unknown, relDir = ''): Promise<ArtifactEntry[]> {
    const run = await this.getRun(runId);
    const root = this.runArtifactRoot(run);
    const segments = safeRelativePath(relDir);
    const entries = await this.artifacts.list([root, ...segments].join('/'));
    return entries.map((e) => ({ ...e, path: e.path.slice(root.length + 1) }));
  }

  async openArtifact(runId: unknown, relPath: string): Promise<Readable> {
    const run = await this.getRun(runId);
    const segments = safeRelativePath(relPath);
    return this.artifacts.get([this.runArtifactRoot(run), ...segments].join('/'));
  }

  async readArtifact(runId: unknown, relPath: string): Promise<Buffer> {
    const run = await this.getRun(runId);
    const segments = safeRelativePath(relPath);
    return this.artifacts.read([this.runArtifactRoot(run), ...segments].join('/'));
  }

  /** Removes a file or folder of an active run's artifacts; absent paths are not an error. */
  async deleteArtifact(runId: unknown, relPath: string): Promise<void> {
    const run = await this.activeRun(runId);
    const segments = safeRelativePath(relPath);
    if (segments.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'artifact path must name a file or folder inside the run', { field: 'path' });
    await this.artifacts.delete([this.runArtifactRoot(run), ...segments].join('/'));
  }

  // ---- helpers ----
  /**
   * An experiment as clients see it: a location inside the artifact store is written in the
   * artifacts mode's scheme (a new experiment is stored as `mlflow-artifacts:/<id>`, so a
   * direct-mode server hands out `file:///root/<id>`), and runs and logged models created in it
   * inherit that scheme.
   */
  private presented(exp: Experiment): Experiment {
    const artifactLocation = this.uris.present(exp.artifactLocation);
    return artifactLocation === exp.artifactLocation ? exp : { ...exp, artifactLocation };
  }

  /** Checks that a run exists and is active, reading only its row (this is on the ingest path). */
  private async activeRun(runId: unknown): Promise<{ info: RunInfo }> {
    const id = validateRunId(runId);
    const info = await this.store.getRunInfo(id);
    if (!info) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Run '${id}' not found`);
    if (info.lifecycleStage !== 'active') {
      throw new FluxError('INVALID_STATE', `The run ${id} must be in the 'active' state. Current state is ${info.lifecycleStage}.`);
    }
    return { info };
  }

  private experimentName(name: unknown, field = 'name'): string {
    if (typeof name !== 'string' || name.trim() === '') throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a non-empty string`, { field });
    return validateValue(name, field, LIMITS.experimentNameLength);
  }

  private tag(t: { key: unknown; value: unknown }, field: string): KeyValue {
    return { key: validateKey(t.key, `${field}.key`), value: validateValue(t.value, `${field}.value`, LIMITS.tagValueLength) };
  }

  private offset(pageToken: string | undefined): number {
    const offset = decodePageToken(pageToken);
    if (offset < 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'page_token is not a token this server issued', { field: 'page_token' });
    return offset;
  }
}

/** MLflow's limits on an input tag (its key, its value). */
const INPUT_TAG_KEY_MAX = 255;
const INPUT_TAG_VALUE_MAX = 500;

function inputTag(t: unknown, field: string): InputTag {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a {key, value} object`, { field });
  const { key, value } = t as { key?: unknown; value?: unknown };
  if (typeof key !== 'string' || key === '') throw new FluxError('INVALID_PARAMETER_VALUE', `${field}.key must be a non-empty string`, { field: `${field}.key` });
  return { key: validateValue(key, `${field}.key`, INPUT_TAG_KEY_MAX), value: validateValue(value, `${field}.value`, INPUT_TAG_VALUE_MAX) };
}

function checkBatchLimit(what: string, limit: number, got: number): void {
  if (got > limit) {
    throw new FluxError(
      'INVALID_PARAMETER_VALUE',
      `A batch logging request can contain at most ${limit} ${what}. Got ${got} ${what}. Please split up ${what} across multiple requests and try again.`,
      { field: what.split(',')[0] },
    );
  }
}

function toKv(v: LogBatchInput['params']): Array<{ key: string; value: string }> {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  if (typeof v !== 'object') throw new FluxError('INVALID_PARAMETER_VALUE', 'params and tags must be lists of {key, value} or objects');
  return Object.entries(v).map(([key, value]) => ({ key, value }));
}

/** The run tag in which MLflow keeps the list of models logged to a run. */
export const LOGGED_MODELS_TAG = 'mlflow.log-model.history';

const ADJECTIVES = ['bold', 'calm', 'eager', 'brisk', 'keen', 'quiet', 'sunny', 'swift', 'wise', 'merry'];
const NOUNS = ['otter', 'falcon', 'maple', 'comet', 'river', 'badger', 'cedar', 'lynx', 'heron', 'quartz'];

/** A memorable default run name derived from the id, as MLflow's `adjective-noun-123`. */
function defaultRunName(runId: string): string {
  const n = parseInt(runId.slice(0, 8), 16);
  return `${ADJECTIVES[n % ADJECTIVES.length]}-${NOUNS[(n >>> 4) % NOUNS.length]}-${n % 1000}`;
}
