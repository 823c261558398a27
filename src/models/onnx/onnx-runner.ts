import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type OrtModule from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { FluxError } from '../../core/index.js';

/**
 * Where an ONNX Runtime session runs. `onnxruntime-node`'s `session.run` returns a promise but
 * computes on the calling thread (its binding runs synchronously from `setImmediate`), so a slow
 * graph would hold the event loop for its whole run. The `worker` runner (the default) keeps the
 * session in a worker thread: the server goes on reading and answering other requests while a
 * graph computes, at the cost of a message each way (tens of µs). `inline` runs on the calling
 * thread (`FLUXOPS_ONNX_THREAD=inline`).
 */
export type OnnxThread = 'worker' | 'inline';

export type OnnxTensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | string[];

export interface OnnxFeed {
  type: 'float32' | 'float64' | 'int64' | 'int32';
  data: Float32Array | Float64Array | BigInt64Array | Int32Array;
  dims: number[];
}

export interface OnnxOutput {
  type: string;
  data: OnnxTensorData;
  dims: readonly number[];
}

export interface OnnxRunner {
  /** The outputs named in `fetches`; rejects with ONNX Runtime's message as an Error. */
  run(feeds: Record<string, OnnxFeed>, fetches: readonly string[]): Promise<Record<string, OnnxOutput>>;
  release(): Promise<void>;
}

export interface OnnxSessionSettings {
  intraOpThreads: number;
}

type Ort = typeof OrtModule;
let ortModule: Promise<Ort> | undefined;

/** ONNX Runtime is loaded on first use: most commands, and servers of built-in models, never need it. */
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').then((m) => m.default);
  return ortModule;
}

function sessionOptions(s: OnnxSessionSettings): InferenceSession.SessionOptions {
  return { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: s.intraOpThreads, interOpNumThreads: 1, executionMode: 'sequential' };
}

/** The thread to run on: the option, else FLUXOPS_ONNX_THREAD, else a worker. */
export function onnxThread(option: OnnxThread | undefined): OnnxThread {
  const v = option ?? process.env.FLUXOPS_ONNX_THREAD ?? 'worker';
  if (v !== 'worker' && v !== 'inline') throw new FluxError('INVALID_PARAMETER_VALUE', `FLUXOPS_ONNX_THREAD must be worker or inline, not '${v.slice(0, 40)}'`, { setting: 'FLUXOPS_ONNX_THREAD' });
  return v;
}

/** Opens a session on the calling thread; throws ONNX Runtime's own error when it cannot load the graph. */
export async function openInlineRunner(bytes: Uint8Array, settings: OnnxSessionSettings): Promise<OnnxRunner> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(bytes, sessionOptions(settings));
  return {
    async run(feeds, fetches) {
      const tensors: Record<string, OrtModule.Tensor> = {};
      for (const [name, f] of Object.entries(feeds)) tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
      const out = await session.run(tensors, [...fetches]);
      const result: Record<string, OnnxOutput> = {};
      for (const name of fetches) {
        const t = out[name]!;
        result[name] = { type: t.type, data: t.data as OnnxTensorData, dims: t.dims };
      }
      return result;
    },
    release: () => session.release(),
  };
}

/**
 * The worker's program: one session, answering `{id, feeds, fetches}` with `{id, outputs}` or
 * `{id, error}`. Plain JavaScript evaluated by the worker (no file to ship beside the build);
 * it loads ONNX Runtime from the path the main thread resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
let session;
const ready = ort.InferenceSession.create(new Uint8Array(workerData.bytes), workerData.options).then(
  (s) => { session = s; parentPort.postMessage({ type: 'ready' }); },
  (e) => { parentPort.postMessage({ type: 'failed', message: String(e && e.message || e) }); },
);
parentPort.on('message', async (m) => {
  await ready;
  if (m.type === 'release') {
    if (session) await session.release();
    parentPort.postMessage({ type: 'released' });
    parentPort.close();
    return;
  }
  try {
    const feeds = {};
    for (const [name, f] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
    const out = await session.run(feeds, m.fetches);
    const outputs = {};
    for (const name of m.fetches) outputs[name] = { type: out[name].type, data: out[name].data, dims: out[name].dims };
    parentPort.postMessage({ id: m.id, outputs });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});
`;

type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'released' }
  | { id: number; outputs: Record<string, OnnxOutput> }
  | { id: number; error: string };

interface Pending {
  resolve(out: Record<string, OnnxOutput>): void;
  reject(e: Error): void;
}

/**
 * Opens a session in a worker thread. The worker holds the process open only while a run is in
 * flight; should it die, the runs in flight fail with 503 and the next run starts a new one.
 */
export async function openWorkerRunner(bytes: Uint8Array, settings: OnnxSessionSettings): Promise<OnnxRunner> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const model = Uint8Array.from(bytes);
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let released = false;

  const start = (): Promise<Worker> =>
    new Promise<Worker>((resolve, reject) => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath, bytes: model, options: sessionOptions(settings) } });
      w.unref();
      let up = false;
      w.on('message', (m: WorkerReply) => {
        if ('id' in m) {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (pending.size === 0) w.unref();
          if ('error' in m) p?.reject(new Error(m.error));
          else p?.resolve(m.outputs);
        } else if (m.type === 'ready') {
          up = true;
          resolve(w);
        } else if (m.type === 'failed') {
          void w.terminate();
          reject(new Error(m.message));
        }
      });
      const down = (why: string) => {
        if (current === starting) current = undefined;
        if (!up) reject(new Error(why));
        for (const p of pending.values()) p.reject(new FluxError('TEMPORARILY_UNAVAILABLE', `the ONNX Runtime worker stopped (${why}); retry`));
        pending.clear();
      };
      w.on('error', (e) => down(e.message));
      w.on('exit', (code) => down(`exit code ${code}`));
    });

  let starting = start();
  let current: Promise<Worker> | undefined = starting;
  await starting;

  return {
    async run(feeds, fetches) {
      if (released) throw new FluxError('TEMPORARILY_UNAVAILABLE', 'the ONNX session was released');
      if (current === undefined) current = starting = start();
      const w = await current;
      const id = nextId++;
      return new Promise<Record<string, OnnxOutput>>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.ref();
        w.postMessage({ id, feeds, fetches });
      });
    },
    async release() {
      if (released) return;
      released = true;
      const w = await current?.catch(() => undefined);
      if (w === undefined) return;
      current = undefined;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.ref();
        w.postMessage({ type: 'release' });
      });
    },
  };
}
