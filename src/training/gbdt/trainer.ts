import os from 'node:os';
import { type GbdtModel, compileEnsemble, createGbdtScorer } from '../../models/index.js';
import { buildModelProfile } from '../../monitoring/index.js';
import { type Dataset, loadCsv } from '../csv.js';
import { fingerprintDataset, selectTabular } from '../features.js';
import { classificationMetrics, multiclassMetrics, regressionMetrics } from '../metrics.js';
import { randomSplit, stratifiedSplit, takeRows, takeValues } from '../split.js';
import type { TrainClassifierInput, TrainResult } from '../trainer.js';
import { type GbdtOptions, type IterationInfo, fitGbdt } from './boosting.js';
import { type GbdtLoss, meanLoss } from './losses.js';
import { parallelBuilder } from './parallel.js';
import { type GbdtParams, formatGbdtParams, parseGbdtParams } from './params.js';
import { toGbdtModel } from './to-model.js';

/** Above this many training cells histograms are built on several threads (below, the hand-offs cost more than they save). */
const PARALLEL_MIN_CELLS = 2_000_000;
/** Rows above which early_stopping=auto holds out a validation fraction (scikit-learn's rule). */
const AUTO_EARLY_STOPPING_ROWS = 10_000;
/** Most threads `threads=auto` takes. */
const MAX_AUTO_THREADS = 4;

/**
 * The fit options parsed parameters give for a training matrix of `rows` × `features`: early
 * stopping when auto (on above 10,000 rows), threads when auto (both cores above 2,000,000
 * cells). What trainGbdt fits with, and what the benchmark times.
 */
export function gbdtFitOptions(
  p: GbdtParams,
  a: { loss: GbdtLoss; nClasses: number; rows: number; features: number; categorical: Uint8Array; sampleWeight: Float64Array | null; onIteration?: ((i: IterationInfo) => void) | undefined },
): { options: GbdtOptions; earlyStopping: boolean; threads: number } {
  const earlyStopping = p.earlyStopping === 'auto' ? a.rows > AUTO_EARLY_STOPPING_ROWS : p.earlyStopping;
  const threads = p.threads > 0 ? p.threads : a.rows * a.features >= PARALLEL_MIN_CELLS ? Math.min(os.availableParallelism(), MAX_AUTO_THREADS) : 1;
  const options: GbdtOptions = {
    loss: a.loss,
    nClasses: a.nClasses,
    learningRate: p.learningRate,
    maxIter: p.maxIter,
    maxLeafNodes: p.maxLeafNodes,
    maxDepth: p.maxDepth,
    minSamplesLeaf: p.minSamplesLeaf,
    l2Regularization: p.l2Regularization,
    maxBins: p.maxBins,
    earlyStopping,
    validationFraction: p.validationFraction,
    nIterNoChange: p.nIterNoChange,
    tol: p.tol,
    seed: p.seed,
    categorical: a.categorical,
    sampleWeight: a.sampleWeight,
    histogramBuilder: threads > 1 ? (data, apply) => parallelBuilder(data, threads, apply) : undefined,
    onIteration: a.onIteration,
  };
  return { options, earlyStopping, threads };
}

/**
 * Trains gradient-boosted trees end to end: infer the table (text columns are categorical, empty
 * cells are missing values), split (stratified for classification), fit, and score the held-out
 * rows through the serving predictor. Learning curves (loss per iteration on the training,
 * validation and test rows) come back for the run.
 */
