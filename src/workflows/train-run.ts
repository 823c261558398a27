import { execFileSync } from 'node:child_process';
import type { RegistryApi, TrackingApi } from '../client/index.js';
import { FluxError } from '../core/index.js';
import type { ModelVersion } from '../registry/index.js';
import { MODEL_FILE, serializeModel } from '../models/index.js';
import type { Run } from '../tracking/index.js';
import { judgeImprovement, type ImprovementRule, type ImprovementVerdict } from './improvement.js';
import { PROFILE_FILE } from '../monitoring/index.js';
import { algorithmOf, loadCsv, train, type RawTrainParams, type TrainInput, type TrainResult } from '../training/index.js';

export interface TrainRunInput {
  csvText: string;
  /** Where the data came from (a path, or "generated:diabetes"), recorded as the dataset source. */
  dataSource: string;
  target: string;
  exclude?: string[] | undefined;
  /** The built-in trainer (logistic_regression, gbdt); a param `algo` says the same. */
  algo?: string | undefined;
  /** Columns to treat as categorical (gbdt), besides the text columns. */
  categorical?: string[] | undefined;
  params?: RawTrainParams | undefined;
  experiment?: string | undefined;
  runName?: string | undefined;
  /** Register the trained model under this name. */
  register?: string | undefined;
  /** Point these aliases at the new version (needs `register`). */
  aliases?: string[] | undefined;
  /** Move each alias only when the new model beats the version it points at now (see judgeImprovement). */
  requireImprovement?: ImprovementRule | undefined;
  onProgress?: ((iteration: number, maxIter: number, loss: number) => void) | undefined;
  /** Trains elsewhere than on this thread (`trainOffThread`); default: here. */
  train?: ((input: TrainInput) => Promise<TrainResult>) | undefined;
  /** More tags for the run (a sweep's parent run, a pipeline run). */
  tags?: Record<string, string> | undefined;
  onNotice?: ((message: string) => void) | undefined;
}

export interface TrainRunResult {
  run: Run;
  training: TrainResult;
  version?: ModelVersion | undefined;
  /** With `requireImprovement`: each alias's verdict; the aliases refused were not moved. */
  gates?: Array<{ alias: string; verdict: ImprovementVerdict }> | undefined;
}

/** Folder of the model inside a run's artifacts. */
export const MODEL_ARTIFACT_DIR = 'model';

/**
 * Train → track → register, over any TrackingApi/RegistryApi (in process or over HTTP): records
 * the run with params, metrics, the data fingerprint, code version and the model artifact, then
 * registers a version and moves aliases. A failure marks the run FAILED and is rethrown.
 */
