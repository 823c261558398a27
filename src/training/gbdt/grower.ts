import type { BinMapper } from './binning.js';
import { type TreeApplication, addLeafValues, gradientRange } from './losses.js';
import type { KernelArena, KernelExports } from './wasm-kernels.js';

/** Least support (count, or hessian sum when hessians vary) of a category to take part in a split. */
const MIN_CAT_SUPPORT = 10;
/** Most categories on the left of one categorical split. */
const MAX_CAT_THRESHOLD = 32;
/** Least hessian sum of a child. */
const MIN_CHILD_HESSIAN = 1e-3;

/** Values per histogram slot: sum of gradients, sum of hessians, count. */
export const SLOT = 3;

export interface GrowthOptions {
  maxLeafNodes: number;
  /** Root at depth 0; null for no limit. */
  maxDepth: number | null;
  minSamplesLeaf: number;
  l2: number;
  /** Multiplies every leaf value. */
  shrinkage: number;
}

/**
 * One grown tree in node arrays (node 0 is the root). Split nodes send a row left when its bin is
 * ≤ binThreshold (numeric) or is in catBits (categorical); a missing value follows missingLeft.
 * Leaves keep the range of the training rows they hold in the grower's index, so the boosting
 * loop updates its predictions without walking the tree.
 */
export interface GrownTree {
  feature: number[];
  binThreshold: number[];
  missingLeft: boolean[];
  catBits: (Uint32Array | null)[];
  left: number[];
  right: number[];
  value: number[];
  gain: number[];
  count: number[];
  leafStart: number[];
  leafEnd: number[];
}

/**
 * Builds a node's histogram: per feature and bin, the sums of gradients, hessians and rows of the
 * rows idx[start..end). The single-threaded builder does it here; a parallel one shares the work
 * with worker threads (parallel.ts). Both write the same slots in the same layout.
 */
export interface HistogramBuilder {
  build(hist: Float64Array, start: number, end: number): void;
  /** Partitions idx[start..end) on `feature` by the bin table (see `partition`); returns how many rows went left. */
  partition(goesLeft: Uint8Array, feature: number, start: number, end: number): number;
  /** Adds the first `leaves` leaves of the leaf arrays the builder was made with to the raw predictions, then computes the gradients (losses.ts TreeApplication). */
  applyTree?(leaves: number): void;
  /** A new, empty histogram, where the builder's kernels work fastest (in its arena). */
  newHistogram: () => Float64Array;
}

export interface GrowerData {
  /**
   * Row-major bins of the training rows, `stride` bytes per row (d rounded up to a multiple of 4,
   * the padding 0): the histogram kernel reads a row four bins at a time as 32-bit words.
   */
  bins: Uint8Array;
  stride: number;
  /**
   * The same bins column by column (d×n), for partitioning: a node's rows read one byte each from
   * one column, where the row-major layout would cost a cache line per row.
   */
  columns: Uint8Array;
  n: number;
  d: number;
  mapper: BinMapper;
  grad: Float64Array;
  hess: Float64Array;
  /** When true, every hessian is hess[0] (squared or absolute error, unweighted): counts stand in. */
  constantHessian: boolean;
  /** Row indices, partitioned node by node; its length is n. */
  idx: Uint32Array;
  scratch: Uint32Array;
  /**
   * The WebAssembly memory that holds bins, grad, hess and idx, when they were allocated there
   * (wasm-kernels.ts): histograms in it are built by the WebAssembly kernels; null for the
   * JavaScript kernel alone.
   */
  arena: KernelArena | null;
  /** Histograms not in use, kept from tree to tree. */
  pool: Float64Array[];
  builder: HistogramBuilder;
}

/** Bytes per row of the grower's row-major bins: d rounded up to whole 32-bit words. */
export function binStride(d: number): number {
  return (d + 3) & ~3;
}

/** Values of one histogram: SLOT per bin slot (maxBins + 1 per feature) of every feature the stride holds. */
export function histogramSize(stride: number, mapper: BinMapper): number {
  return stride * (mapper.maxBins + 1) * SLOT;
}

