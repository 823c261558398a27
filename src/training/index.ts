export { loadCsv, loadCsvFile, readCsvText, rowLabel } from './csv.js';
export type { ColumnType, Dataset, LoadCsvOptions } from './csv.js';
export { fingerprintDataset, selectFeatures } from './features.js';
export type { DataFingerprint, FeatureSelection, Features } from './features.js';
export { stratifiedSplit, takeRows, takeValues } from './split.js';
export type { Split } from './split.js';
export { fitStandardizer, standardize, standardizeInPlace } from './standardize.js';
export type { Standardizer } from './standardize.js';
export { SOLVERS, fitLogisticRegression, isSolver } from './logistic-regression.js';
export type { LogisticRegressionFit, LogisticRegressionOptions, ProgressCallback, Solver } from './logistic-regression.js';
export { classificationMetrics, rocAuc } from './metrics.js';
export type { ClassificationMetrics } from './metrics.js';
export { DIABETES_COLUMNS, generateDiabetesCsv } from './demo-data.js';
export { DEFAULT_TRAIN_PARAMS, TRAIN_PARAM_NAMES, formatParams, parseTrainParams, trainClassifier } from './trainer.js';
export type {
  RawTrainParams,
  TrainClassifierInput,
  TrainClassifierResult,
  TrainParamName,
  TrainParams,
} from './trainer.js';
export { Random } from '../core/index.js';
export { trainOffThread } from './train-off-thread.js';