export async function trainAndTrack(tracking: TrackingApi, registry: RegistryApi, input: TrainRunInput): Promise<TrainRunResult> {
  if (input.aliases !== undefined && input.aliases.length > 0 && input.register === undefined) {
    throw new FluxError('INVALID_PARAMETER_VALUE', 'an alias needs a registered model: pass --register <name> too');
  }
  const params = mergeCategorical(input.params, input.categorical);
  // Refused before a run is created: a wrong algo is a usage error, not a failed run.
  const algo = algorithmOf({ algo: input.algo, params });
  const dataset = loadCsv(input.csvText, { source: input.dataSource });
  const experimentId = input.experiment === undefined ? '0' : await tracking.ensureExperiment(input.experiment);
  const gitCommit = currentGitCommit();
  const run = await tracking.createRun({
    experimentId,
    runName: input.runName,
    sourceName: input.dataSource,
    sourceVersion: gitCommit,
    tags: {
      'mlflow.source.type': 'LOCAL',
      'fluxops.trainer': algo,
      ...(gitCommit !== '' ? { 'mlflow.source.git.commit': gitCommit } : {}),
      ...input.tags,
    },
  });
  const runId = run.info.runId;
  try {
    const trainInput: TrainInput = {
      dataset,
      target: input.target,
      algo,
      ...(input.exclude !== undefined ? { exclude: input.exclude } : {}),
      ...(params !== undefined ? { params } : {}),
      ...(input.onProgress !== undefined ? { onProgress: input.onProgress } : {}),
    };
    const training = input.train !== undefined ? await input.train(trainInput) : train(trainInput);
    for (const n of training.notices) input.onNotice?.(n);
    const scalar = training.metrics;
    const now = Date.now();
    await tracking.logBatch(runId, {
      params: training.params,
      metrics: Object.entries(scalar).map(([key, value]) => ({ key, value, timestamp: now, step: 0 })),
      tags: { 'fluxops.data.sha256': training.fingerprint.sha256, 'fluxops.target': input.target, 'fluxops.task': training.task },
    });
    // Learning curves: one value per boosting iteration, as step metrics (batches of 1,000).
    const curve = Object.entries(training.curves).flatMap(([key, values]) => values.map((value, step) => ({ key, value, timestamp: now, step })));
    for (let i = 0; i < curve.length; i += 1000) await tracking.logBatch(runId, { metrics: curve.slice(i, i + 1000) });
    if (training.featureImportance !== undefined) {
      await tracking.logArtifact(runId, 'feature_importance.json', JSON.stringify(training.featureImportance, null, 2));
    }
    await tracking.logInputs(runId, [
      {
        name: 'training-data',
        digest: training.fingerprint.sha256.slice(0, 16),
        sourceType: input.dataSource.startsWith('generated:') ? 'generated' : 'local',
        source: JSON.stringify({ uri: input.dataSource }),
        schema: JSON.stringify({ columns: dataset.columns.map((c, i) => ({ name: c, type: dataset.types[i] })) }),
        profile: JSON.stringify({ rows: training.fingerprint.rows, columns: training.fingerprint.columns, sha256: training.fingerprint.sha256 }),
        context: 'training',
      },
    ]);
    await tracking.logArtifact(runId, `${MODEL_ARTIFACT_DIR}/${MODEL_FILE}`, serializeModel(training.model));
    // Beside the model, so a version registered from this run carries its monitoring reference.
    await tracking.logArtifact(runId, `${MODEL_ARTIFACT_DIR}/${PROFILE_FILE}`, JSON.stringify(training.profile));
    await tracking.logArtifact(
      runId,
      'metrics.json',
      JSON.stringify({ ...scalar, ...(training.confusionMatrix !== undefined ? { confusion_matrix: training.confusionMatrix } : {}), train_rows: training.trainRows, test_rows: training.testRows }, null, 2),
    );
    const finished = await tracking.endRun(runId, 'FINISHED');
    let version: ModelVersion | undefined;
    let gates: TrainRunResult['gates'];
    if (input.register !== undefined) {
      // Judged before registering, against what each alias points at now.
      if (input.requireImprovement !== undefined) {
        gates = [];
        for (const alias of input.aliases ?? []) gates.push({ alias, verdict: await judgeImprovement(registry, input.register, alias, scalar, input.requireImprovement) });
      }
      version = await registry.registerModel({ name: input.register, source: `runs:/${runId}/${MODEL_ARTIFACT_DIR}`, runId });
      for (const alias of input.aliases ?? []) {
        if (gates !== undefined && gates.find((g) => g.alias === alias)?.verdict.improved !== true) continue;
        version = await registry.setAlias(input.register, alias, version.version);
      }
    }
    return { run: finished, training, version, gates };
  } catch (e) {
    await tracking.endRun(runId, 'FAILED').catch(() => undefined);
    throw e;
  }
}

/** The `categorical` list joins the params (where the gbdt trainer reads it), refused when given both ways. */
function mergeCategorical(params: RawTrainParams | undefined, categorical: string[] | undefined): RawTrainParams | undefined {
  if (categorical === undefined || categorical.length === 0) return params;
  if (params?.['categorical'] !== undefined) throw new FluxError('INVALID_PARAMETER_VALUE', 'categorical columns are given twice, as --categorical and as the parameter categorical; give them once', { field: 'categorical' });
  return { ...params, categorical: categorical.join(',') };
}

/** The commit of the git work tree around the current directory, or '' outside one. */
function currentGitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim();
  } catch {
    return '';
  }
}