/** The bins as 32-bit words, four bins each (byte j of a row is bits 8j..8j+7 on little-endian machines). */
export function binWords(bins: Uint8Array): Uint32Array {
  if (new Uint8Array(Uint32Array.of(1).buffer)[0] !== 1) throw new Error('internal error: the histogram kernel needs a little-endian machine');
  if (bins.byteOffset % 4 !== 0 || bins.length % 4 !== 0) throw new Error('internal error: row bins must be whole, aligned 32-bit words');
  return new Uint32Array(bins.buffer, bins.byteOffset, bins.length / 4);
}

/**
 * Where a worker finds the grower's arrays in the arena (byte offsets), to run the WebAssembly
 * kernels over the same memory; `partition` says whether the partition kernel can run too.
 */
export interface ArenaLayout {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  wordsAt: number;
  idxAt: number;
  gradAt: number;
  hessAt: number;
  partition: boolean;
  columnsAt: number;
  scratchAt: number;
  tableAt: number;
}

/**
 * The kernels of one thread over a grower's arrays: the WebAssembly ones where the arrays (and
 * the histogram at hand) live in the arena, the JavaScript ones otherwise. The serial builder is
 * these alone; the parallel builder runs them on its own share and the workers run the same
 * choice over `layout`.
 */
export interface ThreadKernels {
  /** The histogram of idx[start..end) into `hist` (see buildHistogram). */
  histogram: (hist: Float64Array, start: number, end: number) => void;
  /** partitionRange of idx[start..end) on `feature` by the bin table in `table`; returns how many went left. */
  partitionShare: (feature: number, start: number, end: number) => number;
  /** The 256-entry bin table partitions read: in the arena for the WebAssembly kernel, else shared memory. */
  table: Uint8Array;
  newHistogram: () => Float64Array;
  /** The arena's layout for workers, or null when the JavaScript kernels run. */
  layout: ArenaLayout | null;
}

export function threadKernels(data: Omit<GrowerData, 'builder'>): ThreadKernels {
  const { bins, columns, n, stride, grad, hess, idx, scratch, constantHessian } = data;
  const words = binWords(bins);
  const wordsPerRow = stride >> 2;
  const W = data.mapper.maxBins + 1;
  const size = histogramSize(stride, data.mapper);
  const a = data.arena;
  // The histogram kernel needs the bins, gradients, hessians and rows in the arena; the partition kernel the column bins and scratch too.
  const arena = a !== null && [bins, grad, hess, idx].every((v) => a.holds(v)) ? a : null;
  const table = (arena !== null && arena.holds(columns) && arena.holds(scratch) ? arena.u8(256) : null) ?? new Uint8Array(new SharedArrayBuffer(256));
  const wasmPartition = arena !== null && arena.holds(table);
  return {
    histogram: (hist, start, end) => {
      if (arena !== null && arena.holds(hist)) wasmHistogram(arena.kernels, hist, bins.byteOffset, wordsPerRow, W, idx.byteOffset, start, end, grad.byteOffset, hess.byteOffset, constantHessian, hess);
      else buildHistogram(hist, words, wordsPerRow, W, idx, start, end, grad, hess, constantHessian);
    },
    partitionShare: (feature, start, end) =>
      wasmPartition ? arena.kernels.partition(columns.byteOffset, n, feature, idx.byteOffset, scratch.byteOffset, table.byteOffset, start, end) : partitionRange(columns, n, feature, idx, scratch, table, start, end),
    table,
    newHistogram: () => arena?.f64(size) ?? new Float64Array(size),
    layout:
      arena === null
        ? null
        : { module: arena.module, memory: arena.memory, wordsAt: bins.byteOffset, idxAt: idx.byteOffset, gradAt: grad.byteOffset, hessAt: hess.byteOffset, partition: wasmPartition, columnsAt: columns.byteOffset, scratchAt: scratch.byteOffset, tableAt: table.byteOffset },
  };
}

/**
 * The single-threaded builder over a grower's arrays: this thread's kernels for histograms and
 * partitions and, given `apply`, each tree's leaf values and the next gradients.
 */
