/**
 * ONNX predictor costs, in process: µs per predictMatrix call of the export of a trained model
 * (built-in predictor, ONNX on the calling thread, ONNX in a worker thread; one row, sequential
 * and 16 in flight), and how long a CPU-heavy graph holds the event loop on either thread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constantTensor, createPredictor, encodeOnnxModel, exportToOnnx, loadPredictor, onnxModel, onnxNode, tensorInfo, type Predictor } from '../src/models/index.js';
import { LocalArtifactStore } from '../src/storage/artifacts/index.js';
import { generateDiabetesCsv, trainClassifier } from '../src/training/index.js';
import { fmt, isMain, machine } from './support.js';

export interface OnnxBenchResult {
  perCallUs: Array<{ predictor: string; sequential: number; concurrent16: number }>;
  heavy: Array<{ thread: string; runMs: number; longestGapMs: number }>;
}

async function perCall(p: Predictor, X: Float64Array): Promise<{ sequential: number; concurrent16: number }> {
  for (let i = 0; i < 1000; i++) await p.predictMatrix(X, 1);
  const n = 10_000;
  let t = performance.now();
  for (let i = 0; i < n; i++) await p.predictMatrix(X, 1);
  const sequential = ((performance.now() - t) / n) * 1000;
  t = performance.now();
  for (let r = 0; r < n / 16; r++) await Promise.all(Array.from({ length: 16 }, () => p.predictMatrix(X, 1)));
  return { sequential, concurrent16: ((performance.now() - t) / n) * 1000 };
}

/** Twelve 256×256 MatMuls over N rows: about 70 ms for 4,000 rows on one core. */
function heavyGraph(): Uint8Array {
  const F = 256;
  const initializers = [];
  const nodes = [];
  let prev = 'X';
  for (let l = 0; l < 12; l++) {
    initializers.push(constantTensor(`W${l}`, 'float32', [F, F], Array.from({ length: F * F }, (_, i) => ((i % 7) - 3) / 1000)));
    nodes.push(onnxNode('MatMul', [prev, `W${l}`], [`h${l}`]));
    prev = `h${l}`;
  }
  initializers.push(constantTensor('V', 'float32', [F, 1], Array.from({ length: F }, () => 0.01)));
  nodes.push(onnxNode('MatMul', [prev, 'V'], ['y']));
  return encodeOnnxModel(onnxModel({ graph: { name: 'heavy', inputs: [tensorInfo('X', 'float32', ['N', F])], outputs: [tensorInfo('y', 'float32', ['N', 1])], initializers, nodes }, opsets: { '': 13 } }));
}

async function longestGap(p: Predictor, X: Float64Array, n: number): Promise<{ runMs: number; longestGapMs: number }> {
  await p.predictMatrix(X, n);
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 2);
  const t = performance.now();
  await p.predictMatrix(X, n);
  const runMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 10));
  clearInterval(timer);
  return { runMs, longestGapMs: longest };
}

export async function runOnnxBench(): Promise<OnnxBenchResult> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-bench-onnx-'));
  try {
    const store = new LocalArtifactStore(root);
    const model = trainClassifier({ csvText: generateDiabetesCsv(2000, 3), target: 'Diabetic' }).model;
    await store.put('export/model.onnx', Buffer.from(exportToOnnx(model)));
    await store.put('heavy/model.onnx', Buffer.from(heavyGraph()));
    const row = Float64Array.from([2, 150, 80, 30, 100, 35.2, 0.5, 45]);
    const result: OnnxBenchResult = { perCallUs: [], heavy: [] };
    result.perCallUs.push({ predictor: 'built-in', ...(await perCall(createPredictor(model), row)) });
    for (const thread of ['inline', 'worker'] as const) {
      process.env.FLUXOPS_ONNX_THREAD = thread;
      const { predictor } = await loadPredictor(store, 'export');
      result.perCallUs.push({ predictor: `onnx ${thread}`, ...(await perCall(predictor, row)) });
      await predictor.close?.();
      const heavy = (await loadPredictor(store, 'heavy')).predictor;
      const n = 4000;
      result.heavy.push({ thread, ...(await longestGap(heavy, new Float64Array(n * 256).fill(0.5), n)) });
      await heavy.close?.();
    }
    delete process.env.FLUXOPS_ONNX_THREAD;
    return result;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export function printOnnxBench(r: OnnxBenchResult): void {
  for (const p of r.perCallUs) console.log(`onnx     ${p.predictor.padEnd(12)} ${fmt(p.sequential, 1)} µs/call sequential, ${fmt(p.concurrent16, 1)} µs/call with 16 in flight (1 row)`);
  for (const h of r.heavy) console.log(`onnx     heavy graph on ${h.thread.padEnd(6)} run ${fmt(h.runMs, 1)} ms, longest event-loop gap ${fmt(h.longestGapMs, 1)} ms`);
}

if (isMain(import.meta.url)) {
  console.log(`machine: ${machine()}`);
  printOnnxBench(await runOnnxBench());
}
