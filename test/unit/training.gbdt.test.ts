import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { createPredictor, parseModel, serializeModel, type GbdtModel } from '../../src/models/index.js';
import { Random, fitGbdt, generateDiabetesCsv, generateMulticlassCsv, parseGbdtParams, train, type GbdtOptions } from '../../src/training/index.js';
import { binMatrix, fitBinMapper } from '../../src/training/gbdt/binning.js';
import { binStride, binWords, buildHistogram, histogramSize, serialBuilder } from '../../src/training/gbdt/grower.js';
import { KernelArena } from '../../src/training/gbdt/wasm-kernels.js';
import { parallelBuilder } from '../../src/training/gbdt/parallel.js';

const options = (over: Partial<GbdtOptions> = {}, d = 1): GbdtOptions => ({
  loss: 'log_loss',
  nClasses: 2,
  learningRate: 0.1,
  maxIter: 20,
  maxLeafNodes: 31,
  maxDepth: null,
  minSamplesLeaf: 20,
  l2Regularization: 0,
  maxBins: 255,
  earlyStopping: false,
  validationFraction: 0.1,
  nIterNoChange: 10,
  tol: 1e-7,
  seed: 1,
  categorical: new Uint8Array(d),
  sampleWeight: null,
  ...over,
});

const csvOf = (header: string[], rows: Array<Array<string | number>>): string => [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';

describe('binning', () => {
  it('uses at most max_bins bins with quantile edges, midpoints for few distinct values, and a bin for missing values', () => {
    const n = 10_000;
    const rng = new Random(3);
    const X = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      X[2 * i] = rng.normal();
      X[2 * i + 1] = i % 4; // four distinct values
    }
    X[10] = NaN;
    const m = fitBinMapper(X, n, 2, { maxBins: 255, categorical: new Uint8Array(2), seed: 1 });
    expect(m.nBins[0]).toBe(255);
    expect(Array.from(m.thresholds[1]!)).toEqual([0.5, 1.5, 2.5]);
    expect(m.hasMissing[0]).toBe(1);
    expect(m.hasMissing[1]).toBe(0);
    const bins = binMatrix(m, X, n, 2, new Uint8Array(n * 2));
    expect(bins[10]).toBe(255);
    // Quantile edges: every non-missing bin holds about n/255 rows.
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < n; i++) counts[bins[2 * i]!]!++;
    const filled = counts.slice(0, 255);
    expect(Math.min(...filled)).toBeGreaterThan(20);
    expect(Math.max(...filled)).toBeLessThan(60);
    // The grid lookup agrees with a plain count of edges below each value.
    for (let i = 0; i < n; i++) {
      const v = X[2 * i]!;
      if (Number.isNaN(v)) continue;
      expect(bins[2 * i]).toBe(m.thresholds[0]!.filter((t) => t < v).length);
    }
  });

  it('refuses a max_bins outside 2..255 and other bad parameters by name', () => {
    expect(() => parseGbdtParams({ max_bins: '256' })).toThrow(/max_bins must be an integer from 2 to 255/);
    expect(() => parseGbdtParams({ learning_rate: '0' })).toThrow(/learning_rate must be a number > 0/);
    expect(() => parseGbdtParams({ max_depth: 'deep' })).toThrow(/max_depth must be a number/);
    expect(() => parseGbdtParams({ early_stopping: 'maybe' })).toThrow(/early_stopping must be auto, true or false/);
    expect(() => parseGbdtParams({ C: '1' })).toThrow(/unknown parameter 'C' for algo gbdt/);
    expect(parseGbdtParams({ max_depth: 'none' }).maxDepth).toBeNull();
    expect(() => train({ csvText: 'a,b\n1,0\n2,1\n', target: 'b', algo: 'forest' })).toThrow(/unknown algo 'forest'; the built-in trainers are: logistic_regression, gbdt/);
  });
});