export function serialBuilder(data: Omit<GrowerData, 'builder'>, apply: TreeApplication | null = null): HistogramBuilder & { kernels: ThreadKernels } {
  const { n, idx, scratch, grad, hess } = data;
  const kernels = threadKernels(data);
  return {
    kernels,
    build: kernels.histogram,
    partition(goesLeft, feature, start, end) {
      kernels.table.set(goesLeft);
      const lefts = kernels.partitionShare(feature, start, end);
      idx.set(scratch.subarray(start, start + (end - start - lefts)), start + lefts);
      return lefts;
    },
    applyTree:
      apply === null
        ? undefined
        : (leaves) => {
            addLeafValues(apply.raw, idx, apply.leafStart, apply.leafEnd, apply.leafValue, leaves, 0, n);
            gradientRange(apply.code, apply.raw, apply.y, apply.w, grad, hess, 0, n);
          },
    newHistogram: kernels.newHistogram,
  };
}

/**
 * buildHistogram by the WebAssembly kernels (kernels.wat), for a histogram in their memory: the
 * same sums in the same order. Pointers are byte offsets in that memory. Like buildHistogram it
 * uses nothing from outside its body (parallel.ts runs it in workers).
 */
export function wasmHistogram(
  kernels: KernelExports,
  hist: Float64Array,
  wordsAt: number,
  wordsPerRow: number,
  W: number,
  idxAt: number,
  start: number,
  end: number,
  gradAt: number,
  hessAt: number,
  constantHessian: boolean,
  hess: Float64Array,
): void {
  hist.fill(0);
  if (!constantHessian) {
    kernels.histogram(hist.byteOffset, wordsAt, wordsPerRow, W * 24, idxAt, start, end, gradAt, hessAt);
    return;
  }
  kernels.histogram_counts(hist.byteOffset, wordsAt, wordsPerRow, W * 24, idxAt, start, end, gradAt);
  const h = hess[0] ?? 1;
  for (let k = 0; k < hist.length; k += 3) hist[k + 1] = hist[k + 2]! * h;
}

/**
 * The histogram of idx[start..end): the inner loop of training (see HistogramBuilder). Each row's
 * bins are read as words of four (`words`, `wordsPerRow` per row) and the four slots' sums updated
 * one after another; the histogram holds 4 × wordsPerRow features, the padding's slots unused.
 * It uses nothing from outside its body (3 is SLOT), so parallel.ts runs the same source in its
 * workers.
 */
export function buildHistogram(
  hist: Float64Array,
  words: Uint32Array,
  wordsPerRow: number,
  W: number,
  idx: Uint32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  constantHessian: boolean,
): void {
  hist.fill(0);
  const S = W * 3;
  const S4 = 4 * S;
  if (constantHessian) {
    for (let t = start; t < end; t++) {
      const s = idx[t]!;
      const g = grad[s]!;
      for (let q = 0, at = s * wordsPerRow, o = 0; q < wordsPerRow; q++, o += S4) {
        const w = words[at + q]!;
        let k = o + (w & 255) * 3;
        hist[k]! += g;
        hist[k + 2]! += 1;
        k = o + S + ((w >>> 8) & 255) * 3;
        hist[k]! += g;
        hist[k + 2]! += 1;
        k = o + 2 * S + ((w >>> 16) & 255) * 3;
        hist[k]! += g;
        hist[k + 2]! += 1;
        k = o + 3 * S + (w >>> 24) * 3;
        hist[k]! += g;
        hist[k + 2]! += 1;
      }
    }
    const h = hess[0] ?? 1;
    for (let k = 0; k < hist.length; k += 3) hist[k + 1] = hist[k + 2]! * h;
    return;
  }
  for (let t = start; t < end; t++) {
    const s = idx[t]!;
    const g = grad[s]!;
    const h = hess[s]!;
    for (let q = 0, at = s * wordsPerRow, o = 0; q < wordsPerRow; q++, o += S4) {
      const w = words[at + q]!;
      let k = o + (w & 255) * 3;
      hist[k]! += g;
      hist[k + 1]! += h;
      hist[k + 2]! += 1;
      k = o + S + ((w >>> 8) & 255) * 3;
      hist[k]! += g;
      hist[k + 1]! += h;
      hist[k + 2]! += 1;
      k = o + 2 * S + ((w >>> 16) & 255) * 3;
      hist[k]! += g;
      hist[k + 1]! += h;
      hist[k + 2]! += 1;
      k = o + 3 * S + (w >>> 24) * 3;
      hist[k]! += g;
      hist[k + 1]! += h;
      hist[k + 2]! += 1;
    }
  }
}

