import { invalid } from '../core/index.js';
import {
  type BuiltinModel,
  type LogisticModel,
  MODEL_FORMAT,
  LOGISTIC_FORMAT_VERSION,
  createBuiltinScorer,
  predictionType,
} from '../models/index.js';
import { type Dataset, isNumericCell, loadCsv } from './csv.js';
import { type DataFingerprint, fingerprintDataset, selectFeatures } from './features.js';
import { type ProgressCallback, SOLVERS, type Solver, fitLogisticRegression, isSolver } from './logistic-regression.js';
import { type ClassificationMetrics, classificationMetrics } from './metrics.js';
import { stratifiedSplit, takeRows, takeValues } from './split.js';
import { buildModelProfile, type ModelProfile } from '../monitoring/index.js';
import { fitStandardizer, standardizeInPlace } from './standardize.js';
import { trainGbdt } from './gbdt/trainer.js';

/** Parameter names trainClassifier accepts (as `--param name=value` on the CLI). */
export const TRAIN_PARAM_NAMES = ['C', 'reg_rate', 'max_iter', 'solver', 'tol', 'test_size', 'seed'] as const;
export type TrainParamName = (typeof TRAIN_PARAM_NAMES)[number];
export type RawTrainParams = Partial<Record<string, string | number | undefined>>;

export interface TrainParams {
  C: number;
  maxIter: number;
  solver: Solver;
  tol: number;
  testSize: number;
  seed: number;
}

export const DEFAULT_TRAIN_PARAMS: Readonly<TrainParams> = Object.freeze({
  C: 1,
  maxIter: 100,
  solver: 'lbfgs',
  tol: 1e-4,
  testSize: 0.3,
  seed: 42,
});

export interface TrainClassifierInput {
  /** CSV text with a header row; give this or `dataset`. */
  csvText?: string;
  dataset?: Dataset;
  target: string;
  /** Columns to leave out; when absent an identifier column is detected and left out. */
  exclude?: string[];
  /** Hyperparameters, as numbers or as the strings a CLI or a sweep passes. */
  params?: RawTrainParams;
  onProgress?: ProgressCallback;
  /** Clock for the model's trainedAt (tests pin it). */
  now?: () => Date;
}

/** The built-in trainers, as `--algo` names them. */
export const TRAIN_ALGORITHMS = ['logistic_regression', 'gbdt'] as const;
export type TrainAlgorithm = (typeof TRAIN_ALGORITHMS)[number];

/** What every built-in trainer returns. */
export interface TrainResult {
  algorithm: TrainAlgorithm;
  task: 'classification' | 'regression';
  model: BuiltinModel;
  /**
   * Metrics on the held-out test rows: binary accuracy, precision, recall, f1, roc_auc, log_loss;
   * multiclass accuracy, precision_macro, recall_macro, f1_macro, log_loss; regression rmse, mae, r2.
   */
  metrics: Record<string, number>;
  /** Classification: confusion_matrix[true][predicted], classes in sorted order. */
  confusionMatrix: number[][] | undefined;
  /** Every effective parameter as a string, ready to log with the run. */
  params: Record<string, string>;
  notices: string[];
  featureNames: string[];
  trainRows: number;
  testRows: number;
  iterations: number;
  converged: boolean;
  fingerprint: DataFingerprint;
  /** The reference drift and performance estimation compare live traffic with (stored as model/profile.json). */
  profile: ModelProfile;
  /** Learning curves: metric name → value per iteration (step), logged to the run. */
  curves: Record<string, number[]>;
  /** Feature name → its share of the model's importance (gain), when the algorithm has one. */
  featureImportance: Record<string, number> | undefined;
}

export type BinaryMetrics = Omit<ClassificationMetrics, 'confusion_matrix'>;

/** What the logistic regression trainer returns: a TrainResult narrowed to its model and binary metrics. */
export interface TrainClassifierResult extends Omit<TrainResult, 'algorithm' | 'task' | 'model' | 'metrics' | 'confusionMatrix' | 'featureImportance'> {
  algorithm: 'logistic_regression';
  task: 'classification';
  model: LogisticModel;
  /** Metrics on the held-out test rows. */
  metrics: BinaryMetrics;
  confusionMatrix: number[][];
  featureImportance: undefined;
}

/**
 * Train a binary logistic regression classifier end to end: infer the table, pick the features,
 * split stratified, standardise on the training rows, fit, and score the held-out rows through
 * the same predictor that serving will use.
 */