describe('histograms', () => {
  it('a child histogram built directly equals parent − sibling; the WebAssembly kernels equal the JavaScript ones; the parallel builder equals the serial one', () => {
    const n = 40_000;
    const d = 5;
    const rng = new Random(9);
    const X = new Float64Array(n * d).map(() => rng.normal());
    const m = fitBinMapper(X, n, d, { maxBins: 255, categorical: new Uint8Array(d), seed: 1 });
    const stride = binStride(d);
    expect(stride).toBe(8);
    const bins = binMatrix(m, X, n, d, new Uint8Array(new SharedArrayBuffer(n * stride)), stride);
    const grad = new Float64Array(new SharedArrayBuffer(n * 8));
    for (let i = 0; i < n; i++) grad[i] = rng.normal();
    const hess = new Float64Array(new SharedArrayBuffer(n * 8));
    for (let i = 0; i < n; i++) hess[i] = rng.uniform();
    const idx = new Uint32Array(new SharedArrayBuffer(n * 4));
    // Rows with an even first bin on the left, the rest on the right.
    let l = 0;
    const right: number[] = [];
    for (let i = 0; i < n; i++) {
      if (bins[i * stride]! % 2 === 0) idx[l++] = i;
      else right.push(i);
    }
    idx.set(right, l);
    const W = 256;
    const size = histogramSize(stride, m);
    const words = binWords(bins);
    const parent = new Float64Array(size);
    const left = new Float64Array(size);
    const rightH = new Float64Array(size);
    buildHistogram(parent, words, stride / 4, W, idx, 0, n, grad, hess, false);
    buildHistogram(left, words, stride / 4, W, idx, 0, l, grad, hess, false);
    buildHistogram(rightH, words, stride / 4, W, idx, l, n, grad, hess, false);
    // Every row counted once per feature, in the bin binMatrix gave it.
    for (let j = 0; j < d; j++) {
      let c = 0;
      for (let b = 0; b < W; b++) c += parent[(j * W + b) * 3 + 2]!;
      expect(c).toBe(n);
      expect(parent[(j * W + bins[5 * stride + j]!) * 3 + 2]).toBeGreaterThan(0);
    }
    for (let k = 0; k < size; k++) expect(Math.abs(parent[k]! - left[k]! - rightH[k]!)).toBeLessThan(1e-9);
    const columns = new Uint8Array(new SharedArrayBuffer(n * d));
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) columns[j * n + i] = bins[i * stride + j]!;
    const scratch = new Uint32Array(new SharedArrayBuffer(n * 4));
    const jsData = { bins, stride, columns, n, d, mapper: m, grad, hess, constantHessian: false, idx, scratch, arena: null, pool: [] };
    // The same arrays in a WebAssembly arena, where the kernels of kernels.wat build and partition.
    const arena = KernelArena.create(n * (stride + d + 8 + 8 + 4 + 4) + 4 * size * 8 + 1024)!;
    expect(arena).not.toBeNull();
    const inArena = <T extends Uint8Array | Uint32Array | Float64Array>(a: T, make: (len: number) => T | null): T => {
      const v = make(a.length)!;
      v.set(a);
      return v;
    };
    const wasmData = {
      ...jsData,
      bins: inArena(bins, (k) => arena.u8(k)),
      columns: inArena(columns, (k) => arena.u8(k)),
      grad: inArena(grad, (k) => arena.f64(k)),
      hess: inArena(hess, (k) => arena.f64(k)),
      idx: inArena(idx, (k) => arena.u32(k)),
      scratch: arena.u32(n)!,
      arena,
    };
    const serialWasm = serialBuilder(wasmData);
    const h = serialWasm.newHistogram();
    expect(arena.holds(h)).toBe(true);
    // The WebAssembly kernel adds the same numbers in the same order: bit for bit the JavaScript sums.
    serialWasm.build(h, l, n);
    expect(Array.from(h)).toEqual(Array.from(rightH));
    const constant = new Float64Array(size);
    const hessOne = new Float64Array(new SharedArrayBuffer(n * 8)).fill(1);
    buildHistogram(constant, words, stride / 4, W, idx, 0, l, grad, hessOne, true);
    wasmData.hess.fill(1);
    serialBuilder({ ...wasmData, constantHessian: true }).build(h, 0, l);
    expect(Array.from(h)).toEqual(Array.from(constant));
    wasmData.hess.set(hess);
    const table = new Uint8Array(256);
    for (let b = 0; b < 100; b++) table[b] = 1;
    for (const data of [jsData, wasmData]) {
      const par = parallelBuilder(data, 2);
      try {
        const p = par.newHistogram();
        expect(arena.holds(p)).toBe(data.arena !== null);
        par.build(p, 0, n);
        for (let k = 0; k < size; k++) expect(Math.abs(p[k]! - parent[k]!)).toBeLessThan(1e-9);
        par.build(p, l, n);
        for (let k = 0; k < size; k++) expect(Math.abs(p[k]! - rightH[k]!)).toBeLessThan(1e-9);
        // A partition on two threads, or on one by either kernel, gives the rows, in order, that a plain filter does.
        const goes = (r: number): boolean => table[bins[r * stride + 2]!] === 1;
        for (const builder of [par, serialBuilder(data)]) {
          const before = Array.from(data.idx.subarray(100, n - 7));
          const lefts = builder.partition(table, 2, 100, n - 7);
          expect(lefts).toBe(before.filter(goes).length);
          expect(Array.from(data.idx.subarray(100, n - 7))).toEqual([...before.filter(goes), ...before.filter((r) => !goes(r))]);
        }
      } finally {
        par.close();
      }
    }
  });
});