interface Candidate {
  gain: number;
  feature: number;
  binThreshold: number;
  missingLeft: boolean;
  catBits: Uint32Array | null;
  leftG: number;
  leftH: number;
  leftC: number;
}

interface OpenNode {
  id: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  c: number;
  hist: Float64Array;
  split: Candidate;
}

/**
 * Grows one tree leaf-wise (best first): the open node whose best split gains most is split
 * next, until max_leaf_nodes leaves. A child's histogram is built only for the smaller child; the
 * larger one's is the parent's minus it.
 */
export function growTree(data: GrowerData, opts: GrowthOptions): GrownTree {
  const { n, d, mapper, idx } = data;
  const W = mapper.maxBins + 1;
  const histSize = histogramSize(data.stride, mapper);
  const pool = data.pool;
  const take = (): Float64Array => pool.pop() ?? data.builder.newHistogram();
  const tree: GrownTree = { feature: [], binThreshold: [], missingLeft: [], catBits: [], left: [], right: [], value: [], gain: [], count: [], leafStart: [], leafEnd: [] };
  const addNode = (start: number, end: number, g: number, h: number, c: number): number => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.binThreshold.push(0);
    tree.missingLeft.push(false);
    tree.catBits.push(null);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push((-g / (h + opts.l2 + 1e-15)) * opts.shrinkage);
    tree.gain.push(0);
    tree.count.push(c);
    tree.leafStart.push(start);
    tree.leafEnd.push(end);
    return id;
  };

  for (let i = 0; i < n; i++) idx[i] = i;
  const rootHist = take();
  data.builder.build(rootHist, 0, n);
  let G = 0;
  let H = 0;
  for (let b = 0; b < W; b++) {
    G += rootHist[b * SLOT]!;
    H += rootHist[b * SLOT + 1]!;
  }
  const root = addNode(0, n, G, H, n);
  const open: OpenNode[] = [];
  /** Whether a node may be split at all: depth, and room for two children of min_samples_leaf rows and the least hessian. */
  const splittable = (depth: number, c: number, h: number): boolean => !((opts.maxDepth !== null && depth >= opts.maxDepth) || c < 2 * opts.minSamplesLeaf || h < 2 * MIN_CHILD_HESSIAN);
  /** Opens a splittable node when some split gains; its histogram goes back to the pool otherwise. */
  const consider = (id: number, start: number, end: number, depth: number, g: number, h: number, c: number, hist: Float64Array): void => {
    const split = bestSplit(hist, mapper, d, g, h, c, opts, data.constantHessian);
    if (split === null) pool.push(hist);
    else open.push({ id, start, end, depth, g, h, c, hist, split });
  };
  if (splittable(0, n, H)) consider(root, 0, n, 0, G, H, n, rootHist);
  else pool.push(rootHist);

  let leaves = 1;
  while (open.length > 0 && leaves < opts.maxLeafNodes) {
    let best = 0;
    for (let i = 1; i < open.length; i++) if (open[i]!.split.gain > open[best]!.split.gain) best = i;
    const node = open[best]!;
    open[best] = open[open.length - 1]!;
    open.pop();
    const s = node.split;
    const mid = partition(data, node.start, node.end, s);
    const nLeft = mid - node.start;
    const nRight = node.end - mid;
    const lc = s.leftC;
    const lg = s.leftG;
    const lh = s.leftH;
    const left = addNode(node.start, mid, lg, lh, nLeft);
    const right = addNode(mid, node.end, node.g - lg, node.h - lh, nRight);
    if (nLeft !== lc) throw new Error(`internal error: partition sent ${nLeft} rows left, the histogram ${lc}`);
    tree.feature[node.id] = s.feature;
    tree.binThreshold[node.id] = s.binThreshold;
    tree.missingLeft[node.id] = mapper.hasMissing[s.feature] || mapper.categorical[s.feature] ? s.missingLeft : nLeft > nRight;
    tree.catBits[node.id] = s.catBits;
    tree.left[node.id] = left;
    tree.right[node.id] = right;
    tree.gain[node.id] = s.gain;
    leaves++;
    if (leaves >= opts.maxLeafNodes) {
      pool.push(node.hist);
      break;
    }
    const depth = node.depth + 1;
    const leftOk = splittable(depth, nLeft, lh);
    const rightOk = splittable(depth, nRight, node.h - lh);
    if (!leftOk && !rightOk) {
      pool.push(node.hist);
      continue;
    }
    // The smaller child is built; the larger is parent − smaller (only when it is wanted).
    const smallIsLeft = nLeft <= nRight;
    const small = take();
    if (smallIsLeft) data.builder.build(small, node.start, mid);
    else data.builder.build(small, mid, node.end);
    const large = node.hist;
    for (let k = 0; k < histSize; k++) large[k]! -= small[k]!;
    const [lHist, rHist] = smallIsLeft ? [small, large] : [large, small];
    if (leftOk) consider(left, node.start, mid, depth, lg, lh, nLeft, lHist);
    else pool.push(lHist);
    if (rightOk) consider(right, mid, node.end, depth, node.g - lg, node.h - lh, nRight, rHist);
    else pool.push(rHist);
  }
  for (const o of open) pool.push(o.hist);
  return tree;
}

