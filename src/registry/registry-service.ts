import { FluxError, decodePageToken } from '../core/index.js';
import type { ArtifactStore } from '../storage/artifacts/index.js';
import { safeRelativePath } from '../storage/artifacts/index.js';
import type { DatasetInput, Page, Run, TrackingService } from '../tracking/index.js';
import type { RegistryStore } from './registry-store.js';
import { STAGES, type ModelSignature, type ModelVersion, type RegisteredModel } from './types.js';

/** What a model folder turned out to hold, as told by the models context. */
export interface ModelInspection {
  flavor: string;
  servable: boolean;
  signature: ModelSignature | null;
  message: string;
}
/** Looks at a model folder in the artifact store; undefined when nothing is there. */
export type ModelInspector = (storageLocation: string) => Promise<ModelInspection | undefined>;

export interface Lineage {
  model: ModelVersion;
  run: {
    runId: string;
    experimentId: string;
    runName: string;
    status: string;
    startTime: number;
    endTime: number | null;
    sourceVersion: string;
    params: Record<string, string>;
    metrics: Record<string, number>;
    tags: Record<string, string>;
  } | null;
  datasets: DatasetInput[];
}

const NAME_MAX = 256;
const RESERVED_ALIAS = /^(latest|v\d+)$/i;

/** The model registry: models, immutable versions with signature and lineage, movable aliases. */
export class RegistryService {
  constructor(
    private readonly store: RegistryStore,
    private readonly tracking: TrackingService,
    private readonly artifacts: ArtifactStore,
    private readonly inspect: ModelInspector,
  ) {}

  async createRegisteredModel(input: { name: unknown; description?: unknown; tags?: Array<{ key: unknown; value: unknown }> | undefined }): Promise<RegisteredModel> {
    const name = modelName(input.name);
    const description = optionalText(input.description, 'description');
    const tags = (input.tags ?? []).map((t, i) => kv(t, `tags[${i}]`));
    await this.store.createRegisteredModel({ name, description, tags });
    return this.getRegisteredModel(name);
  }