describe('parallel fits', () => {
  // Histograms summed on two threads add the same numbers in another order, so the fits agree to
  // rounding; every kernel the workers run (histograms, partitions, leaf values, gradients) is on
  // the path of these fits.
  const fits = (o: GbdtOptions, X: Float64Array, y: Float64Array, n: number, d: number) => {
    const serial = fitGbdt(X, y, n, d, o);
    const parallel = fitGbdt(X, y, n, d, { ...o, histogramBuilder: (data, apply) => parallelBuilder(data, 2, apply) });
    return { serial, parallel };
  };
  const agree = (a: ReturnType<typeof fitGbdt>, b: ReturnType<typeof fitGbdt>): void => {
    expect(b.iterations).toBe(a.iterations);
    expect(b.trees.map((t) => t.feature)).toEqual(a.trees.map((t) => t.feature));
    expect(b.trees.map((t) => t.binThreshold)).toEqual(a.trees.map((t) => t.binThreshold));
    for (let i = 0; i < a.trees.length; i++) {
      for (let v = 0; v < a.trees[i]!.value.length; v++) expect(Math.abs(b.trees[i]!.value[v]! - a.trees[i]!.value[v]!)).toBeLessThan(1e-9);
    }
    for (let i = 0; i < a.trainLoss.length; i++) expect(Math.abs(b.trainLoss[i]! - a.trainLoss[i]!)).toBeLessThan(1e-9);
  };
  const n = 30_000;
  const d = 6;
  const rng = new Random(21);
  const X = new Float64Array(n * d).map(() => rng.normal());
  for (let i = 0; i < n; i += 17) X[i * d + 2] = Number.NaN;
  const logit = (i: number): number => X[i * d]! * X[i * d + 1]! + Math.sin(2 * X[i * d + 3]!) - 0.5 * Math.abs(X[i * d + 4]!);
  it('binary log loss with weights and early stopping', () => {
    const y = Float64Array.from({ length: n }, (_, i) => (logit(i) + rng.normal(0, 0.5) > 0 ? 1 : 0));
    const w = Float64Array.from(y, (v) => (v === 1 ? 2 : 1));
    const { serial, parallel } = fits(options({ maxIter: 15, earlyStopping: true, sampleWeight: w }, d), X, y, n, d);
    expect(serial.trees.length).toBe(15);
    agree(serial, parallel);
  });
  it('squared and absolute error', () => {
    const y = Float64Array.from({ length: n }, (_, i) => logit(i) + rng.normal(0, 0.3));
    for (const loss of ['squared_error', 'absolute_error'] as const) {
      const { serial, parallel } = fits(options({ loss, maxIter: 10 }, d), X, y, n, d);
      agree(serial, parallel);
    }
  });
});

