/**
 * Gradient-boosted trees: FluxOps's histogram GBDT (`fitGbdt`) against scikit-learn's
 * HistGradientBoosting and XGBoost's hist method, on the same rows and the same train/test split.
 * Each library runs in a child process of its own, one after another (never two at once, so none
 * competes for the cores): bench/gbdt/fit-child.ts for FluxOps, bench/gbdt/reference.py for the
 * Python libraries. Figures per data set and library:
 *
 * - fit seconds: `fitGbdt` / `model.fit` on the training matrix alone (binning and boosting,
 *   including the early-stopping hold-out), FluxOps with the options trainGbdt uses by default
 *   (scikit-learn's defaults; parallel histograms above 2M training cells); the median of
 *   `--repeats` fits on the small data sets, one fit on the large one. Loading and parsing are
 *   not timed. Target: FluxOps / scikit-learn ≤ 1.5.
 * - the CPU each child kept busy while fitting (cores) and what other processes used meanwhile
 *   (others, from /proc/stat): before each child the bench waits (up to --idle-wait s) for the
 *   machine to be idle, and flags a figure fitted beside more than 0.25 cores of other work.
 * - iterations, test metrics (F1/AUC, accuracy/F1 macro or RMSE/R²), prediction rows/s on the
 *   test rows in one batch (FluxOps: `createPredictor(model).predictMatrixSync`), and the peak RSS
 *   of the child process (it includes the data it holds).
 *
 * Data sets: diabetes (../shared/data/diabetes.csv; skipped when absent), Friedman #1 regression
 * (seed 7) and the four-class problem (seed 11), 20,000 rows each by default (the quality test
 * test/unit/training.gbdt-quality.test.ts uses Friedman at 20,000 and the four classes at
 * 10,000: --multiclass-rows 10000), and a 1,000,000 × 20 binary matrix
 * (`generateBinaryMatrix`, handed to Python as .npy). Splits: 70/30, stratified for classes,
 * seed 42, as trainGbdt splits.
 *
 * Usage: npm run bench:gbdt -- [--only diabetes,friedman,multiclass,big] [--rows 1000000]
 *   [--features 20] [--friedman-rows 20000] [--multiclass-rows 20000] [--repeats 5] [--libs fluxops,sklearn,xgboost]
 *   [--threads N] [--python /usr/bin/python3] [--diabetes PATH] [--idle-wait 15] [--cpu-prof-dir DIR]
 *   [--keep] [--json]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  generateBinaryMatrix,
  generateFriedmanCsv,
  generateMulticlassCsv,
  loadCsv,
  parseGbdtParams,
  randomSplit,
  selectTabular,
  stratifiedSplit,
} from '../src/training/index.js';
import { type DataSource, type FitChildSpec, type GbdtBenchTask, type LibResult, machineBusySeconds, writeNpy, writeSplit } from './gbdt/data.js';
import { fmt, isMain, machine, ROOT, seconds } from './support.js';

/** FluxOps fit seconds / scikit-learn fit seconds, at most. */
export const GBDT_FIT_TARGET_RATIO = 1.5;

export const GBDT_DATASETS = ['diabetes', 'friedman', 'multiclass', 'big'] as const;
export type GbdtDatasetName = (typeof GBDT_DATASETS)[number];
export const GBDT_LIBS = ['fluxops', 'sklearn', 'xgboost'] as const;
export type GbdtLib = (typeof GBDT_LIBS)[number];

/** scikit-learn's defaults, spelled out so a change of defaults in another version shows here. */
const SKLEARN_PARAMS = {
  learning_rate: 0.1,
  max_iter: 100,
  max_leaf_nodes: 31,
  min_samples_leaf: 20,
  l2_regularization: 0,
  max_bins: 255,
  early_stopping: 'auto',
  validation_fraction: 0.1,
  n_iter_no_change: 10,
  tol: 1e-7,
  random_state: 42,
};
/**
 * XGBoost grown like the others: leaf-wise (lossguide) to 31 leaves, no depth limit, 255 bins,
 * 100 rounds at 0.1. Left at XGBoost's defaults (so not the same trees): reg_lambda 1 (scikit-learn
 * l2 0), min_child_weight 1 (a hessian sum, not 20 rows), no early stopping (always 100 rounds).
 */
