import { FluxError, invalid } from '../../core/index.js';
import type { ClassLabel } from '../format.js';
import type { Prediction, Predictor } from '../predictor.js';
import type { OnnxInputElement, OnnxPlan } from './onnx-graph.js';
import { onnxThread, openInlineRunner, openWorkerRunner, type OnnxFeed, type OnnxOutput, type OnnxRunner, type OnnxThread } from './onnx-runner.js';

export interface OnnxPredictorOptions {
  /** Threads of one run's operators (ONNX Runtime's intra-op pool); 1 by default: a server runs many requests, not one wide one. */
  intraOpThreads?: number;
  /** Where the session runs: a worker thread (default, or FLUXOPS_ONNX_THREAD) or the calling thread. */
  thread?: OnnxThread;
}

/**
 * A predictor on an ONNX Runtime session (CPU; in a worker thread unless told otherwise). It feeds the decoded rows as the plan says (one
 * [N, F] matrix or one input per column, converted to the inputs' element types) and fetches only
 * the outputs it reads. A graph with a fixed batch size of 1 is run row by row.
 */
export async function createOnnxPredictor(plan: OnnxPlan, what: string, opts: OnnxPredictorOptions = {}): Promise<Predictor> {
  const thread = onnxThread(opts.thread);
  let session: OnnxRunner;
  try {
    const settings = { intraOpThreads: opts.intraOpThreads ?? 1 };
    session = thread === 'worker' ? await openWorkerRunner(plan.bytes, settings) : await openInlineRunner(plan.bytes, settings);
  } catch (e) {
    throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `ONNX Runtime cannot load ${what}: ${firstLine(e)}`);
  }
  const d = plan.columns.length;
  const inputNames = Object.freeze(plan.columns.map((c) => c.name));
  const fetches = plan.kind === 'classifier' ? [plan.label!.name, plan.probabilities!.name] : [plan.value!.name];
  let inFlight = 0;
  let closed = false;
  let drained: (() => void) | undefined;

  const feedsFor = (X: Float64Array, n: number, row0: number): Record<string, OnnxFeed> => {
    const f = plan.feeds;
    if (f.mode === 'matrix') {
      const data = convert(X, f.element, n, d, 0, d, row0, inputNames);
      return { [f.input]: { type: f.element, data, dims: f.rank === 2 ? [n, d] : [n] } };
    }
    const feeds: Record<string, OnnxFeed> = {};
    f.inputs.forEach((input, j) => {
      const data = convert(X, input.element, n, 1, j, d, row0, inputNames);
      feeds[input.name] = { type: input.element, data, dims: input.rank === 2 ? [n, 1] : [n] };
    });
    return feeds;
  };

  const run = async (X: Float64Array, n: number, row0: number): Promise<Record<string, OnnxOutput>> => {
    try {
      return await session.run(feedsFor(X, n, row0), fetches);
    } catch (e) {
      if (e instanceof FluxError) throw e;
      throw new FluxError('INVALID_DATA', `the ONNX model could not score the input: ${firstLine(e)}`);
    }
  };

  // The probability width and labels are known from the graph, or learnt from one row of zeros.
  let classes = plan.classes;
  let width = plan.probabilities?.width ?? classes?.length ?? null;
  if (plan.kind === 'classifier' && width === null) {
    const probe = await run(new Float64Array(d), 1, 0).catch((e: unknown) => {
      void session.release();
      throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${what}: the number of classes is not in the graph and a test row failed (${firstLine(e)})`);
    });
    width = probe[plan.probabilities!.name]!.dims[1] ?? null;
    if (width === null || width < 2) {
      await session.release();
      throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${what}: the probability output has ${width ?? 'no'} columns; a classifier needs at least 2`);
    }
  }
  if (plan.kind === 'classifier') classes ??= Array.from({ length: width! }, (_, c) => c);
  const frozenClasses = Object.freeze([...(classes ?? [])]);
  const k = frozenClasses.length;

  const collect = (out: Record<string, OnnxOutput>, n: number, into: Prediction, row0: number): void => {
    if (plan.kind === 'regressor') {
      const t = out[plan.value!.name]!;
      if (t.data.length !== n) throw badOutput(what, plan.value!.name, t.dims, `[${n}] or [${n}, 1]`);
      into.values!.set(t.data as Float32Array | Float64Array, row0);
      return;
    }
    const label = out[plan.label!.name]!;
    const probs = out[plan.probabilities!.name]!;
    if (label.data.length !== n) throw badOutput(what, plan.label!.name, label.dims, `[${n}]`);
    if (probs.data.length !== n * k || (probs.dims.length === 2 && probs.dims[1] !== k)) throw badOutput(what, plan.probabilities!.name, probs.dims, `[${n}, ${k}]`);
    into.probabilities!.set(probs.data as Float32Array | Float64Array, row0 * k);
    const data = label.data;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      into.labels![row0 + i] = typeof v === 'bigint' ? Number(v) : v;
    }
  };

  return {
    kind: plan.kind,
    signature: plan.signature,
    classes: frozenClasses,
    inputNames,
    offThread: thread === 'worker',
    async predictMatrix(X: Float64Array, n: number): Promise<Prediction> {
      if (closed) throw new FluxError('TEMPORARILY_UNAVAILABLE', `${what} was unloaded`);
      if (!Number.isInteger(n) || n < 0) throw invalid(`row count must be a non-negative integer, got ${n}`);
      if (X.length !== n * d) throw invalid(`expected ${n} rows × ${d} inputs (${inputNames.join(', ')}) = ${n * d} values, got ${X.length}`);
      const result: Prediction =
        plan.kind === 'classifier' ? { labels: new Array<ClassLabel>(n), probabilities: new Float64Array(n * k) } : { values: new Float64Array(n) };
      if (n === 0) return result;
      inFlight++;
      try {
        if (plan.batch === 1) {
          for (let i = 0; i < n; i++) collect(await run(X.subarray(i * d, (i + 1) * d), 1, i), 1, result, i);
        } else {
          collect(await run(X, n, 0), n, result, 0);
        }
      } finally {
        if (--inFlight === 0) drained?.();
      }
      return result;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      await session.release();
    },
  };
}

