import { Worker } from 'node:worker_threads';
import { type TreeApplication, addLeafValues, gradientRange } from './losses.js';
import { type GrowerData, type HistogramBuilder, binWords, buildHistogram, histogramSize, partitionRange, serialBuilder, wasmHistogram } from './grower.js';

/** Fewest rows of a node whose work is shared out; smaller ones are quicker done here. */
const MIN_ROWS_PER_THREAD = 2_048;

/** Control words of a worker. */
const GEN = 0;
const KERNEL = 1;
const START = 2;
const END = 3;
const FEATURE = 4;
const DONE = 5;
const RESULT = 6;
const CONTROL_WORDS = 8;
/** Loads of a control word before a thread sleeps on it (some tens of microseconds). */
const SPIN = 20_000;
const HISTOGRAM = 0;
const PARTITION = 1;
const ADD_LEAVES = 2;
const GRADIENTS = 3;

/** True when the arrays a worker reads live in shared memory. */
function shared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/**
 * Node work split among `threads` threads: this one and threads − 1 workers. A histogram is
 * summed by each thread over its share of the node's rows into its own histogram, added up here;
 * a partition is done by each thread on its share and the pieces joined in order. The rows, bins,
 * gradients and hessians are SharedArrayBuffers the workers read in place; hand-offs are Atomics
 * waits, not messages, so a node costs microseconds of coordination. The workers run the source
 * of buildHistogram and partitionRange themselves (no second copy of either loop), or, when the
 * grower's arrays live in the WebAssembly arena, the same kernels as this thread (its `layout`),
 * and they add each tree's leaf values and compute the gradients on their shares. Histogram sums
 * are the same numbers in another order: results are reproducible for a given seed and thread
 * count.
 */