export function trainClassifier(input: TrainClassifierInput): TrainClassifierResult {
  const params = parseTrainParams(input.params ?? {});
  if ((input.csvText === undefined) === (input.dataset === undefined)) {
    throw invalid('give exactly one of csvText or dataset');
  }
  const ds = input.dataset ?? loadCsv(input.csvText!);
  const fingerprint = fingerprintDataset(ds);
  const sel = input.exclude === undefined ? { target: input.target } : { target: input.target, exclude: input.exclude };
  const features = selectFeatures(ds, sel);
  const { featureNames, X, y, classes } = features;
  const notices = [...features.notices];
  const d = featureNames.length;

  const split = stratifiedSplit(y, params.testSize, params.seed);
  const nTrain = split.train.length;
  const Xtrain = takeRows(X, d, split.train);
  const ytrain = takeValues(y, split.train);
  const scaler = fitStandardizer(Xtrain, nTrain, d);
  standardizeInPlace(Xtrain, d, scaler);

  const fitOptions = {
    C: params.C,
    maxIter: params.maxIter,
    solver: params.solver,
    tol: params.tol,
    seed: params.seed,
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
  };
  const fit = fitLogisticRegression(Xtrain, ytrain, nTrain, d, fitOptions);
  if (!fit.converged) {
    const unit = params.solver === 'saga' ? 'epochs' : 'iterations';
    notices.push(`solver ${params.solver} did not converge in ${params.maxIter} ${unit}; raise max_iter for a fully fitted model`);
  }

  const effective = formatParams(params);
  const model: LogisticModel = {
    format: MODEL_FORMAT,
    formatVersion: LOGISTIC_FORMAT_VERSION,
    algorithm: 'logistic_regression',
    signature: {
      inputs: featureNames.map((name) => ({ name, type: 'double' as const })),
      outputs: [
        { name: 'prediction', type: predictionType(classes) },
        { name: 'probabilities', type: 'double', shape: [-1, classes.length] },
      ],
    },
    target: { name: input.target, classes },
    preprocessing: { standardize: { mean: Array.from(scaler.mean), scale: Array.from(scaler.scale) } },
    coefficients: fit.weights,
    intercept: fit.intercept,
    trainedAt: (input.now?.() ?? new Date()).toISOString(),
    params: effective,
  };

  // Score the raw test rows through the serving predictor, so the metrics are those of the model
  // as it will be deployed, folded standardisation included.
  const Xtest = takeRows(X, d, split.test);
  const ytest = takeValues(y, split.test);
  const nTest = split.test.length;
  const { probabilities } = createBuiltinScorer(model)(Xtest, nTest);
  const positive = new Float64Array(nTest);
  for (let i = 0; i < nTest; i++) positive[i] = probabilities[2 * i + 1]!;
  const { confusion_matrix: confusionMatrix, ...metrics } = classificationMetrics(ytest, positive);

  // The reference of monitoring: the inputs as trained on (raw, before standardisation), and the
  // predictions and scores of the held-out rows, which stand for live traffic of the same data.
  const columns: Record<string, Float64Array> = {};
  for (let j = 0; j < d; j++) {
    const col = new Float64Array(nTrain);
    for (let i = 0; i < nTrain; i++) col[i] = X[split.train[i]! * d + j]!;
    columns[featureNames[j]!] = col;
  }
  const profile = buildModelProfile({
    source: 'training',
    columns,
    rows: nTrain,
    predictedLabels: Array.from(positive, (p) => (p > 0.5 ? classes[1]! : classes[0]!)),
    scores: positive,
    performance: { classes: [classes[0]!, classes[1]!], threshold: 0.5, scores: Array.from(positive), labels: Array.from(ytest, (v) => (v === 1 ? 1 : 0)) },
    now: input.now?.(),
  });

  return {
    algorithm: 'logistic_regression',
    task: 'classification',
    model,
    metrics,
    confusionMatrix,
    curves: {},
    featureImportance: undefined,
    params: effective,
    notices,
    featureNames,
    trainRows: nTrain,
    testRows: nTest,
    iterations: fit.iterations,
    converged: fit.converged,
    fingerprint,
    profile,
  };
}

/** Every effective parameter as strings; reg_rate = 1/C is the reference design's name for it. */
export function formatParams(p: TrainParams): Record<string, string> {
  return {
    C: String(p.C),
    reg_rate: String(1 / p.C),
    max_iter: String(p.maxIter),
    solver: p.solver,
    tol: String(p.tol),
    test_size: String(p.testSize),
    seed: String(p.seed),
  };
}

