import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KeyService } from '../auth/index.js';
import { FluxError } from '../core/index.js';
import type { EndpointService } from '../endpoints/index.js';
import { describeCommandFailure, runCommand } from '../jobs/index.js';
import { loadPredictor } from '../models/index.js';
import type { RegistryService } from '../registry/index.js';
import type { RolloutService } from '../rollouts/index.js';
import type { ArtifactStore } from '../storage/artifacts/index.js';
import type { TrackingService } from '../tracking/index.js';
import { classificationMetrics, loadCsv, selectFeatures, trainOffThread } from '../training/index.js';
import { judgeImprovement, parseImprovement, trainAndTrack } from '../workflows/index.js';
import type { StepInputs } from './spec.js';
import type { Outputs } from './types.js';

/** The services a step acts through: the platform's, in the worker's process. */
export interface StepServices {
  tracking: TrackingService;
  registry: RegistryService;
  endpoints: EndpointService;
  rollouts: RolloutService;
  keys: KeyService;
  artifacts: ArtifactStore;
  /** The server `run:` steps log to and smoke tests call (FLUXOPS_PUBLIC_URL, or the embedded server's own). */
  serverUrl: () => string | undefined;
  /** A pipeline run's status: a step stopped by its run's cancellation undoes what it started; one stopped by a lost lease does not. */
  runStatus: (pipelineRun: string) => Promise<string>;
}

export interface StepContext {
  services: StepServices;
  pipeline: string;
  runId: string;
  step: string;
  /** Relative paths of the file resolve against it. */
  baseDir: string;
  signal: AbortSignal;
  timeoutMs: number | undefined;
  log(text: string, stream?: 'stdout' | 'stderr' | 'system'): void;
  /** Records lineage as soon as it is known (a run id, a model version), before the step ends. */
  lineage(l: { trackingRunId?: string; modelName?: string; modelVersion?: string }): void;
  /** Frees the worker slot this step holds while it waits on other jobs (a sweep). */
  releaseSlot?: (() => void) | undefined;
}

export type StepExecutor = (inputs: Record<string, unknown>, ctx: StepContext) => Promise<Outputs>;

const SCALAR_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const;

function fileIn(ctx: StepContext, p: string, field: string): string {
  const full = path.resolve(ctx.baseDir, p);
  if (!fs.existsSync(full)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}: no file ${full}`, { field });
  return full;
}


const train: StepExecutor = async (raw, ctx) => {
  const w = raw as StepInputs<'train'>;
  const file = fileIn(ctx, w.data, 'with.data');
  let lastLogged = 0;
  const result = await trainAndTrack(ctx.services.tracking, ctx.services.registry, {
    csvText: fs.readFileSync(file, 'utf8'),
    dataSource: file,
    target: w.target,
    exclude: w.exclude,
    algo: w.algo,
    categorical: w.categorical,
    params: w.params === undefined ? undefined : Object.fromEntries(Object.entries(w.params).map(([k, v]) => [k, typeof v === 'boolean' ? String(v) : v])),
    experiment: w.experiment ?? ctx.pipeline,
    runName: w.run_name ?? `${ctx.pipeline}/${ctx.step}`,
    onProgress: (i, max, loss) => {
      if (Date.now() - lastLogged > 1000 || i === max) {
        lastLogged = Date.now();
        ctx.log(`iteration ${i}/${max} loss ${loss.toFixed(5)}`, 'system');
      }
    },
    onNotice: (m) => ctx.log(m, 'system'),
    // Off this thread: the worker keeps heartbeating (and a server answering) while the solver runs.
    train: (i) => trainOffThread(i, ctx.signal),
  });
  const m = result.training.metrics;
  const runId = result.run.info.runId;
  ctx.lineage({ trackingRunId: runId });
  ctx.log(`run ${runId} (${result.training.algorithm}): ${Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`, 'system');
  return {
    run_id: runId,
    experiment_id: result.run.info.experimentId,
    model_uri: `runs:/${runId}/model`,
    data_sha256: result.training.fingerprint.sha256,
    algo: result.training.algorithm,
    metrics: { ...m },
    ...m,
  };
};

const evaluate: StepExecutor = async (raw, ctx) => {
  const w = raw as StepInputs<'evaluate'>;
  const { tracking, registry, artifacts } = ctx.services;
  const mv = await registry.resolve(w.model);
  if (mv.storageLocation === '') throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${mv.name} v${mv.version} is stored outside FluxOps: it cannot be evaluated here`);
  const file = fileIn(ctx, w.data, 'with.data');
  const ds = loadCsv(fs.readFileSync(file, 'utf8'), { source: file });
  const { predictor } = await loadPredictor(artifacts, mv.storageLocation);
  try {
    if (predictor.kind !== 'classifier' || predictor.classes.length !== 2) throw new FluxError('INVALID_PARAMETER_VALUE', `${mv.name} v${mv.version} is not a binary classifier; evaluate scores binary classifiers`);
    const features = selectFeatures(ds, { target: w.target });
    const cols = predictor.inputNames.map((n) => {
      const i = features.featureNames.indexOf(n);
      if (i < 0) throw new FluxError('INVALID_PARAMETER_VALUE', `the data has no column '${n}' that ${mv.name} v${mv.version} needs`);
      return i;
    });
    const n = features.rowCount;
    const width = features.featureNames.length;
    const d = cols.length;
    const X = new Float64Array(n * d);
    for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) X[r * d + c] = features.X[r * width + cols[c]!]!;
    const pred = await predictor.predictMatrix(X, n);
    const positive = String(predictor.classes[1]);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) y[r] = String(features.classes[features.y[r]!]) === positive ? 1 : 0;
    const prob = new Float64Array(n);
    for (let r = 0; r < n; r++) prob[r] = pred.probabilities![r * 2 + 1]!;
    const m = classificationMetrics(y, prob);
    const experimentId = await tracking.ensureExperiment(w.experiment ?? ctx.pipeline);
    const run = await tracking.createRun({ experimentId, runName: `${ctx.pipeline}/${ctx.step}`, tags: { 'fluxops.evaluated.model': `${mv.name}/${mv.version}`, 'fluxops.pipeline_run': ctx.runId } });
    const runId = run.info.runId;
    ctx.lineage({ trackingRunId: runId, modelName: mv.name, modelVersion: mv.version });
    const now = Date.now();
    await tracking.logBatch(runId, { metrics: SCALAR_METRICS.map((k) => ({ key: k, value: m[k], timestamp: now, step: 0 })), params: [], tags: [] });
    await tracking.endRun(runId, 'FINISHED');
    ctx.log(`${mv.name} v${mv.version} on ${n} rows: f1 ${m.f1.toFixed(4)}, accuracy ${m.accuracy.toFixed(4)}`, 'system');
    return { run_id: runId, model: mv.name, version: mv.version, rows: n, metrics: Object.fromEntries(SCALAR_METRICS.map((k) => [k, m[k]])), ...Object.fromEntries(SCALAR_METRICS.map((k) => [k, m[k]])) };
  } finally {
    await predictor.close?.();
  }
};