export function parallelBuilder(data: Omit<GrowerData, 'builder'>, threads: number, apply: TreeApplication | null = null): HistogramBuilder & { close(): void } {
  const { bins, columns, n, grad, hess, idx, scratch, constantHessian } = data;
  const W = data.mapper.maxBins + 1;
  // This thread's kernels: the whole of a node too small to share, and its own share of the others.
  const local = serialBuilder(data, apply);
  if (threads < 2) return { ...local, close() {} };
  const applied = apply === null ? [] : [apply.raw, apply.y, ...(apply.w === null ? [] : [apply.w]), apply.leafStart, apply.leafEnd, apply.leafValue];
  if (![bins, columns, grad, hess, idx, scratch, ...applied].every(shared)) throw new Error('internal error: the parallel builder needs its arrays in shared memory');
  const words = binWords(bins);
  const wordsPerRow = data.stride >> 2;
  const size = histogramSize(data.stride, data.mapper);
  const { histogram, partitionShare, table: goesLeft, layout: wasm } = local.kernels;
  const workers: Array<{ worker: Worker; ctrl: Int32Array; hist: Float64Array }> = [];
  const source = `
    const { workerData } = require('node:worker_threads');
    const buildHistogram = ${buildHistogram.toString()};
    const wasmHistogram = ${wasmHistogram.toString()};
    const partitionRange = ${partitionRange.toString()};
    const addLeafValues = ${addLeafValues.toString()};
    const gradientRange = ${gradientRange.toString()};
    const { words, wordsPerRow, columns, n, grad, hess, idx, scratch, goesLeft, W, constantHessian, apply, wasm, ctrl, hist } = workerData;
    const kernels = wasm !== null && hist.buffer === wasm.memory.buffer ? new WebAssembly.Instance(wasm.module, { env: { memory: wasm.memory } }).exports : null;
    let seen = 0;
    for (;;) {
      // Spin a little before sleeping: the next node's work usually comes within microseconds,
      // sooner than a sleeping thread wakes.
      for (let i = 0; i < ${SPIN} && Atomics.load(ctrl, ${GEN}) === seen; i++);
      Atomics.wait(ctrl, ${GEN}, seen);
      const gen = Atomics.load(ctrl, ${GEN});
      if (gen < 0) break;
      seen = gen;
      const kernel = ctrl[${KERNEL}];
      if (kernel === ${HISTOGRAM}) {
        if (kernels !== null) wasmHistogram(kernels, hist, wasm.wordsAt, wordsPerRow, W, wasm.idxAt, ctrl[${START}], ctrl[${END}], wasm.gradAt, wasm.hessAt, constantHessian, hess);
        else buildHistogram(hist, words, wordsPerRow, W, idx, ctrl[${START}], ctrl[${END}], grad, hess, constantHessian);
      }
      else if (kernel === ${PARTITION}) {
        ctrl[${RESULT}] = kernels !== null && wasm.partition
          ? kernels.partition(wasm.columnsAt, n, ctrl[${FEATURE}], wasm.idxAt, wasm.scratchAt, wasm.tableAt, ctrl[${START}], ctrl[${END}])
          : partitionRange(columns, n, ctrl[${FEATURE}], idx, scratch, goesLeft, ctrl[${START}], ctrl[${END}]);
      }
      else if (kernel === ${ADD_LEAVES}) addLeafValues(apply.raw, idx, apply.leafStart, apply.leafEnd, apply.leafValue, ctrl[${FEATURE}], ctrl[${START}], ctrl[${END}]);
      else gradientRange(apply.code, apply.raw, apply.y, apply.w, grad, hess, ctrl[${START}], ctrl[${END}]);
      Atomics.store(ctrl, ${DONE}, gen);
      Atomics.notify(ctrl, ${DONE});
    }`;
  for (let t = 1; t < threads; t++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
    // A worker's own histogram: in the arena when there is room, so it runs the WebAssembly kernel too.
    const fromArena = local.newHistogram();
    const hist = shared(fromArena) ? fromArena : new Float64Array(new SharedArrayBuffer(size * 8));
    const worker = new Worker(source, { eval: true, workerData: { words, wordsPerRow, columns, n, grad, hess, idx, scratch, goesLeft, W, constantHessian, apply, wasm, ctrl, hist } });
    worker.unref();
    workers.push({ worker, ctrl, hist });
  }
  let generation = 0;
  /** Starts `kernel` on workers 1..parts−1 over their shares of [start, end); returns the share size. */
  const dispatch = (kernel: number, parts: number, start: number, end: number, feature: number): number => {
    generation++;
    const per = Math.ceil((end - start) / parts);
    for (let t = 1; t < parts; t++) {
      const w = workers[t - 1]!;
      w.ctrl[KERNEL] = kernel;
      w.ctrl[START] = start + t * per;
      w.ctrl[END] = Math.min(end, start + (t + 1) * per);
      w.ctrl[FEATURE] = feature;
      Atomics.store(w.ctrl, GEN, generation);
      Atomics.notify(w.ctrl, GEN);
    }
    return per;
  };
  const join = (w: { ctrl: Int32Array }): void => {
    // Wait on the value seen: had the worker finished between a load and the wait, waiting on a
    // fresh load would sleep through its only notify.
    for (let i = 0; i < SPIN; i++) if (Atomics.load(w.ctrl, DONE) === generation) return;
    for (;;) {
      const seen = Atomics.load(w.ctrl, DONE);
      if (seen === generation) return;
      Atomics.wait(w.ctrl, DONE, seen);
    }
  };
  const partsFor = (rows: number): number => Math.max(1, Math.min(threads, Math.floor(rows / MIN_ROWS_PER_THREAD)));
  return {
    build(hist, start, end) {
      const parts = partsFor(end - start);
      if (parts < 2) return histogram(hist, start, end);
      const per = dispatch(HISTOGRAM, parts, start, end, 0);
      histogram(hist, start, Math.min(end, start + per));
      for (let t = 1; t < parts; t++) {
        const w = workers[t - 1]!;
        join(w);
        const h = w.hist;
        for (let k = 0; k < size; k++) hist[k]! += h[k]!;
      }
    },
    partition(table, feature, start, end) {
      const parts = partsFor(end - start);
      if (parts < 2) return local.partition(table, feature, start, end);
      goesLeft.set(table);
      const per = dispatch(PARTITION, parts, start, end, feature);
      // Each share packs its left rows at its start in idx and its right rows at its start in
      // scratch; the lefts are joined in order, then the rights after them.
      const shares: Array<{ from: number; rows: number; lefts: number }> = [];
      shares.push({ from: start, rows: Math.min(per, end - start), lefts: partitionShare(feature, start, Math.min(end, start + per)) });
      for (let t = 1; t < parts; t++) {
        const w = workers[t - 1]!;
        join(w);
        const from = start + t * per;
        shares.push({ from, rows: Math.min(end, from + per) - from, lefts: w.ctrl[RESULT]! });
      }
      let at = start;
      for (const s of shares) {
        if (s.from !== at) idx.copyWithin(at, s.from, s.from + s.lefts);
        at += s.lefts;
      }
      const lefts = at - start;
      for (const s of shares) {
        const rights = s.rows - s.lefts;
        idx.set(scratch.subarray(s.from, s.from + rights), at);
        at += rights;
      }
      return lefts;
    },
    applyTree(leaves) {
      if (apply === null) throw new Error('internal error: this builder was made without the arrays a tree is applied to');
      const parts = partsFor(n);
      if (parts < 2) return local.applyTree!(leaves);
      // Leaf values by position shares, then (every row's raw value final) gradients by row shares.
      let per = dispatch(ADD_LEAVES, parts, 0, n, leaves);
      addLeafValues(apply.raw, idx, apply.leafStart, apply.leafEnd, apply.leafValue, leaves, 0, per);
      for (let t = 1; t < parts; t++) join(workers[t - 1]!);
      per = dispatch(GRADIENTS, parts, 0, n, 0);
      gradientRange(apply.code, apply.raw, apply.y, apply.w, grad, hess, 0, per);
      for (let t = 1; t < parts; t++) join(workers[t - 1]!);
    },
    newHistogram: local.newHistogram,
    close() {
      for (const w of workers) {
        Atomics.store(w.ctrl, GEN, -1);
        Atomics.notify(w.ctrl, GEN);
        void w.worker.terminate();
      }
    },
  };
}
