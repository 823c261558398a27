import { Random } from '../../core/index.js';
import { randomSplit, stratifiedSplit, takeRows as take, takeValues } from '../split.js';
import { type BinMapper, binMatrix, fitBinMapper } from './binning.js';
import { type GrownTree, type HistogramBuilder, binStride, growTree, histogramSize, serialBuilder } from './grower.js';
import { KernelArena } from './wasm-kernels.js';
import { type GbdtLoss, LOSS_CODE, type TreeApplication, baseline, meanLoss, multiclassGradients, softmaxRows, weightedMedian } from './losses.js';

export interface GbdtOptions {
  loss: GbdtLoss;
  /** Log loss: the number of classes (2 for binary). Ignored for regression. */
  nClasses: number;
  learningRate: number;
  maxIter: number;
  maxLeafNodes: number;
  maxDepth: number | null;
  minSamplesLeaf: number;
  l2Regularization: number;
  maxBins: number;
  earlyStopping: boolean;
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  seed: number;
  /** Per feature: 1 when categorical (its values are category codes). */
  categorical: Uint8Array;
  /** Per-row weights (class weights), or null. */
  sampleWeight: Float64Array | null;
  /** Builds histograms (and applies trees, when given `apply`) on other threads too (see parallel.ts); default: this thread alone. */
  histogramBuilder?: ((data: Parameters<typeof serialBuilder>[0], apply: TreeApplication | null) => HistogramBuilder) | undefined;
  onIteration?: ((info: IterationInfo) => void) | undefined;
}

export interface IterationInfo {
  iteration: number;
  maxIter: number;
  trainLoss: number;
  validationLoss: number | undefined;
}

/** A fitted ensemble in the grower's terms (bins); model.ts turns it into the model document. */
export interface GbdtFit {
  mapper: BinMapper;
  /** Trees per iteration: K classes for multiclass log loss, else 1. */
  treesPerIteration: number;
  /** trees[iteration * K + k]. */
  trees: GrownTree[];
  baseline: Float64Array;
  iterations: number;
  stoppedEarly: boolean;
  /** Mean training loss before the first tree (index 0) and after each iteration. */
  trainLoss: number[];
  /** The same on the validation rows, when early stopping held some out. */
  validationLoss: number[];
  /** Per feature: the total gain of its splits. */
  gainImportance: Float64Array;
  trainRows: number;
  validationRows: number;
}

/**
 * Histogram gradient boosting (the algorithm of LightGBM and scikit-learn's
 * HistGradientBoosting): bin the features once, then per iteration fit K trees leaf-wise to the
 * loss's gradients and hessians, each leaf worth −G/(H + λ) × learning rate. With early stopping
 * a stratified (classification) or random fraction of the rows is held out and boosting stops
 * when its loss has not improved by more than tol in n_iter_no_change iterations.
 * X is row-major n×d with NaN for missing values; y holds class indices (0..k−1) or targets.
 */