describe('gbdt trainer', () => {
  it('learns where missing values go, and sends them to the bigger child for a feature that had none', () => {
    const rng = new Random(5);
    const rows: Array<Array<string | number>> = [];
    for (let i = 0; i < 2000; i++) {
      const missing = rng.uniform() < 0.3;
      const x = rng.normal();
      // Missing x means class 1; otherwise class 1 when x > 1 (rare): missing must go with the high side.
      rows.push([missing ? '' : x.toFixed(4), rng.normal().toFixed(4), missing || x > 1 ? 1 : 0]);
    }
    const r = train({ csvText: csvOf(['x', 'z', 'y'], rows), target: 'y', algo: 'gbdt', params: { max_iter: '30' } });
    expect(r.metrics.accuracy!).toBeGreaterThan(0.97);
    const p = createPredictor(r.model);
    const out = p.predictMatrixSync!(Float64Array.from([NaN, 0, -1, 0, 2, 0, -1, NaN]), 4);
    expect(out.labels).toEqual([1, 0, 1, 0]);
  });

  it('splits a categorical feature natively on a set of categories', () => {
    const cats = ['a', 'b', 'c', 'd', 'e', 'f'];
    const rng = new Random(2);
    const rows: Array<Array<string | number>> = [];
    for (let i = 0; i < 3000; i++) {
      const c = cats[rng.int(6)]!;
      rows.push([c, rng.normal().toFixed(3), ['a', 'c', 'f'].includes(c) ? 'yes' : 'no']);
    }
    // One split of depth 1 must separate {a, c, f} from the rest: no ordinal split can.
    const r = train({ csvText: csvOf(['kind', 'noise', 'label'], rows), target: 'label', algo: 'gbdt', params: { max_depth: '1', max_iter: '10' } });
    const m = r.model as GbdtModel;
    expect(m.signature.inputs).toEqual([{ name: 'kind', type: 'string' }, { name: 'noise', type: 'double' }]);
    expect(m.categories['kind']).toEqual(cats);
    expect(r.metrics.accuracy).toBe(1);
    const left = m.trees[0]!.leftCategories!['0']!.map((i) => cats[i]).sort();
    expect([['a', 'c', 'f'], ['b', 'd', 'e']]).toContainEqual(left);
  });

  it('takes --categorical for a numeric column, and refuses columns that cannot be categories', () => {
    // Enough rows that each category's hessian reaches the support a categorical split needs (10, as scikit-learn).
    const rows = Array.from({ length: 2100 }, (_, i) => [i % 7, (i * 37) % 101, i % 7 === 3 ? 1 : 0]);
    const r = train({ csvText: csvOf(['code', 'v', 'y'], rows), target: 'y', algo: 'gbdt', params: { categorical: 'code' } });
    expect((r.model as GbdtModel).categories['code']).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r.metrics.accuracy!).toBeGreaterThan(0.98);
    expect(() => train({ csvText: csvOf(['code', 'v', 'y'], rows), target: 'y', algo: 'gbdt', params: { categorical: 'nope' } })).toThrow(/categorical column 'nope' is not in the data/);
    const many = Array.from({ length: 600 }, (_, i) => [`c${i}`, i % 2]);
    expect(() => train({ csvText: csvOf(['c', 'y'], many), target: 'y', algo: 'gbdt', exclude: [] })).toThrow(/has 600 distinct values; a categorical feature may have at most 255/);
  });

  it('is reproducible for a seed, logs a learning curve per iteration and gain importances that sum to 1', () => {
    const csv = generateDiabetesCsv(3000, 4);
    const now = () => new Date('2026-01-01T00:00:00Z');
    const a = train({ csvText: csv, target: 'Diabetic', algo: 'gbdt', params: { max_iter: '25', seed: '3' }, now });
    const b = train({ csvText: csv, target: 'Diabetic', algo: 'gbdt', params: { max_iter: '25', seed: '3' }, now });
    expect(serializeModel(a.model)).toBe(serializeModel(b.model));
    expect(a.curves['train_loss']).toHaveLength(26);
    expect(a.curves['test_log_loss']).toHaveLength(26);
    expect(a.curves['train_loss']![25]!).toBeLessThan(a.curves['train_loss']![0]!);
    const imp = a.featureImportance!;
    expect(Object.values(imp).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
    const top = Object.entries(imp).sort((x, y) => y[1] - x[1])[0]![0];
    expect(['PlasmaGlucose', 'BMI', 'Age', 'Pregnancies']).toContain(top);
    // The document round-trips and predicts the same.
    const back = parseModel(serializeModel(a.model));
    const X = Float64Array.from([2, 150, 80, 30, 100, 35, 0.5, 45]);
    expect(createPredictor(back).predictMatrixSync!(X, 1)).toEqual(createPredictor(a.model).predictMatrixSync!(X, 1));
  });

  it('stops early when the validation loss stops improving, and says so', () => {
    const rng = new Random(8);
    const rows = Array.from({ length: 3000 }, () => [rng.normal().toFixed(4), rng.normal().toFixed(4), rng.uniform() < 0.5 ? 1 : 0]);
    const r = train({ csvText: csvOf(['a', 'b', 'y'], rows), target: 'y', algo: 'gbdt', params: { early_stopping: 'true', max_iter: '500' } });
    expect(r.iterations).toBeLessThan(100);
    expect(r.notices.join('\n')).toMatch(/early stopping after \d+ of 500 iterations/);
    expect(r.curves['validation_loss']).toHaveLength(r.iterations + 1);
  });

  it('balanced class weights raise the recall of a rare class', () => {
    const rng = new Random(12);
    const rows = Array.from({ length: 4000 }, () => {
      const x = rng.normal();
      return [x.toFixed(4), rng.normal().toFixed(4), x + rng.normal(0, 0.8) > 1.8 ? 1 : 0];
    });
    const csv = csvOf(['x', 'z', 'y'], rows);
    const plain = train({ csvText: csv, target: 'y', algo: 'gbdt', params: { max_iter: '30' } });
    const weighted = train({ csvText: csv, target: 'y', algo: 'gbdt', params: { max_iter: '30', class_weight: 'balanced' } });
    expect(weighted.metrics.recall!).toBeGreaterThan(plain.metrics.recall! + 0.1);
  });

  it('honours max_leaf_nodes, max_depth and min_samples_leaf', () => {
    const csv = generateDiabetesCsv(3000, 4);
    const r = train({ csvText: csv, target: 'Diabetic', algo: 'gbdt', params: { max_iter: '5', max_leaf_nodes: '7', min_samples_leaf: '50' } });
    for (const t of (r.model as GbdtModel).trees) expect(t.feature.filter((f) => f === -1).length).toBeLessThanOrEqual(7);
    const deep = train({ csvText: csv, target: 'Diabetic', algo: 'gbdt', params: { max_iter: '5', max_depth: '2' } });
    for (const t of (deep.model as GbdtModel).trees) expect(t.feature.filter((f) => f === -1).length).toBeLessThanOrEqual(4);
    // A depth-1 tree of fitGbdt itself: one split, two leaves of at least min_samples_leaf rows.
    const n = 500;
    const X = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => (i < 480 ? 0 : 1));
    const fit = fitGbdt(X, y, n, 1, options({ maxIter: 1, minSamplesLeaf: 100 }));
    const tree = fit.trees[0]!;
    const leaves = tree.feature.map((f, v) => (f === -1 ? tree.count[v]! : -1)).filter((c) => c >= 0);
    expect(Math.min(...leaves)).toBeGreaterThanOrEqual(100);
  });

  it('multiclass models give a probability per class that sums to 1, through serving\'s predictor', () => {
    const r = train({ csvText: generateMulticlassCsv(3000, 5), target: 'label', algo: 'gbdt', params: { max_iter: '15' } });
    const p = createPredictor(r.model);
    expect(p.kind).toBe('classifier');
    expect(p.classes).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const region = p.inputCodec!.text[p.inputNames.indexOf('region')]!.get('south')!;
    const row = p.inputNames.map((name) => (name === 'region' ? region : name === 'b' ? NaN : 0.5));
    const out = p.predictMatrixSync!(Float64Array.from(row), 1);
    expect(out.probabilities).toHaveLength(4);
    expect(Array.from(out.probabilities!).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
  });

  it('refuses damaged tree documents by field', () => {
    const r = train({ csvText: generateDiabetesCsv(600, 4), target: 'Diabetic', algo: 'gbdt', params: { max_iter: '3' } });
    const doc = JSON.parse(serializeModel(r.model)) as GbdtModel;
    const bad = structuredClone(doc);
    bad.trees[0]!.left[0] = 0;
    expect(() => parseModel(JSON.stringify(bad))).toThrow(/trees\[0\]: node 0 has an invalid child 0/);
    const bad2 = structuredClone(doc);
    bad2.trees[1]!.feature[0] = 99;
    expect(() => parseModel(JSON.stringify(bad2))).toThrow(FluxError);
    const bad3 = structuredClone(doc);
    bad3.baseline = [0, 0];
    expect(() => parseModel(JSON.stringify(bad3))).toThrow(/baseline has 2 values, expected 1/);
  });
});