export function trainGbdt(input: TrainClassifierInput): TrainResult {
  const p = parseGbdtParams(input.params ?? {});
  const ds: Dataset = input.dataset ?? loadCsv(input.csvText!);
  const fingerprint = fingerprintDataset(ds);
  const task = p.loss === 'auto' ? 'auto' : p.loss === 'log_loss' ? 'classification' : 'regression';
  const f = selectTabular(ds, { target: input.target, ...(input.exclude !== undefined ? { exclude: input.exclude } : {}), task, categorical: p.categorical });
  const loss: GbdtLoss = p.loss !== 'auto' ? p.loss : f.task === 'classification' ? 'log_loss' : 'squared_error';
  const d = f.featureNames.length;
  const classes = f.classes;
  const k = classes?.length ?? 0;
  const split = f.task === 'classification' ? stratifiedSplit(f.y, p.testSize, p.seed) : randomSplit(f.rowCount, p.testSize, p.seed);
  const nTrain = split.train.length;
  const Xtrain = takeRows(f.X, d, split.train);
  const ytrain = takeValues(f.y, split.train);
  let sampleWeight: Float64Array | null = null;
  if (p.classWeight === 'balanced' && classes !== undefined) {
    const counts = new Float64Array(k);
    for (const y of ytrain) counts[y]!++;
    sampleWeight = new Float64Array(nTrain);
    for (let i = 0; i < nTrain; i++) sampleWeight[i] = nTrain / (k * counts[ytrain[i]!]!);
  }
  const onIteration = input.onProgress === undefined ? undefined : (i: IterationInfo) => input.onProgress!(i.iteration, i.maxIter, i.validationLoss ?? i.trainLoss);
  const { options, earlyStopping, threads } = gbdtFitOptions(p, { loss, nClasses: Math.max(k, 2), rows: nTrain, features: d, categorical: f.categorical, sampleWeight, onIteration });
  const fit = fitGbdt(Xtrain, ytrain, nTrain, d, options);
  const params = formatGbdtParams(p, { loss, earlyStopping, threads });
  const taskName = f.task === 'regression' ? 'regression' : k === 2 ? 'binary_classification' : 'multiclass_classification';
  const model: GbdtModel = toGbdtModel(fit, {
    task: taskName,
    loss,
    featureNames: f.featureNames,
    types: f.types,
    categories: f.categories,
    target: input.target,
    classes,
    trainedAt: (input.now?.() ?? new Date()).toISOString(),
    params,
  });

  // The held-out rows through the serving predictor: the metrics are the deployed model's.
  const nTest = split.test.length;
  const Xtest = takeRows(f.X, d, split.test);
  const ytest = takeValues(f.y, split.test);
  const scored = createGbdtScorer(model).score(Xtest, nTest);
  let metrics: Record<string, number>;
  let confusionMatrix: number[][] | undefined;
  let positive: Float64Array | undefined;
  if (f.task === 'regression') {
    metrics = { ...regressionMetrics(ytest, scored.values!) };
  } else if (k === 2) {
    positive = new Float64Array(nTest);
    for (let i = 0; i < nTest; i++) positive[i] = scored.probabilities![2 * i + 1]!;
    const { confusion_matrix, ...scalar } = classificationMetrics(ytest, positive);
    metrics = scalar;
    confusionMatrix = confusion_matrix;
  } else {
    const { confusion_matrix, ...scalar } = multiclassMetrics(ytest, scored.probabilities!, k);
    metrics = scalar;
    confusionMatrix = confusion_matrix;
  }

  const curves: Record<string, number[]> = { train_loss: fit.trainLoss };
  if (fit.validationLoss.length > 0) curves['validation_loss'] = fit.validationLoss;
  curves[loss === 'squared_error' ? 'test_rmse' : loss === 'absolute_error' ? 'test_mae' : 'test_log_loss'] = stagedTestLoss(model, Xtest, ytest, nTest, loss);

  const columns: Record<string, Float64Array | string[]> = {};
  for (let j = 0; j < d; j++) {
    const cats = f.types[j] === 'string' ? (f.categories[j] as string[]) : null;
    if (cats !== null) {
      columns[f.featureNames[j]!] = Array.from(split.train, (r) => {
        const code = f.X[r * d + j]!;
        return Number.isNaN(code) ? '' : cats[code]!;
      });
    } else {
      const col = new Float64Array(nTrain);
      for (let i = 0; i < nTrain; i++) col[i] = Xtrain[i * d + j]!;
      columns[f.featureNames[j]!] = col;
    }
  }
  const profile = buildModelProfile({
    source: 'training',
    columns,
    rows: nTrain,
    ...(scored.labels !== undefined ? { predictedLabels: scored.labels } : {}),
    scores: positive ?? scored.values ?? maxProbability(scored.probabilities!, k),
    ...(positive !== undefined && classes !== undefined
      ? { performance: { classes: [classes[0]!, classes[1]!], threshold: 0.5, scores: Array.from(positive), labels: Array.from(ytest, (v) => (v === 1 ? 1 : 0)) } }
      : {}),
    now: input.now?.(),
  });
  const notices = [...f.notices];
  if (fit.stoppedEarly) notices.push(`early stopping after ${fit.iterations} of ${p.maxIter} iterations: the validation loss stopped improving`);
  return {
    algorithm: 'gbdt',
    task: f.task,
    model,
    metrics,
    confusionMatrix,
    params,
    notices,
    featureNames: f.featureNames,
    trainRows: nTrain,
    testRows: nTest,
    iterations: fit.iterations,
    converged: true,
    fingerprint,
    profile,
    curves,
    featureImportance: Object.fromEntries(f.featureNames.map((name, j) => [name, model.featureImportance[j]!])),
  };
}

/**
 * The test loss after each iteration (index 0: the baseline alone), from the model's own trees:
 * log loss, RMSE (from the halved squared error meanLoss optimises) or MAE.
 */
function stagedTestLoss(model: GbdtModel, X: Float64Array, y: Float64Array, n: number, loss: GbdtLoss): number[] {
  const ens = compileEnsemble(model);
  const out: number[] = [];
  ens.staged(X, n, (raw) => {
    const l = meanLoss(loss, ens.K, raw, y, null);
    out.push(loss === 'squared_error' ? Math.sqrt(2 * l) : l);
  });
  return out;
}

function maxProbability(prob: Float64Array, k: number): Float64Array {
  const n = prob.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let c = 0; c < k; c++) m = Math.max(m, prob[i * k + c]!);
    out[i] = m;
  }
  return out;
}
