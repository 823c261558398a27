import { Worker } from 'node:worker_threads';
import { type GrowerData, type HistogramBuilder, SLOT, buildHistogram } from './grower.js';

/** Fewest rows of a node whose histogram is shared out; smaller ones are quicker built here. */
const MIN_ROWS_PER_THREAD = 16_384;

/** Control words of a worker: [0] generation, [1] start, [2] end, [3] finished generation. */
const GEN = 0;
const START = 1;
const END = 2;
const DONE = 3;

/** True when the arrays a worker reads live in shared memory. */
function shared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/**
 * A histogram builder that splits a node's rows among `threads` threads: this one and
 * threads − 1 workers, each summing its share into its own histogram, added up here. The rows,
 * bins, gradients and hessians are SharedArrayBuffers the workers read in place; hand-offs are
 * Atomics waits, not messages, so a node costs microseconds of coordination. The workers run the
 * source of buildHistogram itself (no second copy of the loop). The sums are the same numbers in
 * another order: results are reproducible for a given seed and thread count.
 */
export function parallelBuilder(data: Omit<GrowerData, 'builder'>, threads: number): HistogramBuilder & { close(): void } {
  const { bins, d, grad, hess, idx, constantHessian } = data;
  const W = data.mapper.maxBins + 1;
  if (threads < 2 || ![bins, grad, hess, idx].every(shared)) {
    return { build: (hist, start, end) => buildHistogram(hist, bins, d, W, idx, start, end, grad, hess, constantHessian), close() {} };
  }
  const size = d * W * SLOT;
  const workers: Array<{ worker: Worker; ctrl: Int32Array; hist: Float64Array }> = [];
  const source = `
    const { workerData } = require('node:worker_threads');
    const buildHistogram = ${buildHistogram.toString()};
    const { bins, grad, hess, idx, d, W, constantHessian, ctrl, hist } = workerData;
    let seen = 0;
    for (;;) {
      Atomics.wait(ctrl, ${GEN}, seen);
      const gen = Atomics.load(ctrl, ${GEN});
      if (gen < 0) break;
      seen = gen;
      buildHistogram(hist, bins, d, W, idx, ctrl[${START}], ctrl[${END}], grad, hess, constantHessian);
      Atomics.store(ctrl, ${DONE}, gen);
      Atomics.notify(ctrl, ${DONE});
    }`;
  for (let t = 1; t < threads; t++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(4 * 4));
    const hist = new Float64Array(new SharedArrayBuffer(size * 8));
    const worker = new Worker(source, { eval: true, workerData: { bins, grad, hess, idx, d, W, constantHessian, ctrl, hist } });
    worker.unref();
    workers.push({ worker, ctrl, hist });
  }
  let generation = 0;
  return {
    build(hist, start, end) {
      const rows = end - start;
      const parts = Math.min(threads, Math.floor(rows / MIN_ROWS_PER_THREAD));
      if (parts < 2) {
        buildHistogram(hist, bins, d, W, idx, start, end, grad, hess, constantHessian);
        return;
      }
      generation++;
      const per = Math.ceil(rows / parts);
      for (let t = 1; t < parts; t++) {
        const w = workers[t - 1]!;
        w.ctrl[START] = start + t * per;
        w.ctrl[END] = Math.min(end, start + (t + 1) * per);
        Atomics.store(w.ctrl, GEN, generation);
        Atomics.notify(w.ctrl, GEN);
      }
      buildHistogram(hist, bins, d, W, idx, start, Math.min(end, start + per), grad, hess, constantHessian);
      for (let t = 1; t < parts; t++) {
        const w = workers[t - 1]!;
        while (Atomics.load(w.ctrl, DONE) !== generation) Atomics.wait(w.ctrl, DONE, Atomics.load(w.ctrl, DONE));
        const h = w.hist;
        for (let k = 0; k < size; k++) hist[k]! += h[k]!;
      }
    },
    close() {
      for (const w of workers) {
        Atomics.store(w.ctrl, GEN, -1);
        Atomics.notify(w.ctrl, GEN);
        void w.worker.terminate();
      }
    },
  };
}