/**
 * Parse hyperparameters given as numbers or strings ("C=0.5" on the CLI gives '0.5'). Unknown
 * names and bad values are refused with the name and the accepted range.
 */
export function parseTrainParams(raw: RawTrainParams): TrainParams {
  const known = new Set<string>(TRAIN_PARAM_NAMES);
  for (const name of Object.keys(raw)) {
    if (!known.has(name)) {
      throw invalid(`unknown parameter '${name}'; accepted parameters: ${TRAIN_PARAM_NAMES.join(', ')}`);
    }
  }
  const p: TrainParams = { ...DEFAULT_TRAIN_PARAMS };
  const C = num(raw, 'C');
  const regRate = num(raw, 'reg_rate');
  if (C !== undefined && regRate !== undefined) throw invalid('give C or reg_rate (= 1/C), not both');
  if (C !== undefined) {
    if (!(C > 0)) throw invalid(`C must be a number > 0, got ${C}`);
    p.C = C;
  }
  if (regRate !== undefined) {
    if (!(regRate > 0)) throw invalid(`reg_rate must be a number > 0, got ${regRate}`);
    p.C = 1 / regRate;
  }
  const maxIter = num(raw, 'max_iter');
  if (maxIter !== undefined) {
    if (!(Number.isInteger(maxIter) && maxIter > 0)) throw invalid(`max_iter must be a positive integer, got ${maxIter}`);
    p.maxIter = maxIter;
  }
  const tol = num(raw, 'tol');
  if (tol !== undefined) {
    if (!(tol > 0)) throw invalid(`tol must be a number > 0, got ${tol}`);
    p.tol = tol;
  }
  const testSize = num(raw, 'test_size');
  if (testSize !== undefined) {
    if (!(testSize > 0 && testSize < 1)) throw invalid(`test_size must be a fraction strictly between 0 and 1, got ${testSize}`);
    p.testSize = testSize;
  }
  const seed = num(raw, 'seed');
  if (seed !== undefined) {
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
      throw invalid(`seed must be an integer between 0 and 4294967295, got ${seed}`);
    }
    p.seed = seed;
  }
  const solver = raw['solver'];
  if (solver !== undefined) {
    const s = String(solver).trim();
    if (!isSolver(s)) throw invalid(`unknown solver '${s}'; available solvers: ${SOLVERS.join(', ')}`);
    p.solver = s;
  }
  return p;
}

function num(raw: RawTrainParams, name: TrainParamName): number | undefined {
  const v = raw[name];
  if (v === undefined) return undefined;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalid(`parameter ${name} must be a finite number, got ${v}`);
    return v;
  }
  const s = v.trim();
  if (!isNumericCell(s)) throw invalid(`parameter ${name} must be a number, got '${v}'`);
  const n = Number(s);
  if (!Number.isFinite(n)) throw invalid(`parameter ${name} must be a finite number, got '${v}'`);
  return n;
}

export interface TrainInput extends TrainClassifierInput {
  /** The trainer; default logistic_regression. A param `algo` says the same (so sweeps and pipelines can set it). */
  algo?: string | undefined;
}

/** The algorithm a training input asks for, refused by name when unknown. */
export function algorithmOf(input: Pick<TrainInput, 'algo' | 'params'>): TrainAlgorithm {
  const fromParams = input.params?.['algo'];
  if (input.algo !== undefined && fromParams !== undefined && String(fromParams).trim() !== input.algo) {
    throw invalid(`algo is given twice, as ${input.algo} and as the parameter algo=${String(fromParams)}; give it once`);
  }
  const algo = (input.algo ?? (fromParams === undefined ? 'logistic_regression' : String(fromParams))).trim();
  if (!(TRAIN_ALGORITHMS as readonly string[]).includes(algo)) throw invalid(`unknown algo '${algo}'; the built-in trainers are: ${TRAIN_ALGORITHMS.join(', ')}`);
  return algo as TrainAlgorithm;
}

/** Trains with the built-in trainer the input names: logistic regression or gradient-boosted trees. */
export function train(input: TrainInput): TrainResult {
  const algo = algorithmOf(input);
  const { algo: _algo, ...rest } = input;
  const params = { ...(input.params ?? {}) };
  delete params['algo'];
  const clean = { ...rest, params };
  return algo === 'gbdt' ? trainGbdt(clean) : trainClassifier(clean);
}
