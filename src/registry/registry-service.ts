import path from 'node:path';
import { FluxError, RUN_ID_PATTERN, decodePageToken } from '../core/index.js';
import { actorOf, type WriteContext } from '../events/index.js';
import type { ArtifactStore } from '../storage/artifacts/index.js';
import { ArtifactUris, safeRelativePath } from '../storage/artifacts/index.js';
import type { DatasetInput, Page, Run, TrackingService } from '../tracking/index.js';
import { MODEL_VERSION_SEARCH, REGISTERED_MODEL_SEARCH, parseSearchFilter, parseSearchOrderBy } from '../search/index.js';
import { localSourceRefused, localStoreRoot, pathWithinRun } from './local-source.js';
import { LOGGED_MODEL_ID, parseSource, type LoggedModelLookup, type LoggedModelRef, type SourceRef } from './model-source.js';
import { resolveModelRef } from './model-ref.js';
import type { RegistryStore } from './registry-store.js';
import { STAGES, type ModelSignature, type ModelVersion, type RegisteredModel, type Stage } from './types.js';

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
  private readonly uris: ArtifactUris;

  constructor(
    private readonly store: RegistryStore,
    private readonly tracking: TrackingService,
    private readonly artifacts: ArtifactStore,
    private readonly inspect: ModelInspector,
    /** MLflow 3 logged models, for `models:/<model_id>` sources; absent, such sources are refused. */
    private readonly loggedModels?: LoggedModelLookup,
    /** How artifact locations are handed out, and read back from sources. */
    uris?: ArtifactUris,
  ) {
    this.uris = uris ?? new ArtifactUris(artifacts.uri, 'proxied');
  }

  async createRegisteredModel(input: { name: unknown; description?: unknown; tags?: Array<{ key: unknown; value: unknown }> | undefined }, ctx?: WriteContext): Promise<RegisteredModel> {
    const name = modelName(input.name);
    const description = optionalText(input.description, 'description');
    const tags = (input.tags ?? []).map((t, i) => kv(t, `tags[${i}]`));
    await this.store.createRegisteredModel({ name, description, tags }, actorOf(ctx));
    return this.getRegisteredModel(name);
  }

  async getRegisteredModel(name: unknown): Promise<RegisteredModel> {
    const n = modelName(name);
    const model = await this.store.getRegisteredModel(n);
    if (!model) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${n} not found`);
    return model;
  }

  /**
   * Searches models with MLflow's filter (`name = 'x'`, `name LIKE 'x%'`, `tags.k = 'v'`, joined by
   * AND) and order (`name`, `last_updated_timestamp`, `creation_timestamp`, each ASC or DESC).
   */
  async searchRegisteredModels(
    input: { nameLike?: string | undefined; filter?: string | undefined; orderBy?: string[] | string | undefined; maxResults?: unknown; pageToken?: string | undefined } = {},
  ): Promise<Page<RegisteredModel>> {
    const filter = parseSearchFilter(input.filter, REGISTERED_MODEL_SEARCH);
    if (input.nameLike !== undefined) filter.push({ entity: 'attribute', key: 'name', comparator: 'LIKE', value: input.nameLike });
    return this.store.searchRegisteredModels({
      filter,
      orderBy: parseSearchOrderBy(input.orderBy, REGISTERED_MODEL_SEARCH),
      maxResults: maxResults(input.maxResults, 100, 1000),
      offset: offset(input.pageToken),
    });
  }

  /** The newest version in each stage (all stages when none are named), as MLflow's get-latest-versions. */
  async getLatestVersions(name: unknown, stages?: unknown[]): Promise<ModelVersion[]> {
    const model = await this.getRegisteredModel(name);
    if (stages === undefined || stages.length === 0) return model.latestVersions;
    return stages.map(stageName).flatMap((s) => model.latestVersions.filter((v) => v.currentStage === s));
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

  async deleteRegisteredModel(name: unknown, ctx?: WriteContext): Promise<void> {
    const model = await this.getRegisteredModel(name);
    await this.store.deleteRegisteredModel(model.name, actorOf(ctx));
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
   * Registers a new version. `source` is `runs:/<run>/<path>`, `mlflow-artifacts:/<path>`,
   * `models:/<logged model id>` (MLflow 3), `models:/<name>/<version>`, or any URI outside FluxOps
   * (then recorded but not verified). The model folder, when FluxOps holds it, is inspected for
   * its signature and flavor and whether FluxOps can serve it.
   *
   * `options.lenient` is MLflow's protocol, which records whatever source and run id a client names: a
   * run FluxOps does not know, or a folder with nothing in it yet, is recorded READY with a status
   * message saying it was not verified. Without it (the native API) those are refused.
   */
  async createModelVersion(input: {
    name: unknown;
    source: unknown;
    runId?: unknown;
    description?: unknown;
    tags?: Array<{ key: unknown; value: unknown }> | undefined;
    userId?: string | undefined;
    runLink?: unknown;
    modelId?: unknown;
  }, options: WriteContext & { lenient?: boolean } = {}): Promise<ModelVersion> {
    const model = await this.getRegisteredModel(input.name);
    const ref = parseSource(input.source);
    const source = input.source as string;
    const lenient = options.lenient === true;
    const tags = (input.tags ?? []).map((t, i) => kv(t, `tags[${i}]`));
    const description = optionalText(input.description, 'description');
    const runLink = optionalText(input.runLink, 'run_link');
    const place = await this.locate(ref, source, optionalText(input.runId, 'run_id') || undefined, optionalText(input.modelId, 'model_id'), lenient);
    const { lineageRunId, sourceRun } = place;
    const run =
      lineageRunId === undefined ? undefined : sourceRun?.info.runId === lineageRunId ? sourceRun : lenient ? await this.findRun(lineageRunId) : await this.tracking.getRun(lineageRunId);
    let { storageLocation, modelId, note } = place;
    let found: ModelInspection | undefined;
    if (storageLocation !== '') {
      found = await this.inspect(storageLocation);
      if (found === undefined && ref.kind === 'run' && sourceRun !== undefined && this.loggedModels !== undefined) {
        // MLflow 3 logs a model into its own folder, not the run's: find it by run and name.
        const lm = await this.loggedModels.findForRun(sourceRun.info.runId, ref.path);
        const folder = lm === undefined ? undefined : this.uris.pathOf(lm.artifactLocation);
        const there = folder === undefined ? undefined : await this.inspect(folder);
        if (lm !== undefined && folder !== undefined && there !== undefined) {
          [found, storageLocation, modelId] = [there, folder, lm.modelId];
        }
      }
      if (found === undefined) {
        if (!lenient) throw new FluxError('INVALID_PARAMETER_VALUE', `no model files found at source '${source}'`, { field: 'source' });
        note = `no model files found at '${source}'; recorded without verification`;
      }
    }
    const statusMessage = found === undefined ? note : found.servable ? `servable (${found.flavor})` : `not servable here: ${found.message}`;
    const metrics = run ? Object.fromEntries(run.data.metrics.filter((m) => Number.isFinite(m.value)).map((m) => [m.key, m.value])) : {};
    return this.store.createModelVersion({
      name: model.name,
      source,
      runId: run?.info.runId ?? lineageRunId ?? '',
      storageLocation,
      status: 'READY',
      statusMessage,
      flavor: found?.flavor ?? '',
      runLink,
      modelId,
      description,
      userId: input.userId ?? '',
      signature: found?.signature ?? null,
      metrics,
      tags,
    }, actorOf(options));
  }

  /**
   * Where a source's files are (an artifact-store folder, or '' when outside FluxOps), which run
   * it descends from, which logged model it came from, and why it cannot be verified, if so.
   */
  private async locate(
    ref: SourceRef,
    source: string,
    givenRunId: string | undefined,
    givenModelId: string,
    lenient: boolean,
  ): Promise<{ storageLocation: string; lineageRunId: string | undefined; sourceRun: Run | undefined; modelId: string; note: string }> {
    let lineageRunId = givenRunId;
    let modelId = givenModelId;
    let storageLocation = '';
    let note = '';
    let sourceRun: Run | undefined;
    const loggedId = ref.kind === 'logged-model' ? ref.modelId : modelId !== '' && ref.kind !== 'registered' ? modelId : undefined;
    if (loggedId !== undefined) {
      const lm = await this.loggedModel(loggedId);
      modelId = lm.modelId;
      lineageRunId ??= lm.sourceRunId || undefined;
      if (ref.kind === 'logged-model' || ref.kind === 'external') {
        storageLocation = this.uris.pathOf(lm.artifactLocation) ?? '';
        if (storageLocation === '') note = `logged model ${lm.modelId} keeps its files outside FluxOps (${lm.artifactLocation}); recorded without verification`;
      }
    }
    if (ref.kind === 'registered') {
      // A copy of another registered version: same files, same lineage.
      const from = await this.resolve(ref.ref);
      storageLocation = from.storageLocation;
      lineageRunId ??= from.runId || undefined;
      if (modelId === '') modelId = from.modelId;
      if (storageLocation === '') note = `copied from ${from.name} version ${from.version}, whose source was not verified`;
    } else if (ref.kind === 'run') {
      lineageRunId ??= ref.runId;
      sourceRun = lenient ? await this.findRun(ref.runId) : await this.strictRun(ref.runId, source);
      if (sourceRun === undefined) note = `run '${ref.runId}' is not a FluxOps run; the source was recorded without verification`;
      else storageLocation = [this.tracking.runArtifactRoot(sourceRun), ...safeRelativePath(ref.path, 'source')].join('/');
    } else if (ref.kind === 'artifacts') {
      storageLocation = ref.path;
    } else if (ref.kind === 'local') {
      const held = await this.runHoldingLocalSource(ref.path, source, givenRunId);
      sourceRun = held.run;
      storageLocation = [this.tracking.runArtifactRoot(held.run), ...held.within].join('/');
    } else if (ref.kind === 'external' && loggedId === undefined && this.uris.pathOf(source) !== undefined) {
      // The store's own URI (`s3://bucket/prefix/…` in direct mode): the files are FluxOps'.
      storageLocation = this.uris.pathOf(source)!;
    } else if (ref.kind === 'external' && loggedId === undefined) {
      if (!lenient && source.startsWith('runs:')) throw new FluxError('INVALID_PARAMETER_VALUE', `source ${ref.why}`, { field: 'source' });
      note = `${ref.why} and was not verified`;
    }
    return { storageLocation, lineageRunId, sourceRun, modelId, note };
  }

  /**
   * MLflow's rule for a path on the server's disk (a plain path or `file:` URI), on every API: it
   * needs a run_id, and must lie within that run's artifact folder, so a client cannot register
   * (and then download through the registry) any file the server can read.
   */
  private async runHoldingLocalSource(resolved: string, source: string, runId: string | undefined): Promise<{ run: Run; within: string[] }> {
    if (runId === undefined) throw localSourceRefused(source);
    const run = await this.findRun(runId);
    if (run === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
    // Artifacts kept off this machine's disk (S3, Azure) contain no local path.
    const root = localStoreRoot(this.artifacts.uri);
    const within = root === undefined ? undefined : pathWithinRun(resolved, path.join(root, ...this.tracking.runArtifactRoot(run).split('/')));
    if (within === undefined) throw localSourceRefused(resolved);
    return { run, within };
  }

  /** A run by id, or undefined when the id is not one of FluxOps' runs. */
  private async findRun(runId: string): Promise<Run | undefined> {
    if (!RUN_ID_PATTERN.test(runId)) return undefined;
    try {
      return await this.tracking.getRun(runId);
    } catch (e) {
      if (e instanceof FluxError && e.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw e;
    }
  }

  private async strictRun(runId: string, source: string): Promise<Run> {
    if (!RUN_ID_PATTERN.test(runId)) throw new FluxError('INVALID_PARAMETER_VALUE', `source '${source}' is not a valid runs:/<run_id>/<path> URI`, { field: 'source' });
    return this.tracking.getRun(runId);
  }

  private async loggedModel(modelId: string): Promise<LoggedModelRef> {
    if (!LOGGED_MODEL_ID.test(modelId)) throw new FluxError('INVALID_PARAMETER_VALUE', `'${modelId.slice(0, 80)}' is not a logged model id (m-<32 hex digits>)`, { field: 'model_id' });
    const lm = await this.loggedModels?.get(modelId);
    if (lm === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${modelId}' not found`);
    return lm;
  }

  /** Creates the model when it does not exist yet, then a new version of it. */
  async registerModel(input: Parameters<RegistryService['createModelVersion']>[0], ctx?: WriteContext): Promise<ModelVersion> {
    const name = modelName(input.name);
    if (!(await this.store.getRegisteredModel(name))) {
      try {
        await this.createRegisteredModel({ name }, ctx);
      } catch (e) {
        if (!(e instanceof FluxError && e.code === 'RESOURCE_ALREADY_EXISTS')) throw e;
      }
    }
    return this.createModelVersion({ ...input, name }, ctx);
  }

  async getModelVersion(name: unknown, version: unknown): Promise<ModelVersion> {
    const n = modelName(name);
    const v = versionNumber(version);
    const mv = await this.store.getModelVersion(n, v);
    if (!mv) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Model Version (name=${n}, version=${v}) not found`);
    return mv;
  }

  /**
   * Searches versions with MLflow's filter (`name`, `run_id` (also IN), `source_path`,
   * `version_number`, `tags.<key>`) and order; without an order, by name and newest version first.
   */
  async searchModelVersions(
    input: {
      name?: string | undefined;
      runId?: string | undefined;
      filter?: string | undefined;
      orderBy?: string[] | string | undefined;
      maxResults?: unknown;
      pageToken?: string | undefined;
    } = {},
  ): Promise<Page<ModelVersion>> {
    const filter = parseSearchFilter(input.filter, MODEL_VERSION_SEARCH);
    if (input.name !== undefined) filter.push({ entity: 'attribute', key: 'name', comparator: '=', value: input.name });
    if (input.runId !== undefined) filter.push({ entity: 'attribute', key: 'run_id', comparator: '=', value: input.runId });
    return this.store.searchModelVersions({
      filter,
      orderBy: parseSearchOrderBy(input.orderBy, MODEL_VERSION_SEARCH),
      maxResults: maxResults(input.maxResults, 10_000, 200_000),
      offset: offset(input.pageToken),
    });
  }

  async updateModelVersion(name: unknown, version: unknown, description: unknown): Promise<ModelVersion> {
    const mv = await this.getModelVersion(name, version);
    await this.store.updateModelVersion(mv.name, Number(mv.version), { description: optionalText(description, 'description') });
    return this.getModelVersion(mv.name, mv.version);
  }

  async transitionStage(name: unknown, version: unknown, stage: unknown, archiveExisting = false): Promise<ModelVersion> {
    const mv = await this.getModelVersion(name, version);
    const s = stageName(stage);
    if (archiveExisting && s !== 'Staging' && s !== 'Production') {
      throw new FluxError('INVALID_PARAMETER_VALUE', `archive_existing_versions applies only to the Staging and Production stages, not to '${s}'`, { field: 'archive_existing_versions' });
    }
    const archive = archiveExisting ? { archiveOthersIn: s } : {};
    await this.store.updateModelVersion(mv.name, Number(mv.version), { stage: s, ...archive });
    return this.getModelVersion(mv.name, mv.version);
  }

  async deleteModelVersion(name: unknown, version: unknown, ctx?: WriteContext): Promise<void> {
    const mv = await this.getModelVersion(name, version);
    await this.store.deleteModelVersion(mv.name, Number(mv.version), actorOf(ctx));
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

  async setAlias(name: unknown, alias: unknown, version: unknown, ctx?: WriteContext): Promise<ModelVersion> {
    const mv = await this.getModelVersion(name, version);
    const a = aliasName(alias);
    await this.store.setAlias(mv.name, a, Number(mv.version), actorOf(ctx));
    return this.getModelVersion(mv.name, mv.version);
  }

  async deleteAlias(name: unknown, alias: unknown, ctx?: WriteContext): Promise<void> {
    const model = await this.getRegisteredModel(name);
    const a = aliasName(alias);
    if (!(await this.store.deleteAlias(model.name, a, actorOf(ctx)))) {
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
    return resolveModelRef(this, ref);
  }

  /** From a version back to its run, params, metrics and data fingerprint. */
  async lineage(name: unknown, version: unknown): Promise<Lineage> {
    const mv = await this.getModelVersion(name, version);
    // MLflow clients may name run ids FluxOps never saw; such a version has no run to trace.
    const run = mv.runId === '' ? undefined : await this.findRun(mv.runId);
    if (run === undefined) return { model: mv, run: null, datasets: [] };
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

  /**
   * Where a version's files can be downloaded from, as MLflow's get-download-uri: the
   * `mlflow-artifacts:/` folder FluxOps holds, or the source itself when it is outside FluxOps.
   */
  async getDownloadUri(name: unknown, version: unknown): Promise<string> {
    let mv = await this.getModelVersion(name, version);
    // A copy of a version whose files are outside FluxOps downloads from where that one does.
    for (let hops = 0; mv.storageLocation === '' && hops < 10; hops++) {
      const copied = /^models:\/+(.+?)\/(\d+)$/.exec(mv.source);
      if (copied === null) break;
      mv = await this.getModelVersion(copied[1], copied[2]);
    }
    return mv.storageLocation === '' ? mv.source : this.uris.uriOf(mv.storageLocation);
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
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new FluxError('INVALID_PARAMETER_VALUE', `Model version must be an integer such as "1", not '${String(v).slice(0, 40)}'`, { field: 'version' });
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

function maxResults(v: unknown, dflt: number, limit: number): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new FluxError('INVALID_PARAMETER_VALUE', 'max_results must be a positive integer', { field: 'max_results' });
  if (n > limit) throw new FluxError('INVALID_PARAMETER_VALUE', `max_results must be at most ${limit}, but got ${n}`, { field: 'max_results' });
  return n;
}

/** A stage name in any letter case, as its canonical spelling. */
function stageName(v: unknown): Stage {
  const s = STAGES.find((x) => typeof v === 'string' && x.toLowerCase() === v.toLowerCase());
  if (s === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `invalid model version stage '${String(v)}': stage must be one of ${STAGES.join(', ')}`, { field: 'stage' });
  return s;
}

function offset(token: string | undefined): number {
  const o = decodePageToken(token);
  if (o < 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'page_token is not a token this server issued', { field: 'page_token' });
  return o;
}
