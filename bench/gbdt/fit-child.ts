/**
 * The FluxOps side of bench/gbdt.ts, in a process of its own so that its peak RSS is its own and
 * it never shares the cores with the Python libraries: loads a data set and split (untimed),
 * times `fitGbdt` on the training matrix with the options trainGbdt would use (scikit-learn's
 * defaults, early stopping above 10,000 rows, parallel histograms for large data), then scores
 * the test rows through the served predictor. Prints one JSON line (LibResult).
 *
 * Usage: node dist-bench/bench/gbdt/fit-child.js spec.json
 */
import fs from 'node:fs';
import path from 'node:path';
import { createPredictor } from '../../src/models/index.js';
import { gbdtFitOptions } from '../../src/training/gbdt/trainer.js';
import { toGbdtModel } from '../../src/training/gbdt/to-model.js';
import {
  type GbdtFit,
  type GbdtLoss,
  classificationMetrics,
  fitGbdt,
  loadCsv,
  multiclassMetrics,
  parseGbdtParams,
  regressionMetrics,
  selectTabular,
  takeRows,
  takeValues,
} from '../../src/training/index.js';
import { ROOT } from '../support.js';
import { type FitChildSpec, type LibResult, cpuMeter, median, readNpy, readSplit } from './data.js';

interface Table {
  X: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
  featureNames: string[];
  types: ('double' | 'string')[];
  categories: ((number | string)[] | null)[];
  categorical: Uint8Array;
  classes: (number | string)[] | undefined;
}

function load(spec: FitChildSpec): Table {
  const src = spec.source;
  if (src.kind === 'csv') {
    const ds = loadCsv(fs.readFileSync(src.csv, 'utf8'), { source: src.csv });
    const f = selectTabular(ds, { target: src.target, exclude: src.exclude, task: spec.task === 'regression' ? 'regression' : 'classification' });
    return { X: f.X, y: f.y, n: f.rowCount, d: f.featureNames.length, featureNames: f.featureNames, types: f.types, categories: f.categories, categorical: f.categorical, classes: f.classes };
  }
  const { data: X, shape } = readNpy(src.x);
  const { data: yRaw } = readNpy(src.y);
  const [n, d] = shape as [number, number];
  let y = yRaw;
  let classes: number[] | undefined;
  if (spec.task !== 'regression') {
    // Labels become their positions in sorted order, as selectTabular (and reference.py) do.
    classes = [...new Set(yRaw)].sort((a, b) => a - b);
    const pos = new Map(classes.map((c, i) => [c, i]));
    y = Float64Array.from(yRaw, (v) => pos.get(v)!);
  }
  const featureNames = Array.from({ length: d }, (_, j) => `x${j}`);
  return { X, y, n, d, featureNames, types: featureNames.map(() => 'double'), categories: featureNames.map(() => null), categorical: new Uint8Array(d), classes };
}

function main(): void {
  const specFile = process.argv[2];
  if (specFile === undefined) throw new Error('usage: fit-child.js spec.json');
  const spec = JSON.parse(fs.readFileSync(specFile, 'utf8')) as FitChildSpec;
  const t = load(spec);
  const split = readSplit(spec.split);
  const { d } = t;
  const nTrain = split.train.length;
  const nTest = split.test.length;
  const Xtrain = takeRows(t.X, d, split.train);
  const ytrain = takeValues(t.y, split.train);
  const Xtest = takeRows(t.X, d, split.test);
  const ytest = takeValues(t.y, split.test);
  // Heartbeats for the parent's hang detection (one short synchronous write per iteration).
  const progress = (what: string): void => void process.stderr.write(`progress ${what}\n`);
  progress('loaded');

  const fits: number[] = [];
  // The options trainGbdt builds from no --param at all (parseGbdtParams's defaults are scikit-learn's).
  const p = parseGbdtParams({});
  const k = t.classes?.length ?? 0;
  const loss: GbdtLoss = spec.task === 'regression' ? 'squared_error' : 'log_loss';
  const { options, earlyStopping, threads } = gbdtFitOptions(
    spec.threads > 0 ? { ...p, threads: spec.threads } : p,
    { loss, nClasses: Math.max(k, 2), rows: nTrain, features: d, categorical: t.categorical, sampleWeight: null, onIteration: (i) => progress(`fit ${fits.length + 1} iteration ${i.iteration}`) },
  );

  let fit: GbdtFit | undefined;
  const meter = cpuMeter();
  for (let r = 0; r < Math.max(1, spec.repeats); r++) {
    fit = undefined; // let the previous fit go before the next one allocates
    const t0 = performance.now();
    fit = fitGbdt(Xtrain, ytrain, nTrain, d, options);
    fits.push((performance.now() - t0) / 1000);
  }
  const cpu = meter();
  if (fit === undefined) throw new Error('no fit');

  const model = toGbdtModel(fit, {
    task: spec.task === 'regression' ? 'regression' : spec.task === 'binary' ? 'binary_classification' : 'multiclass_classification',
    loss,
    featureNames: t.featureNames,
    types: t.types,
    categories: t.categories,
    target: spec.source.kind === 'csv' ? spec.source.target : 'y',
    classes: t.classes,
    trainedAt: new Date().toISOString(),
    params: { algo: 'gbdt', threads: String(threads), early_stopping: String(earlyStopping) },
  });
  const predictor = createPredictor(model);
  const predict = predictor.predictMatrixSync!.bind(predictor);
  predict(Xtest, nTest); // one untimed call, as reference.py
  const t0 = performance.now();
  let reps = 0;
  let pred;
  do {
    pred = predict(Xtest, nTest);
    reps++;
  } while (performance.now() - t0 <= 500);
  const predictSeconds = (performance.now() - t0) / 1000 / reps;

  let metrics: Record<string, number>;
  if (spec.task === 'regression') {
    metrics = { ...regressionMetrics(ytest, pred.values!) };
  } else if (spec.task === 'binary') {
    const positive = new Float64Array(nTest);
    for (let i = 0; i < nTest; i++) positive[i] = pred.probabilities![2 * i + 1]!;
    const { confusion_matrix: _cm, ...scalar } = classificationMetrics(ytest, positive);
    metrics = scalar;
  } else {
    const { confusion_matrix: _cm, ...scalar } = multiclassMetrics(ytest, pred.probabilities!, k);
    metrics = scalar;
  }
  const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const out: LibResult = {
    lib: 'fluxops',
    version,
    threads,
    metrics,
    fit_seconds: median(fits),
    fit_seconds_all: fits,
    train_rows: nTrain,
    test_rows: nTest,
    predict_rows_per_second: nTest / predictSeconds,
    iterations: fit.iterations,
    early_stopping: fit.validationRows > 0,
    // maxRSS is in kilobytes.
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    fit_cpu_cores: cpu.ownCores,
    other_cpu_cores: cpu.otherCores,
    validation_rows: fit.validationRows,
  };
  console.log(JSON.stringify(out));
}

main();