export function fitGbdt(X: Float64Array, y: Float64Array, n: number, d: number, o: GbdtOptions): GbdtFit {
  const K = o.loss === 'log_loss' && o.nClasses > 2 ? o.nClasses : 1;
  let trainRows: Uint32Array;
  let valRows: Uint32Array = new Uint32Array(0);
  if (o.earlyStopping) {
    ({ train: trainRows, test: valRows } = o.loss === 'log_loss' ? stratifiedSplit(y, o.validationFraction, o.seed, 'validation_fraction') : randomSplit(n, o.validationFraction, o.seed, 'validation_fraction'));
  } else {
    trainRows = new Uint32Array(n);
    for (let i = 0; i < n; i++) trainRows[i] = i;
  }
  const nt = trainRows.length;
  const nv = valRows.length;
  const Xt = nt === n ? X : take(X, d, trainRows);
  // Shared memory when other threads build histograms: they read the bins, gradients and rows in place.
  const share = o.histogramBuilder !== undefined;
  const alloc = {
    f64: (length: number): Float64Array => (share ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length)),
    u32: (length: number): Uint32Array => (share ? new Uint32Array(new SharedArrayBuffer(length * 4)) : new Uint32Array(length)),
    u8: (length: number): Uint8Array => (share ? new Uint8Array(new SharedArrayBuffer(length)) : new Uint8Array(length)),
  };
  const yt = alloc.f64(nt);
  yt.set(nt === n ? y : takeValues(y, trainRows));
  let wt: Float64Array | null = null;
  if (o.sampleWeight !== null) {
    wt = alloc.f64(nt);
    wt.set(nt === n ? o.sampleWeight : takeValues(o.sampleWeight, trainRows));
  }
  const mapper = fitBinMapper(Xt, nt, d, { maxBins: o.maxBins, categorical: o.categorical, seed: o.seed });
  const stride = binStride(d);
  // The arrays the histogram and partition kernels read, and the histograms, in one WebAssembly
  // memory (wasm-kernels.ts); ordinary (shared) arrays and the JavaScript kernels when there is none.
  // Per row: its bins (stride), column bins (d), gradient and hessian (8 + 8), index and scratch (4 + 4).
  const arena = KernelArena.create(nt * (stride + d + 8 + 8 + 4 + 4) + (o.maxLeafNodes + ARENA_SPARE_HISTOGRAMS) * histogramSize(stride, mapper) * 8 + 1024);
  const kernelArray = {
    f64: (length: number): Float64Array => arena?.f64(length) ?? alloc.f64(length),
    u32: (length: number): Uint32Array => arena?.u32(length) ?? alloc.u32(length),
    u8: (length: number): Uint8Array => arena?.u8(length) ?? alloc.u8(length),
  };
  const bins = binMatrix(mapper, Xt, nt, d, kernelArray.u8(nt * stride), stride);
  const columns = kernelArray.u8(nt * d);
  for (let i = 0; i < nt; i++) for (let j = 0, o = i * stride; j < d; j++) columns[j * nt + i] = bins[o + j]!;
  const yv = takeValues(y, valRows);
  const wv = o.sampleWeight === null ? null : takeValues(o.sampleWeight, valRows);
  const binsV = nv > 0 ? binMatrix(mapper, take(X, d, valRows), nv, d, new Uint8Array(nv * d)) : new Uint8Array(0);

  const base = baseline(o.loss, K, yt, wt);
  const raw = alloc.f64(nt * K);
  const rawV = new Float64Array(nv * K);
  for (let i = 0; i < nt; i++) for (let k = 0; k < K; k++) raw[i * K + k] = base[k]!;
  for (let i = 0; i < nv; i++) for (let k = 0; k < K; k++) rawV[i * K + k] = base[k]!;

  const grad = kernelArray.f64(nt);
  const hess = kernelArray.f64(nt);
  const prob = K > 1 ? new Float64Array(nt * K) : null;
  const constantHessian = o.loss !== 'log_loss' && wt === null;
  const data = { bins, stride, columns, n: nt, d, mapper, grad, hess, constantHessian, idx: kernelArray.u32(nt), scratch: kernelArray.u32(nt), arena, pool: [] };
  // Single-output losses: after each tree, its leaf values are added to the raw predictions and the next gradients computed (on all threads).
  const leafArrays = { leafStart: new Int32Array(new SharedArrayBuffer(o.maxLeafNodes * 4)), leafEnd: new Int32Array(new SharedArrayBuffer(o.maxLeafNodes * 4)), leafValue: new Float64Array(new SharedArrayBuffer(o.maxLeafNodes * 8)) };
  const apply: TreeApplication | null = K === 1 ? { code: LOSS_CODE[o.loss], raw, y: yt, w: wt, ...leafArrays } : null;
  const builder = (o.histogramBuilder ?? serialBuilder)(data, apply);
  const grower = { ...data, builder };
  /** Adds the first `leaves` leaves of the leaf arrays to raw (none before the first tree), then computes the gradients at raw. */
  const applyTree = (leaves: number): void => {
    if (builder.applyTree === undefined) throw new Error('internal error: the histogram builder was given the tree arrays but cannot apply a tree');
    builder.applyTree(leaves);
  };
  const growth = { maxLeafNodes: o.maxLeafNodes, maxDepth: o.maxDepth, minSamplesLeaf: o.minSamplesLeaf, l2: o.l2Regularization, shrinkage: o.learningRate };
  const residual = o.loss === 'absolute_error' ? new Float64Array(nt) : null;

  const trees: GrownTree[] = [];
  const gainImportance = new Float64Array(d);
  // The training curve is measured on a seeded sample of at most CURVE_ROWS rows (as scikit-learn
  // scores large training sets): a full pass per iteration would cost as much as the gradients.
  const curveRows = nt > CURVE_ROWS ? sampleRows(nt, CURVE_ROWS, o.seed) : null;
  const trainLoss = [meanLoss(o.loss, K, raw, yt, wt, curveRows)];
  const validationLoss = nv > 0 ? [meanLoss(o.loss, K, rawV, yv, wv)] : [];
  let stoppedEarly = false;
  let it = 0;
  try {
    if (apply !== null) applyTree(0);
    for (it = 0; it < o.maxIter; it++) {
      if (prob !== null) softmaxRows(raw, nt, K, prob);
      for (let k = 0; k < K; k++) {
        if (prob !== null) multiclassGradients(K, k, yt, wt, grad, hess, prob);
        const tree = growTree(grower, growth);
        const idx = grower.idx;
        if (residual !== null) {
          // Absolute error: each leaf takes the median residual of its rows (the gradient only says which way).
          for (let i = 0; i < nt; i++) residual[i] = yt[i]! - raw[i]!;
          for (let v = 0; v < tree.feature.length; v++) {
            if (tree.feature[v] === -1) tree.value[v] = o.learningRate * weightedMedian(residual, wt, idx, tree.leafStart[v]!, tree.leafEnd[v]!);
          }
        }
        let leaves = 0;
        for (let v = 0; v < tree.feature.length; v++) {
          if (tree.feature[v] !== -1) {
            gainImportance[tree.feature[v]!]! += tree.gain[v]!;
            continue;
          }
          const value = tree.value[v]!;
          if (apply !== null) {
            apply.leafStart[leaves] = tree.leafStart[v]!;
            apply.leafEnd[leaves] = tree.leafEnd[v]!;
            apply.leafValue[leaves] = value;
            leaves++;
          } else {
            for (let t = tree.leafStart[v]!; t < tree.leafEnd[v]!; t++) raw[idx[t]! * K + k]! += value;
          }
        }
        if (apply !== null) applyTree(leaves);
        for (let i = 0; i < nv; i++) rawV[i * K + k]! += predictBinned(tree, mapper.missingBin, binsV, i * d);
        trees.push(tree);
      }
      trainLoss.push(meanLoss(o.loss, K, raw, yt, wt, curveRows));
      if (nv > 0) validationLoss.push(meanLoss(o.loss, K, rawV, yv, wv));
      o.onIteration?.({ iteration: it + 1, maxIter: o.maxIter, trainLoss: trainLoss[trainLoss.length - 1]!, validationLoss: nv > 0 ? validationLoss[validationLoss.length - 1] : undefined });
      if (nv > 0 && shouldStop(validationLoss, o.nIterNoChange, o.tol)) {
        it++;
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    (builder as { close?: () => void }).close?.();
  }
  return { mapper, treesPerIteration: K, trees, baseline: base, iterations: it, stoppedEarly, trainLoss, validationLoss, gainImportance, trainRows: nt, validationRows: nv };
}

/**
 * Stop when none of the last n_iter_no_change losses is below the one before them by more than
 * tol (scikit-learn's rule; the iterations done are kept).
 */
function shouldStop(losses: number[], nIterNoChange: number, tol: number): boolean {
  const ref = nIterNoChange + 1;
  if (losses.length < ref) return false;
  const reference = losses[losses.length - ref]! - tol;
  for (let i = losses.length - ref + 1; i < losses.length; i++) if (losses[i]! < reference) return false;
  return true;
}

/** One tree's value for a binned row. */
export function predictBinned(tree: GrownTree, missingBin: number, bins: Uint8Array, base: number): number {
  let v = 0;
  for (;;) {
    const f = tree.feature[v]!;
    if (f === -1) return tree.value[v]!;
    const b = bins[base + f]!;
    const bits = tree.catBits[v];
    let left: boolean;
    if (bits !== null && bits !== undefined) left = ((bits[b >>> 5]! >>> (b & 31)) & 1) === 1;
    else left = b === missingBin ? tree.missingLeft[v]! : b <= tree.binThreshold[v]!;
    v = left ? tree.left[v]! : tree.right[v]!;
  }
}

/** Histograms the arena holds beyond max_leaf_nodes: the node being split, its smaller child, and the workers' own. */
const ARENA_SPARE_HISTOGRAMS = 8;

/** Most training rows the training loss curve is measured on. */
const CURVE_ROWS = 10_000;

function sampleRows(n: number, k: number, seed: number): Uint32Array {
  const rng = new Random(seed ^ 0x5bd1e995);
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  for (let i = 0; i < k; i++) {
    const r = i + rng.int(n - i);
    const t = all[i]!;
    all[i] = all[r]!;
    all[r] = t;
  }
  return all.slice(0, k).sort();
}