/**
 * Copies `cols` columns starting at `col0` of a row-major n×d matrix into the input's element
 * type. Integer inputs refuse a value that is not an integer of their range, naming row and column.
 */
function convert(
  X: Float64Array,
  element: OnnxInputElement,
  n: number,
  cols: number,
  col0: number,
  d: number,
  row0: number,
  names: readonly string[],
): Float32Array | Float64Array | BigInt64Array | Int32Array {
  if (element === 'float64' && cols === d) return X;
  const size = n * cols;
  const out = element === 'float64' ? new Float64Array(size) : element === 'float32' ? new Float32Array(size) : element === 'int64' ? new BigInt64Array(size) : new Int32Array(size);
  for (let i = 0, o = 0; i < n; i++) {
    for (let j = 0; j < cols; j++, o++) {
      const v = X[i * d + col0 + j]!;
      if (element === 'int64' || element === 'int32') {
        const limit = element === 'int32' ? 2 ** 31 : 2 ** 53;
        if (!Number.isInteger(v) || Math.abs(v) > limit) {
          throw new FluxError('INVALID_DATA', `row ${row0 + i + 1}: ${names[col0 + j]} must be an integer for this model (an ${element} input), got ${v}`, { row: row0 + i + 1 });
        }
        if (element === 'int64') (out as BigInt64Array)[o] = BigInt(v);
        else (out as Int32Array)[o] = v;
      } else {
        (out as Float32Array | Float64Array)[o] = v;
      }
    }
  }
  return out;
}

function badOutput(what: string, name: string, dims: readonly number[], expected: string): FluxError {
  return new FluxError('UNSUPPORTED_MODEL_FORMAT', `${what} returned output '${name}' of shape [${dims.join(', ')}], expected ${expected}`);
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 500);
}