const compare: StepExecutor = async (raw, ctx) => {
  const w = raw as StepInputs<'compare'>;
  const metric = w.metric ?? 'f1';
  const rule = parseImprovement(`${metric}${w.min_delta !== undefined ? `:${String(w.min_delta)}` : ''}`, 'with.metric');
  const run = await ctx.services.tracking.getRun(w.run);
  const metrics = Object.fromEntries(run.data.metrics.map((x) => [x.key, x.value]));
  const verdict = await judgeImprovement(ctx.services.registry, w.model, w.alias ?? 'production', metrics, rule);
  ctx.log(verdict.reason, 'system');
  return {
    improved: verdict.improved,
    metric: verdict.metric,
    candidate: verdict.candidate,
    current: verdict.current?.value ?? null,
    current_version: verdict.current?.version ?? null,
    gain: verdict.gain,
    reason: verdict.reason,
  };
};

const register: StepExecutor = async (raw, ctx) => {
  const w = raw as StepInputs<'register'>;
  const { registry } = ctx.services;
  let mv = await registry.registerModel({ name: w.model, source: `runs:/${w.run}/${w.path ?? 'model'}`, runId: w.run, ...(w.description !== undefined ? { description: w.description } : {}) });
  ctx.lineage({ trackingRunId: w.run, modelName: mv.name, modelVersion: mv.version });
  for (const alias of w.aliases ?? []) mv = await registry.setAlias(mv.name, alias, mv.version);
  ctx.log(`registered ${mv.name} v${mv.version}${(w.aliases ?? []).length > 0 ? ` as ${(w.aliases ?? []).join(', ')}` : ''}`, 'system');
  return { model: mv.name, version: mv.version, source: mv.source, aliases: w.aliases ?? [] };
};