  async getRegisteredModel(name: unknown): Promise<RegisteredModel> {
    const n = modelName(name);
    const model = await this.store.getRegisteredModel(n);
    if (!model) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${n} not found`);
    return model;
  }

  async searchRegisteredModels(input: { nameLike?: string | undefined; maxResults?: unknown; pageToken?: string | undefined } = {}): Promise<Page<RegisteredModel>> {
    return this.store.searchRegisteredModels({ nameLike: input.nameLike, maxResults: maxResults(input.maxResults, 100), offset: offset(input.pageToken) });
  }

  async renameRegisteredModel(name: unknown, newName: unknown): Promise<RegisteredModel> {
    const model = await this.getRegisteredModel(name);
    const target = modelName(newName, 'new_name');
    await this.store.updateRegisteredModel(model.name, { newName: target });
    return this.getRegisteredModel(target);
  }

  async updateRegisteredModel(name: unknown, description: unknown): Promise<RegisteredModel> {
    const model = await this.getRegisteredModel(name);
    await this.store.updateRegisteredModel(model.name, { description: optionalText(description, 'description') });
    return this.getRegisteredModel(model.name);
  }

  async deleteRegisteredModel(name: unknown): Promise<void> {
    const model = await this.getRegisteredModel(name);
    await this.store.deleteRegisteredModel(model.name);
  }

  async setRegisteredModelTag(name: unknown, key: unknown, value: unknown): Promise<void> {
    const model = await this.getRegisteredModel(name);
    const t = kv({ key, value }, 'tag');
    await this.store.setRegisteredModelTag(model.name, t.key, t.value);
  }

  async deleteRegisteredModelTag(name: unknown, key: unknown): Promise<void> {
    const model = await this.getRegisteredModel(name);
    if (!(await this.store.deleteRegisteredModelTag(model.name, textKey(key, 'key')))) {
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `No tag with key '${String(key)}' on registered model ${model.name}`);
    }
  }

  /**
   * Registers a new version. `source` is `runs:/<run>/<path>`, `mlflow-artifacts:/<path>`, or any
   * URI outside FluxOps (then recorded but not verified). The model folder, when FluxOps holds
   * it, is inspected for its signature and whether FluxOps can serve it.
   */
  async createModelVersion(input: {
    name: unknown;
    source: unknown;
    runId?: unknown;
    description?: unknown;
    tags?: Array<{ key: unknown; value: unknown }> | undefined;
    userId?: string | undefined;
  }): Promise<ModelVersion> {
    const model = await this.getRegisteredModel(input.name);
    if (typeof input.source !== 'string' || input.source === '') throw new FluxError('INVALID_PARAMETER_VALUE', 'source must be a non-empty string', { field: 'source' });
    const source = input.source;
    let run: Run | undefined;
    let storageLocation = '';
    const runsUri = /^runs:\/([0-9a-f]{32})(?:\/(.*))?$/.exec(source);
    if (runsUri !== null) {
      run = await this.tracking.getRun(runsUri[1]);
      storageLocation = [this.tracking.runArtifactRoot(run), ...safeRelativePath(runsUri[2] ?? '', 'source')].join('/');
    } else if (source.startsWith('mlflow-artifacts:')) {
      storageLocation = safeRelativePath(source.replace(/^mlflow-artifacts:\/*/, ''), 'source').join('/');
    } else if (source.startsWith('runs:')) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `source '${source}' is not a valid runs:/<run_id>/<path> URI`, { field: 'source' });
    }
    if (run === undefined && typeof input.runId === 'string' && input.runId !== '') run = await this.tracking.getRun(input.runId);
    const status: ModelVersion['status'] = 'READY';
    let statusMessage = storageLocation === '' ? 'source is outside FluxOps and was not verified' : '';
    let signature: ModelSignature | null = null;
    if (storageLocation !== '') {
      const found = await this.inspect(storageLocation);
      if (found === undefined) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `no model files found at source '${source}'`, { field: 'source' });
      }
      signature = found.signature;
      statusMessage = found.servable ? `servable (${found.flavor})` : `not servable here: ${found.message}`;
    }
    const metrics = run ? Object.fromEntries(run.data.metrics.filter((m) => Number.isFinite(m.value)).map((m) => [m.key, m.value])) : {};
    return this.store.createModelVersion({
      name: model.name,
      source,
      runId: run?.info.runId ?? '',
      storageLocation,
      status,
      statusMessage,
      description: optionalText(input.description, 'description'),
      userId: input.userId ?? '',
      signature,
      metrics,
      tags: (input.tags ?? []).map((t, i) => kv(t, `tags[${i}]`)),
    });
  }

  /** Creates the model when it does not exist yet, then a new version of it. */
  async registerModel(input: Parameters<RegistryService['createModelVersion']>[0]): Promise<ModelVersion> {
    const name = modelName(input.name);
    if (!(await this.store.getRegisteredModel(name))) {
      try {
        await this.createRegisteredModel({ name });
      } catch (e) {
        if (!(e instanceof FluxError && e.code === 'RESOURCE_ALREADY_EXISTS')) throw e;
      }
    }
    return this.createModelVersion({ ...input, name });
  }

  async getModelVersion(name: unknown, version: unknown): Promise<ModelVersion> {
    const n = modelName(name);
    const v = versionNumber(version);
    const mv = await this.store.getModelVersion(n, v);
    if (!mv) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Model Version (name=${n}, version=${v}) not found`);
    return mv;
  }

  async searchModelVersions(input: { name?: string | undefined; runId?: string | undefined; maxResults?: unknown; pageToken?: string | undefined } = {}): Promise<Page<ModelVersion>> {
    return this.store.searchModelVersions({ name: input.name, runId: input.runId, maxResults: maxResults(input.maxResults, 10_000), offset: offset(input.pageToken) });
  }

  async updateModelVersion(name: unknown, version: unknown, description: unknown): Promise<ModelVersion> {
    const mv = await this.getModelVersion(name, version);
    await this.store.updateModelVersion(mv.name, Number(mv.version), { description: optionalText(description, 'description') });
    return this.getModelVersion(mv.name, mv.version);
  }

  async transitionStage(name: unknown, version: unknown, stage: unknown, archiveExisting = false): Promise<ModelVersion> {
    const mv = await this.getModelVersion(name, version);
    const s = STAGES.find((x) => typeof stage === 'string' && x.toLowerCase() === stage.toLowerCase());
    if (s === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `stage must be one of ${STAGES.join(', ')}`, { field: 'stage' });
    const archive = archiveExisting && (s === 'Staging' || s === 'Production') ? { archiveOthersIn: s } : {};
    await this.store.updateModelVersion(mv.name, Number(mv.version), { stage: s, ...archive });
    return this.getModelVersion(mv.name, mv.version);
  }

  async deleteModelVersion(name: unknown, version: unknown): Promise<void> {
    const mv = await this.getModelVersion(name, version);
    await this.store.deleteModelVersion(mv.name, Number(mv.version));
  }

  async setModelVersionTag(name: unknown, version: unknown, key: unknown, value: unknown): Promise<void> {
    const mv = await this.getModelVersion(name, version);
    const t = kv({ key, value }, 'tag');
    await this.store.setModelVersionTag(mv.name, Number(mv.version), t.key, t.value);
  }

  async deleteModelVersionTag(name: unknown, version: unknown, key: unknown): Promise<void> {
    const mv = await this.getModelVersion(name, version);
    if (!(await this.store.deleteModelVersionTag(mv.name, Number(mv.version), textKey(key, 'key')))) {
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `No tag with key '${String(key)}' on ${mv.name} version ${mv.version}`);
    }
  }

  async setAlias(name: unknown, alias: unknown, version: unknown): Promise<ModelVersion> {
    const mv = await this.getModelVersion(name, version);
    const a = aliasName(alias);
    await this.store.setAlias(mv.name, a, Number(mv.version));
    return this.getModelVersion(mv.name, mv.version);
  }

  async deleteAlias(name: unknown, alias: unknown): Promise<void> {
    const model = await this.getRegisteredModel(name);
    const a = aliasName(alias);
    if (!(await this.store.deleteAlias(model.name, a))) {
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Registered model alias ${a} not found on model ${model.name}`);
    }
  }

  async getVersionByAlias(name: unknown, alias: unknown): Promise<ModelVersion> {
    const n = modelName(name);
    const a = aliasName(alias);
    const v = await this.store.getAlias(n, a);
    if (v === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Registered model alias ${a} not found on model ${n}`);
    return this.getModelVersion(n, v);
  }

  /**
   * Resolves a model reference: `name@alias`, `name/3`, `name:3`, `name` (latest version), each
   * optionally prefixed with `models:/`.
   */
  async resolve(ref: string): Promise<ModelVersion> {
    const r = ref.replace(/^models:\/+/, '');
    const at = /^(.+)@([^@/]+)$/.exec(r);
    if (at !== null) return this.getVersionByAlias(at[1], at[2]);
    const ver = /^(.+?)[/:](\d+)$/.exec(r);
    if (ver !== null) return this.getModelVersion(ver[1], ver[2]);
    const versions = await this.searchModelVersions({ name: modelName(r), maxResults: 1 });
    const latest = versions.items[0];
    if (latest === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `model '${r}' has no versions (use name@alias or name/version)`);
    return latest;
  }

  /** From a version back to its run, params, metrics and data fingerprint. */
  async lineage(name: unknown, version: unknown): Promise<Lineage> {
    const mv = await this.getModelVersion(name, version);
    if (mv.runId === '') return { model: mv, run: null, datasets: [] };
    const run = await this.tracking.getRun(mv.runId);
    return {
      model: mv,
      run: {
        runId: run.info.runId,
        experimentId: run.info.experimentId,
        runName: run.info.runName,
        status: run.info.status,
        startTime: run.info.startTime,
        endTime: run.info.endTime,
        sourceVersion: run.info.sourceVersion,
        params: run.data.params,
        metrics: Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value])),
        tags: run.data.tags,
      },
      datasets: run.inputs,
    };
  }

  /** The artifact store holding model files, for loaders. */
  get artifactStore(): ArtifactStore {
    return this.artifacts;
  }
}