/**
 * Moves the rows of idx[start..end) that go left to the front, keeping order on both sides;
 * returns the first right position. A 256-entry table says which bins go left (numeric, missing
 * and categorical alike). A parallel builder splits the range between threads.
 */
function partition(data: GrowerData, start: number, end: number, s: Candidate): number {
  const goesLeft = new Uint8Array(256);
  if (s.catBits !== null) {
    for (let b = 0; b < 256; b++) goesLeft[b] = (s.catBits[b >>> 5]! >>> (b & 31)) & 1;
  } else {
    for (let b = 0; b <= s.binThreshold; b++) goesLeft[b] = 1;
    goesLeft[data.mapper.missingBin] = s.missingLeft ? 1 : 0;
  }
  return start + data.builder.partition(goesLeft, s.feature, start, end);
}

/**
 * The partition kernel: rows of idx[start..end) going left are packed from idx[start], the others
 * from scratch[start], in order; returns how many went left. Every row is written to both sides
 * with only the cursors moving, so the loop has no data-dependent branch to mispredict. Like
 * buildHistogram it uses nothing from outside its body (parallel.ts runs its source in workers).
 */
export function partitionRange(
  columns: Uint8Array,
  n: number,
  feature: number,
  idx: Uint32Array,
  scratch: Uint32Array,
  goesLeft: Uint8Array,
  start: number,
  end: number,
): number {
  const off = feature * n;
  let l = start;
  let r = start;
  for (let t = start; t < end; t++) {
    const row = idx[t]!;
    const left = goesLeft[columns[off + row]!]!;
    idx[l] = row;
    scratch[r] = row;
    l += left;
    r += 1 - left;
  }
  return l - start;
}

/** The best split of a node over all features, or null when none gains. */
function bestSplit(hist: Float64Array, mapper: BinMapper, d: number, G: number, H: number, C: number, opts: GrowthOptions, constantHessian: boolean): Candidate | null {
  const W = mapper.maxBins + 1;
  const lambda = opts.l2;
  const minLeaf = opts.minSamplesLeaf;
  const parentScore = (G * G) / (H + lambda);
  let best: Candidate | null = null;
  let bestGain = 0;
  for (let j = 0; j < d; j++) {
    const off = j * W * SLOT;
    const nb = mapper.nBins[j]!;
    const mo = off + mapper.missingBin * SLOT;
    const mg = hist[mo]!;
    const mh = hist[mo + 1]!;
    const mc = hist[mo + 2]!;
    if (mapper.categorical[j]) {
      const c = categoricalSplit(hist, off, nb, mh, mc, G, H, C, lambda, minLeaf, parentScore, constantHessian, mapper.missingBin);
      if (c !== null && c.gain > bestGain) {
        bestGain = c.gain;
        best = { ...c, feature: j, binThreshold: 0, missingLeft: c.missingLeft };
      }
      continue;
    }
    let cg = 0;
    let ch = 0;
    let cc = 0;
    const last = mc > 0 ? nb - 1 : nb - 2;
    for (let b = 0; b <= last; b++) {
      const o = off + b * SLOT;
      cg += hist[o]!;
      ch += hist[o + 1]!;
      cc += hist[o + 2]!;
      // Missing values to the right.
      let rc = C - cc;
      if (cc >= minLeaf && rc >= minLeaf) {
        const rh = H - ch;
        if (ch >= MIN_CHILD_HESSIAN && rh >= MIN_CHILD_HESSIAN) {
          const rg = G - cg;
          const gain = (cg * cg) / (ch + lambda) + (rg * rg) / (rh + lambda) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            best = { gain, feature: j, binThreshold: b, missingLeft: false, catBits: null, leftG: cg, leftH: ch, leftC: cc };
          }
        }
      }
      // Missing values to the left.
      if (mc > 0 && b < nb - 1) {
        const lc = cc + mc;
        rc = C - lc;
        if (lc >= minLeaf && rc >= minLeaf) {
          const lh = ch + mh;
          const rh = H - lh;
          if (lh >= MIN_CHILD_HESSIAN && rh >= MIN_CHILD_HESSIAN) {
            const lg = cg + mg;
            const rg = G - lg;
            const gain = (lg * lg) / (lh + lambda) + (rg * rg) / (rh + lambda) - parentScore;
            if (gain > bestGain) {
              bestGain = gain;
              best = { gain, feature: j, binThreshold: b, missingLeft: true, catBits: null, leftG: lg, leftH: lh, leftC: lc };
            }
          }
        }
      }
    }
  }
  return best;
}