const deploy: StepExecutor = async (raw, ctx) => {
  const w = raw as StepInputs<'deploy'>;
  const { endpoints, rollouts } = ctx.services;
  const version = String(w.version);
  const deployment = w.deployment ?? `v${version}`;
  const reference = `${w.model}/${version}`;
  const before = await endpoints.getEndpoint(w.endpoint).catch(async (e: unknown) => {
    if (!(e instanceof FluxError && (e.code === 'RESOURCE_DOES_NOT_EXIST' || e.code === 'ENDPOINT_NOT_FOUND'))) throw e;
    ctx.log(`creating endpoint ${w.endpoint} (${w.environment ?? 'production'})`, 'system');
    return endpoints.createEndpoint({ name: w.endpoint, environment: w.environment ?? 'production' });
  });
  const existing = before.deployments.find((d) => d.name === deployment);
  if (existing !== undefined && existing.model !== reference) throw new FluxError('INVALID_STATE', `endpoint ${w.endpoint} already has a deployment ${deployment} serving ${existing.model}`);
  // The endpoint's first deployment takes all its traffic; a later one starts at 0 % for the rollout.
  const ep = existing === undefined ? await endpoints.deploy(w.endpoint, { name: deployment, model: reference, ...(before.deployments.length > 0 ? { traffic: 0 } : {}) }) : before;
  ctx.log(`deployment ${deployment} (${reference}) on ${w.endpoint}`, 'system');
  if (ep.traffic[deployment] === 100) {
    // The endpoint's first deployment takes all traffic: there is nothing to roll from.
    return { endpoint: w.endpoint, deployment, model: w.model, version, rollout: null, state: 'serving' };
  }
  const spec = {
    to: deployment,
    ...(w.strategy !== undefined ? { strategy: w.strategy } : {}),
    ...(w.steps !== undefined ? { steps: w.steps } : {}),
    ...(w.bake !== undefined ? { bake: w.bake } : {}),
    ...(w.gates !== undefined ? { gates: w.gates } : {}),
    ...(w.smoke !== undefined ? { smoke: w.smoke } : {}),
    ...(w.min_requests !== undefined ? { minRequests: w.min_requests } : {}),
    ...(w.interval !== undefined ? { interval: w.interval } : {}),
  };
  // A retried attempt goes on with the rollout its first attempt started, rather than a second one.
  const [latest] = await rollouts.list({ endpoint: w.endpoint });
  let r = latest !== undefined && latest.target === deployment && (latest.state === 'running' || latest.state === 'paused') ? latest : await rollouts.start(w.endpoint, spec);
  ctx.log(`rollout ${r.id}: ${r.stable} → ${r.target} (${r.strategy})`, 'system');
  if (w.wait === false) return { endpoint: w.endpoint, deployment, model: w.model, version, rollout: r.id, state: r.state };
  let lastStep = -1;
  try {
    while (r.state === 'running' || r.state === 'paused') {
      await sleep(250, ctx.signal);
      r = await rollouts.get(r.id);
      if (r.step !== lastStep) {
        lastStep = r.step;
        const s = r.spec.steps[r.step];
        ctx.log(`rollout ${r.id} step ${r.step + 1}/${r.spec.steps.length}: ${s?.kind === 'pause' ? 'paused for an approver' : `${s?.weight}% of traffic`}`, 'system');
      }
    }
  } catch (e) {
    // The run was cancelled: traffic goes back to stable. A lost lease leaves it to the next attempt.
    if (ctx.signal.aborted && (await ctx.services.runStatus(ctx.runId).catch(() => 'unknown')) === 'cancelled') await rollouts.abort(r.id).catch(() => undefined);
    throw e;
  }
  if (r.state !== 'succeeded') throw new Error(`rollout ${r.id} ended ${r.state}${r.reason ? `: ${r.reason}` : ''}`);
  ctx.log(`rollout ${r.id} completed: ${deployment} takes all traffic`, 'system');
  return { endpoint: w.endpoint, deployment, model: w.model, version, rollout: r.id, state: r.state };
};