const XGBOOST_PARAMS = { n_estimators: 100, max_depth: 0, grow_policy: 'lossguide', max_leaves: 31, learning_rate: 0.1, max_bin: 255, random_state: 42 };

export interface GbdtBenchOptions {
  only: GbdtDatasetName[];
  rows: number;
  features: number;
  friedmanRows: number;
  multiclassRows: number;
  repeats: number;
  libs: GbdtLib[];
  threads: number;
  python: string;
  diabetesCsv: string;
  cpuProfDir: string | undefined;
  keep: boolean;
  /** Before each child, wait up to this many seconds for the other processes to leave the CPU idle. */
  idleWait: number;
}

export interface GbdtDatasetResult {
  name: GbdtDatasetName;
  description: string;
  task: GbdtBenchTask;
  rows: number;
  features: number;
  trainRows: number;
  testRows: number;
  repeats: number;
  skipped?: string;
  results: Partial<Record<GbdtLib, LibResult & { wall_seconds: number }>>;
  errors: Partial<Record<GbdtLib, string>>;
  /** Runs killed because they stopped making progress (then run again, up to HANG_RETRIES times). */
  hangs: Partial<Record<GbdtLib, string[]>>;
  /** Libraries that fitted beside more than DISTURBED_CORES of other processes' work: their times are inflated. */
  disturbed: GbdtLib[];
  /** FluxOps fit seconds / scikit-learn's, and / XGBoost's. */
  ratioSklearn?: number;
  ratioXgboost?: number;
  pass?: boolean;
}