function modelName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || v.trim() === '') throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a non-empty string`, { field });
  if (v.length > NAME_MAX) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} is longer than ${NAME_MAX} characters`, { field });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f@]/.test(v) || v.includes('/')) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} '${v.slice(0, 50)}' must not contain '/', '@' or control characters`, { field });
  }
  return v;
}

function versionNumber(v: unknown): number {
  const n = typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new FluxError('INVALID_PARAMETER_VALUE', 'version must be a positive integer such as "1"', { field: 'version' });
  return n;
}

function aliasName(v: unknown): string {
  if (typeof v !== 'string' || !/^[\w-]{1,255}$/.test(v)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', 'alias must be 1–255 letters, digits, underscores or dashes', { field: 'alias' });
  }
  if (RESERVED_ALIAS.test(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `alias '${v}' is reserved (latest and v<number> name versions)`, { field: 'alias' });
  return v;
}

function optionalText(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a string`, { field });
  if (v.length > 5000) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} is longer than 5000 characters`, { field });
  return v;
}

function textKey(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '' || v.length > 250) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a string of 1–250 characters`, { field });
  return v;
}

function kv(t: { key: unknown; value: unknown }, field: string): { key: string; value: string } {
  const key = textKey(t.key, `${field}.key`);
  if (typeof t.value !== 'string' || t.value.length > 5000) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}.value must be a string of at most 5000 characters`, { field: `${field}.value` });
  return { key, value: t.value };
}

function maxResults(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100_000) throw new FluxError('INVALID_PARAMETER_VALUE', 'max_results must be a positive integer', { field: 'max_results' });
  return n;
}

function offset(token: string | undefined): number {
  const o = decodePageToken(token);
  if (o < 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'page_token is not a token this server issued', { field: 'page_token' });
  return o;
}