const smokeTest: StepExecutor = async (raw, ctx) => {
  const w = raw as StepInputs<'smoke-test'>;
  const server = ctx.services.serverUrl();
  if (server === undefined) throw new FluxError('INVALID_STATE', 'a smoke-test step calls the server, but none is known: set FLUXOPS_PUBLIC_URL for the worker');
  // A predict key for this endpoint alone, for as long as the step runs.
  const { key, info } = await ctx.services.keys.create(keyName(ctx), { role: 'predict', scopes: [`endpoint:${w.endpoint}`], expires: '1h' });
  try {
    let passed = 0;
    const failures: string[] = [];
    for (const [i, r] of w.requests.entries()) {
      const res = await fetch(`${server}/api/v1/endpoints/${encodeURIComponent(w.endpoint)}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...(w.deployment !== undefined ? { 'x-fluxops-deployment': w.deployment } : {}) },
        body: JSON.stringify(r.body),
        signal: ctx.signal,
      });
      const body = (await res.json().catch(() => ({}))) as { predictions?: unknown[]; message?: string };
      const want = r.status ?? 200;
      if (res.status !== want) failures.push(`request ${i + 1}: status ${res.status}, expected ${want}${body.message ? ` (${body.message})` : ''}`);
      else if (r.predictions !== undefined && JSON.stringify(body.predictions) !== JSON.stringify(r.predictions)) failures.push(`request ${i + 1}: predictions ${JSON.stringify(body.predictions)}, expected ${JSON.stringify(r.predictions)}`);
      else passed++;
    }
    ctx.log(`${passed}/${w.requests.length} smoke requests passed`, 'system');
    if (failures.length > 0) throw new Error(`smoke test failed: ${failures.slice(0, 3).join('; ')}`);
    return { endpoint: w.endpoint, passed, requests: w.requests.length };
  } finally {
    await ctx.services.keys.revoke(info.keyId).catch(() => undefined);
  }
};

/**
 * A `run:` step: the command runs with the tracking variables of a run made for it (FluxOps'
 * and MLflow's), with a developer key that expires soon after the step's timeout and is revoked
 * when it ends, so `mlflow.log_metric(…)` in a Python script logs into the step's run. Lines
 * `key=value` the command writes to the file named by FLUXOPS_OUTPUTS become its outputs.
 */
export async function runStep(command: string, env: Record<string, string>, workingDirectory: string | undefined, ctx: StepContext, tags: Record<string, string> = {}): Promise<Outputs> {
  const { tracking, keys } = ctx.services;
  const server = ctx.services.serverUrl();
  const cwd = workingDirectory === undefined ? ctx.baseDir : path.resolve(ctx.baseDir, workingDirectory);
  if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory()) throw new FluxError('INVALID_PARAMETER_VALUE', `the step's working folder ${cwd} does not exist on this worker`, { field: 'working_directory' });
  const experimentId = await tracking.ensureExperiment(ctx.pipeline);
  const run = await tracking.createRun({ experimentId, runName: `${ctx.pipeline}/${ctx.step}`, tags: { 'fluxops.pipeline_run': ctx.runId, 'fluxops.pipeline_step': ctx.step, 'mlflow.source.type': 'JOB', ...tags } });
  const runId = run.info.runId;
  ctx.lineage({ trackingRunId: runId });
  let status: 'FINISHED' | 'FAILED' | 'KILLED' = 'FAILED';
  let keyId: string | undefined;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-step-'));
  try {
    const lifetimeMs = (ctx.timeoutMs ?? 6 * 3_600_000) + 3_600_000;
    // A developer key scoped to this run: it writes to the step's run only, and reads like a viewer.
    const { key, info } = await keys.create(keyName(ctx), { role: 'developer', scopes: [`run:${runId}`], expires: `${Math.ceil(lifetimeMs / 60_000)}m` });
    keyId = info.keyId;
    const outputsFile = path.join(folder, 'outputs');
    fs.writeFileSync(outputsFile, '');
    const vars: Record<string, string> = {
      ...env,
      FLUXOPS_RUN_ID: runId,
      FLUXOPS_PIPELINE_RUN: ctx.runId,
      FLUXOPS_STEP: ctx.step,
      FLUXOPS_OUTPUTS: outputsFile,
      MLFLOW_RUN_ID: runId,
      MLFLOW_EXPERIMENT_ID: experimentId,
      FLUXOPS_API_KEY: key,
      MLFLOW_TRACKING_TOKEN: key,
      ...(server !== undefined ? { FLUXOPS_TRACKING_URI: server, FLUXOPS_URL: server, MLFLOW_TRACKING_URI: server } : {}),
    };
    ctx.log(`$ ${command}`, 'system');
    const r = await runCommand({ command, cwd, env: vars, signal: ctx.signal, timeoutMs: ctx.timeoutMs, onOutput: (stream, text) => ctx.log(text, stream) });
    const outputs = parseOutputs(fs.readFileSync(outputsFile, 'utf8'));
    if (r.exitCode !== 0) {
      status = r.aborted ? 'KILLED' : 'FAILED';
      throw new Error(describeCommandFailure(r, ctx.timeoutMs));
    }
    status = 'FINISHED';
    return { ...outputs, run_id: runId, exit_code: 0 };
  } finally {
    await tracking.endRun(runId, status).catch(() => undefined);
    if (keyId !== undefined) await keys.revoke(keyId).catch(() => undefined);
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** A step's key name (at most 100 characters whatever the step's name). */
function keyName(ctx: StepContext): string {
  return `pipeline-${ctx.runId}-${ctx.step}`.slice(0, 100);
}

function parseOutputs(text: string): Outputs {
  const out: Outputs = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][\w.-]*)=(.*)$/.exec(line.trim());
    if (m === null) continue;
    const v = m[2]!;
    out[m[1]!] = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) ? Number(v) : v === 'true' || v === 'false' ? v === 'true' : v;
  }
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('stopped'));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason instanceof Error ? signal.reason : new Error('stopped'));
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The built-in step types (sweep and approve are handled by their own runners). */
export const EXECUTORS: Record<string, StepExecutor> = { train, evaluate, compare, register, deploy, 'smoke-test': smokeTest };

