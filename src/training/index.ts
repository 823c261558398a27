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
export { TRAIN_ALGORITHMS, algorithmOf, train } from './trainer.js';
export type { BinaryMetrics, TrainAlgorithm, TrainInput, TrainResult } from './trainer.js';
export { trainGbdt } from './gbdt/trainer.js';
export { fitGbdt } from './gbdt/boosting.js';
export type { GbdtFit, GbdtOptions, IterationInfo } from './gbdt/boosting.js';
export { GBDT_PARAM_NAMES, GBDT_PARAM_SPECS, parseGbdtParams } from './gbdt/params.js';
export type { GbdtParams } from './gbdt/params.js';
export { GBDT_LOSSES } from './gbdt/losses.js';
export type { GbdtLoss } from './gbdt/losses.js';
export { MAX_CATEGORIES, selectTabular } from './features.js';
export type { TabularFeatures, TabularSelection, TabularTask } from './features.js';
export { multiclassMetrics, regressionMetrics } from './metrics.js';
export type { MulticlassMetrics, RegressionMetrics } from './metrics.js';
export { randomSplit } from './split.js';
export { generateBinaryMatrix, generateFriedmanCsv, generateMulticlassCsv } from './synthetic.js';