/**
 * The best split of a categorical feature: the categories (missing counted as one) with enough
 * support are ordered by gradient/(hessian + smoothing), and the best prefix from either end goes
 * left (the ordering of Fisher 1958, as LightGBM and scikit-learn use it). Rarer categories go right.
 */
function categoricalSplit(
  hist: Float64Array,
  off: number,
  nb: number,
  mh: number,
  mc: number,
  G: number,
  H: number,
  C: number,
  lambda: number,
  minLeaf: number,
  parentScore: number,
  constantHessian: boolean,
  missingBin: number,
): Omit<Candidate, 'feature' | 'binThreshold'> | null {
  const used: number[] = [];
  for (let b = 0; b < nb; b++) {
    const o = off + b * SLOT;
    const support = constantHessian ? hist[o + 2]! : hist[o + 1]!;
    if (hist[o + 2]! > 0 && support >= MIN_CAT_SUPPORT) used.push(b);
  }
  if (mc > 0 && (constantHessian ? mc : mh) >= MIN_CAT_SUPPORT) used.push(missingBin);
  if (used.length < 2) return null;
  const stat = (b: number, k: number): number => hist[off + b * SLOT + k]!;
  const ratio = (b: number): number => stat(b, 0) / (stat(b, 1) + MIN_CAT_SUPPORT);
  used.sort((a, b) => ratio(a) - ratio(b) || a - b);
  const maxCats = Math.min(MAX_CAT_THRESHOLD, (used.length + 1) >> 1);
  let best: { gain: number; dir: number; k: number; lg: number; lh: number; lc: number } | null = null;
  for (const dir of [1, -1]) {
    let cg = 0;
    let ch = 0;
    let cc = 0;
    for (let i = 0; i < maxCats; i++) {
      const b = used[dir === 1 ? i : used.length - 1 - i]!;
      cg += stat(b, 0);
      ch += stat(b, 1);
      cc += stat(b, 2);
      const rc = C - cc;
      const rh = H - ch;
      if (cc < minLeaf || rc < minLeaf || ch < MIN_CHILD_HESSIAN || rh < MIN_CHILD_HESSIAN) continue;
      const rg = G - cg;
      const gain = (cg * cg) / (ch + lambda) + (rg * rg) / (rh + lambda) - parentScore;
      if (gain > (best?.gain ?? 0)) best = { gain, dir, k: i + 1, lg: cg, lh: ch, lc: cc };
    }
  }
  if (best === null) return null;
  const bits = new Uint32Array(Math.ceil((missingBin + 1) / 32));
  let missingLeft = false;
  for (let i = 0; i < best.k; i++) {
    const b = used[best.dir === 1 ? i : used.length - 1 - i]!;
    bits[b >>> 5]! |= 1 << (b & 31);
    if (b === missingBin) missingLeft = true;
  }
  return { gain: best.gain, missingLeft, catBits: bits, leftG: best.lg, leftH: best.lh, leftC: best.lc };
}