export interface GbdtBenchResult {
  machine: string;
  targetRatio: number;
  datasets: GbdtDatasetResult[];
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIT_CHILD = path.join(HERE, 'gbdt', 'fit-child.js');
const REFERENCE_PY = path.join(ROOT, 'bench', 'gbdt', 'reference.py');
const CHILD_TIMEOUT_MS = 20 * 60_000;
/**
 * The FluxOps child prints a `progress` line to stderr after loading and after every boosting
 * iteration; this long without one, it is taken to hang (threads deadlocked, say), killed, reported
 * and run again.
 */
const STALL_SECONDS = seconds('FLUXOPS_BENCH_GBDT_STALL_S', 120);
const HANG_RETRIES = 1;
/** Other processes' CPU (cores) below which the machine counts as idle, and above which a figure is flagged. */
const IDLE_CORES = 0.15;
const DISTURBED_CORES = 0.25;

interface Prepared {
  name: GbdtDatasetName;
  description: string;
  task: GbdtBenchTask;
  rows: number;
  features: number;
  source: DataSource;
  split: string;
  trainRows: number;
  testRows: number;
  repeats: number;
}

/** The split trainGbdt makes: test_size 0.3 and seed 42 (its defaults), stratified on the classes. */
function trainerSplit(y: Float64Array, task: GbdtBenchTask): { train: Uint32Array; test: Uint32Array } {
  const p = parseGbdtParams({});
  return task === 'regression' ? randomSplit(y.length, p.testSize, p.seed) : stratifiedSplit(y, p.testSize, p.seed);
}

function prepareCsv(dir: string, name: GbdtDatasetName, description: string, csv: string, target: string, exclude: string[], task: GbdtBenchTask, repeats: number): Prepared {
  const f = selectTabular(loadCsv(fs.readFileSync(csv, 'utf8'), { source: csv }), { target, exclude, task: task === 'regression' ? 'regression' : 'classification' });
  const split = trainerSplit(f.y, task);
  const splitFile = path.join(dir, `${name}.split.json`);
  writeSplit(splitFile, split);
  return { name, description, task, rows: f.rowCount, features: f.featureNames.length, source: { kind: 'csv', csv, target, exclude }, split: splitFile, trainRows: split.train.length, testRows: split.test.length, repeats };
}

function prepare(dir: string, name: GbdtDatasetName, o: GbdtBenchOptions): Prepared | string {
  switch (name) {
    case 'diabetes':
      if (!fs.existsSync(o.diabetesCsv)) return `${o.diabetesCsv} is absent (pass --diabetes PATH)`;
      return prepareCsv(dir, name, 'diabetes.csv, target Diabetic, PatientID excluded', o.diabetesCsv, 'Diabetic', ['PatientID'], 'binary', o.repeats);
    case 'friedman': {
      const csv = path.join(dir, 'friedman.csv');
      fs.writeFileSync(csv, generateFriedmanCsv(o.friedmanRows, 7));
      return prepareCsv(dir, name, `generateFriedmanCsv(${o.friedmanRows}, 7), target y`, csv, 'y', [], 'regression', o.repeats);
    }
    case 'multiclass': {
      const csv = path.join(dir, 'multiclass.csv');
      fs.writeFileSync(csv, generateMulticlassCsv(o.multiclassRows, 11));
      return prepareCsv(dir, name, `generateMulticlassCsv(${o.multiclassRows}, 11), target label, 4 classes, 5 % missing, a text column`, csv, 'label', [], 'multiclass', o.repeats);
    }
    case 'big': {
      const { X, y } = generateBinaryMatrix(o.rows, o.features, 1);
      const x = path.join(dir, 'big.X.npy');
      const yFile = path.join(dir, 'big.y.npy');
      writeNpy(x, X, [o.rows, o.features]);
      writeNpy(yFile, y, [o.rows]);
      const split = trainerSplit(y, 'binary');
      const splitFile = path.join(dir, 'big.split.json');
      writeSplit(splitFile, split);
      return { name, description: `generateBinaryMatrix(${o.rows}, ${o.features}, 1), as .npy`, task: 'binary', rows: o.rows, features: o.features, source: { kind: 'npy', x, y: yFile }, split: splitFile, trainRows: split.train.length, testRows: split.test.length, repeats: 1 };
    }
  }
}

/**
 * Waits until a one-second sample of the machine's busy CPU is below IDLE_CORES (this process is
 * idle meanwhile, so it is other processes' work), for at most maxSeconds; returns the seconds waited
 * and the last sample (null off Linux).
 */
async function waitForIdle(maxSeconds: number): Promise<{ waited: number; cores: number | null }> {
  const t0 = performance.now();
  for (;;) {
    const b0 = machineBusySeconds();
    if (b0 === null) return { waited: 0, cores: null };
    const s0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const cores = (machineBusySeconds()! - b0) / ((performance.now() - s0) / 1000);
    const waited = (performance.now() - t0) / 1000;
    if (cores < IDLE_CORES || waited >= maxSeconds) return { waited, cores };
  }
}

/** A child that stopped making progress (killed). */
class ChildHung extends Error {}

/**
 * Runs a child to completion and parses the last line of its output as its result. With
 * stallSeconds, a child that prints no `progress` line to stderr for that long is killed
 * (ChildHung).
 */
function runChild(cmd: string, args: string[], label: string, stallSeconds?: number): Promise<LibResult & { wall_seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let lastProgress = 'none';
    let stalled = false;
    let stall: NodeJS.Timeout | undefined;
    const armStall = (): void => {
      if (stallSeconds === undefined) return;
      clearTimeout(stall);
      stall = setTimeout(() => {
        stalled = true;
        child.kill('SIGKILL');
      }, stallSeconds * 1000);
    };
    armStall();
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      const progress = text.match(/^progress .*$/gm);
      if (progress !== null) {
        lastProgress = progress[progress.length - 1]!.slice('progress '.length);
        armStall();
      }
      err += text.replace(/^progress .*\n?/gm, '');
      if (err.length > 100_000) err = err.slice(-50_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      clearTimeout(stall);
    };
    child.once('error', (e) => {
      done();
      reject(new Error(`${label}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      done();
      if (stalled) {
        reject(new ChildHung(`${label} hung: no progress for ${stallSeconds} s after '${lastProgress}' (killed)`));
        return;
      }
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`${label} exited with ${signal ?? code}\n${out.slice(-2000)}${err.slice(-4000)}`));
        return;
      }
      resolve({ ...(JSON.parse(last) as LibResult), wall_seconds: (performance.now() - t0) / 1000 });
    });
  });
}

function runLib(lib: GbdtLib, p: Prepared, dir: string, o: GbdtBenchOptions): Promise<LibResult & { wall_seconds: number }> {
  if (lib === 'fluxops') {
    const spec: FitChildSpec = { name: p.name, task: p.task, source: p.source, split: p.split, repeats: p.repeats, threads: o.threads };
    const specFile = path.join(dir, `${p.name}.fluxops.json`);
    fs.writeFileSync(specFile, JSON.stringify(spec));
    const prof = o.cpuProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=gbdt-${p.name}-${Date.now()}.cpuprofile`] : [];
    return runChild(process.execPath, [...prof, FIT_CHILD, specFile], `FluxOps on ${p.name}`, STALL_SECONDS);
  }
  const src = p.source.kind === 'csv' ? ['--csv', p.source.csv, '--target', p.source.target, '--exclude', p.source.exclude.join(',')] : ['--npy', p.source.x, '--y', p.source.y];
  const params = lib === 'sklearn' ? SKLEARN_PARAMS : XGBOOST_PARAMS;
  const args = [REFERENCE_PY, ...src, '--split', p.split, '--task', p.task, '--lib', lib, '--params', JSON.stringify(params), '--repeats', String(p.repeats)];
  return runChild(o.python, args, `${lib} on ${p.name}`);
}

const LABEL: Record<GbdtLib, string> = { fluxops: 'FluxOps', sklearn: 'scikit-learn', xgboost: 'XGBoost' };
const METRICS: Record<GbdtBenchTask, string[]> = { binary: ['f1', 'roc_auc', 'accuracy'], multiclass: ['accuracy', 'f1_macro', 'log_loss'], regression: ['rmse', 'r2'] };

export async function runGbdtBench(o: GbdtBenchOptions, log: (line: string) => void = console.log): Promise<GbdtBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-bench-gbdt-'));
  const result: GbdtBenchResult = { machine: machine(), targetRatio: GBDT_FIT_TARGET_RATIO, datasets: [] };
  try {
    for (const name of GBDT_DATASETS.filter((n) => o.only.includes(n))) {
      const p = prepare(dir, name, o);
      if (typeof p === 'string') {
        log(`\n== ${name}: skipped: ${p}`);
        result.datasets.push({ name, description: '', task: 'binary', rows: 0, features: 0, trainRows: 0, testRows: 0, repeats: 0, skipped: p, results: {}, errors: {}, hangs: {}, disturbed: [] });
        continue;
      }
      const ds: GbdtDatasetResult = { name, description: p.description, task: p.task, rows: p.rows, features: p.features, trainRows: p.trainRows, testRows: p.testRows, repeats: p.repeats, results: {}, errors: {}, hangs: {}, disturbed: [] };
      result.datasets.push(ds);
      log(`\n== ${name}: ${p.description}; ${fmt(p.rows)} rows × ${p.features} features, ${p.task}; train ${fmt(p.trainRows)} / test ${fmt(p.testRows)}; ${p.repeats === 1 ? '1 fit' : `median of ${p.repeats} fits`}`);
      for (const lib of o.libs) {
        for (let attempt = 0; ; attempt++) {
          if (o.idleWait > 0) {
            const idle = await waitForIdle(o.idleWait);
            if (idle.cores !== null && idle.cores >= IDLE_CORES) log(`   (other processes still use ${idle.cores.toFixed(2)} cores after ${idle.waited.toFixed(0)} s of waiting; running ${LABEL[lib]} anyway)`);
          }
          try {
            ds.results[lib] = await runLib(lib, p, dir, o);
            break;
          } catch (e) {
            const message = (e as Error).message;
            if (e instanceof ChildHung) (ds.hangs[lib] ??= []).push(message);
            if (e instanceof ChildHung && attempt < HANG_RETRIES) {
              log(`   ${message}; running it again`);
              continue;
            }
            ds.errors[lib] = message;
            log(`   ${LABEL[lib]} failed: ${message}`);
            break;
          }
        }
      }
      const flux = ds.results.fluxops;
      const sk = ds.results.sklearn;
      const xg = ds.results.xgboost;
      if (flux && sk) ds.ratioSklearn = flux.fit_seconds / sk.fit_seconds;
      if (flux && xg) ds.ratioXgboost = flux.fit_seconds / xg.fit_seconds;
      if (ds.ratioSklearn !== undefined) ds.pass = ds.ratioSklearn <= GBDT_FIT_TARGET_RATIO;
      ds.disturbed = GBDT_LIBS.filter((lib) => (ds.results[lib]?.other_cpu_cores ?? 0) > DISTURBED_CORES);
      printDataset(ds, log);
    }
  } finally {
    if (o.keep) log(`\ndata and splits kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

function printDataset(ds: GbdtDatasetResult, log: (line: string) => void): void {
  const metrics = METRICS[ds.task];
  const head = ['library', 'fit s', 'fits (s)', 'iters', ...metrics, 'predict rows/s', 'peak RSS MB', 'threads', 'cores', 'others', 'wall s'];
  const rows: string[][] = [];
  for (const lib of GBDT_LIBS) {
    const r = ds.results[lib];
    if (r === undefined) continue;
    const all = r.fit_seconds_all.length > 1 ? r.fit_seconds_all.map((s) => s.toFixed(3)).join(' ') : '';
    rows.push([
      `${LABEL[lib]} ${r.version}`,
      r.fit_seconds.toFixed(3),
      all,
      r.iterations === null ? '?' : String(r.iterations) + (r.early_stopping ? ' (es)' : ''),
      ...metrics.map((m) => (r.metrics[m] === undefined ? '' : r.metrics[m].toFixed(4))),
      fmt(r.predict_rows_per_second),
      fmt(r.peak_rss_mb),
      r.threads === null ? '?' : String(r.threads),
      r.fit_cpu_cores === null ? '?' : r.fit_cpu_cores.toFixed(2),
      r.other_cpu_cores === null ? '?' : r.other_cpu_cores.toFixed(2),
      r.wall_seconds.toFixed(1),
    ]);
  }
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => '   ' + cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  log(line(head));
  for (const r of rows) log(line(r));
  log('   (es): early stopping on (a validation fraction held out); fits (s): each timed fit; cores: the library\'s CPU per second of fitting; others: other processes\' CPU meanwhile');
  if (ds.disturbed.length > 0) log(`   warning: other processes used more than ${DISTURBED_CORES} cores while ${ds.disturbed.map((l) => LABEL[l]).join(', ')} fitted: those times are inflated`);
  if (ds.ratioSklearn !== undefined) {
    log(`   >>> FluxOps / scikit-learn fit time: ${ds.ratioSklearn.toFixed(2)}× (target ≤ ${GBDT_FIT_TARGET_RATIO}) ${ds.pass ? 'PASS' : 'ABOVE TARGET'}`);
  }
  if (ds.ratioXgboost !== undefined) log(`   FluxOps / XGBoost fit time: ${ds.ratioXgboost.toFixed(2)}×`);
}

export function printGbdtSummary(r: GbdtBenchResult, log: (line: string) => void = console.log): void {
  log('\n==== GBDT fit: FluxOps / scikit-learn (target ≤ 1.5) ====');
  for (const ds of r.datasets) {
    if (ds.skipped !== undefined) {
      log(`gbdt     ${ds.name.padEnd(10)} skipped: ${ds.skipped}`);
      continue;
    }
    const f = ds.results.fluxops;
    const s = ds.results.sklearn;
    const x = ds.results.xgboost;
    const part = (label: string, v: LibResult | undefined): string => (v === undefined ? `${label} –` : `${label} ${v.fit_seconds.toFixed(3)} s (${v.iterations ?? '?'} it)`);
    log(
      `gbdt     ${ds.name.padEnd(10)} ${part('FluxOps', f)}  ${part('sklearn', s)}  ${part('xgboost', x)}  ` +
        (ds.ratioSklearn !== undefined ? `ratio ${ds.ratioSklearn.toFixed(2)}× ${ds.pass ? 'PASS' : 'ABOVE TARGET'}` : 'ratio –') +
        (ds.disturbed.length > 0 ? `  (disturbed: ${ds.disturbed.join(', ')})` : ''),
    );
    for (const lib of GBDT_LIBS) {
      const h = ds.hangs[lib];
      if (h !== undefined) log(`gbdt     ${ds.name.padEnd(10)} ${LABEL[lib]} hung ${h.length} time(s) and was killed: ${h.join('; ')}`);
    }
  }
}

function listOf<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const i of items) if (!allowed.includes(i as T)) throw new Error(`unknown ${what} '${i}'; choose from ${allowed.join(', ')}`);
  return items as T[];
}

function positiveInt(text: string, what: string): number {
  const v = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got '${text}'`);
  return v;
}

export function parseGbdtBenchArgs(argv: string[]): GbdtBenchOptions & { json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: GBDT_DATASETS.join(',') },
      rows: { type: 'string', default: '1000000' },
      features: { type: 'string', default: '20' },
      'friedman-rows': { type: 'string', default: '20000' },
      'multiclass-rows': { type: 'string', default: '20000' },
      repeats: { type: 'string', default: '5' },
      libs: { type: 'string', default: GBDT_LIBS.join(',') },
      threads: { type: 'string', default: '0' },
      python: { type: 'string', default: process.env.FLUXOPS_BENCH_PYTHON ?? '/usr/bin/python3' },
      diabetes: { type: 'string', default: path.resolve(ROOT, '..', 'shared', 'data', 'diabetes.csv') },
      'cpu-prof-dir': { type: 'string' },
      'idle-wait': { type: 'string', default: '15' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  return {
    only: listOf(values.only, GBDT_DATASETS, 'data set'),
    rows: positiveInt(values.rows, '--rows'),
    features: positiveInt(values.features, '--features'),
    friedmanRows: positiveInt(values['friedman-rows'], '--friedman-rows'),
    multiclassRows: positiveInt(values['multiclass-rows'], '--multiclass-rows'),
    repeats: positiveInt(values.repeats, '--repeats'),
    libs: listOf(values.libs, GBDT_LIBS, 'library'),
    threads: values.threads === '0' || values.threads === 'auto' ? 0 : positiveInt(values.threads, '--threads'),
    python: values.python,
    diabetesCsv: path.resolve(values.diabetes),
    cpuProfDir: values['cpu-prof-dir'] === undefined ? undefined : path.resolve(values['cpu-prof-dir']),
    keep: values.keep,
    idleWait: values['idle-wait'] === '0' ? 0 : positiveInt(values['idle-wait'], '--idle-wait'),
    json: values.json,
  };
}

if (isMain(import.meta.url)) {
  const { json, ...options } = parseGbdtBenchArgs(process.argv.slice(2));
  console.log(`machine: ${machine()}`);
  const load = os.loadavg()[0]!;
  if (load > 0.5) console.log(`warning: 1-minute load average ${load.toFixed(2)}: something else is using the CPU, fit times will be noisy`);
  if (options.cpuProfDir !== undefined) fs.mkdirSync(options.cpuProfDir, { recursive: true });
  const result = await runGbdtBench(options);
  printGbdtSummary(result);
  if (json) console.log(JSON.stringify({ benchmark: 'gbdt', ...result }));
}
