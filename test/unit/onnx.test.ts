import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import {
  EXPORT_INPUT,
  ONNX_META,
  attribute,
  constantTensor,
  createPredictor,
  decodeOnnxModel,
  encodeOnnxModel,
  exportToOnnx,
  inspectModelFolder,
  loadPredictor,
  onnxMlmodelText,
  onnxModel,
  onnxNode,
  planOnnxModel,
  tensorInfo,
  type BuiltinModel,
  type OnnxModelSpec,
  type Predictor,
} from '../../src/models/index.js';
import { ONNX_ML_PROTO3 } from '../../src/models/onnx/onnx-ml-proto.js';
import { LocalArtifactStore } from '../../src/storage/artifacts/index.js';
import { generateDiabetesCsv, trainClassifier } from '../../src/training/index.js';
import { tinyModel } from '../helpers/model-fixture.js';
import { MULTICLASS, REGRESSOR, heavyOnnx, multiclassExpected, multiclassOnnx, positionalRegressorOnnx, regressorExpected, regressorOnnx } from '../helpers/onnx-models.js';

let root: string;
let store: LocalArtifactStore;
const opened: Predictor[] = [];

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-onnx-'));
  store = new LocalArtifactStore(root);
});
afterAll(async () => {
  for (const p of opened) await p.close?.();
  fs.rmSync(root, { recursive: true, force: true });
});

let folders = 0;
/** A model folder in a real artifact store holding these files. */
async function folderWith(files: Record<string, Uint8Array | string>): Promise<string> {
  const folder = `m${++folders}`;
  for (const [name, data] of Object.entries(files)) await store.put(`${folder}/${name}`, Buffer.from(data));
  return folder;
}

async function load(files: Record<string, Uint8Array | string>): Promise<Predictor> {
  const { predictor } = await loadPredictor(store, await folderWith(files));
  opened.push(predictor);
  return predictor;
}

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FluxError);
    expect((e as FluxError).code).toBe('UNSUPPORTED_MODEL_FORMAT');
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

const trained = (): BuiltinModel =>
  trainClassifier({ csvText: generateDiabetesCsv(1200, 11), target: 'Diabetic' }).model;

describe('ONNX schema', () => {
  it("is ONNX v1.22.0's onnx-ml.proto3, unchanged", () => {
    expect(crypto.createHash('sha256').update(ONNX_ML_PROTO3).digest('hex')).toBe('e288e59c69797bf49238e9b5eda22ba260d0327431d8b1b91f99bee1c3d9a4f3');
  });

  it('writes and reads back a model, keeping metadata and attributes', () => {
    const bytes = multiclassOnnx();
    const m = decodeOnnxModel(bytes);
    // proto3 writes no default values: the default domain ('') is absent on the wire.
    expect(m.opset_import).toEqual([{ version: 13 }, { domain: 'ai.onnx.ml', version: 1 }]);
    expect(m.graph?.node?.map((n) => n.op_type)).toEqual(['LinearClassifier', 'ZipMap']);
    expect(Buffer.from(encodeOnnxModel(m)).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('export of a built-in model', () => {
  it('predicts what the built-in model predicts, within 1e-12 (asked: 1e-5), labels equal', async () => {
    const model = trained();
    const onnx = await load({ 'model.onnx': exportToOnnx(model) });
    const builtin = createPredictor(model);
    expect(onnx.kind).toBe('classifier');
    expect(onnx.inputNames).toEqual(builtin.inputNames);
    expect(onnx.classes).toEqual([0, 1]);
    const rows = 500;
    const d = builtin.inputNames.length;
    const X = Float64Array.from({ length: rows * d }, (_, i) => ((i * 7919) % 1000) / 10 + (i % d));
    const [a, b] = await Promise.all([builtin.predictMatrix(X, rows), onnx.predictMatrix(X, rows)]);
    let maxDiff = 0;
    for (let i = 0; i < rows * 2; i++) maxDiff = Math.max(maxDiff, Math.abs(a.probabilities![i]! - b.probabilities![i]!));
    console.log(`export vs built-in on ${rows} rows: max |Δp| = ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-12);
    expect(b.labels).toEqual(a.labels);
  });

  it('carries the input columns, classes and training time, and keeps text and fractional classes', async () => {
    const m = tinyModel();
    m.target.classes = ['no', 'yes'];
    const plan = planOnnxModel(exportToOnnx(m), 'export.onnx');
    expect(plan).toMatchObject({ kind: 'classifier', classes: ['no', 'yes'], trainedAt: m.trainedAt, columns: [{ name: 'x1', type: 'double' }, { name: 'x2', type: 'double' }] });
    expect(plan.feeds).toEqual({ mode: 'matrix', input: EXPORT_INPUT, element: 'float64', rank: 2 });
    const meta = new Map((decodeOnnxModel(exportToOnnx(m)).metadata_props ?? []).map((e) => [e.key, e.value]));
    expect(meta.get(ONNX_META.inputColumns)).toBe('["x1","x2"]');
    expect(meta.get(ONNX_META.classes)).toBe('["no","yes"]');
    const p = await load({ 'model.onnx': exportToOnnx(m) });
    expect((await p.predictMatrix(Float64Array.from([10, 0, -10, 0]), 2)).labels).toEqual(['yes', 'no']);
    m.target.classes = [0.5, 2.5];
    m.signature.outputs[0].type = 'double';
    const q = await load({ 'model.onnx': exportToOnnx(m) });
    expect(q.classes).toEqual([0.5, 2.5]);
    expect((await q.predictMatrix(Float64Array.from([10, 0]), 1)).labels).toEqual([2.5]);
  });
});

describe('ONNX classifiers and regressors', () => {
  it('a multiclass graph with ZipMap: classes from the graph, probabilities against softmax by hand', async () => {
    const plan = planOnnxModel(multiclassOnnx(), 'iris.onnx');
    expect(plan.classes).toEqual(MULTICLASS.classes);
    // ZipMap is taken out and its input fetched: ONNX Runtime for Node returns tensors only.
    expect(decodeOnnxModel(plan.bytes).graph?.node?.map((n) => n.op_type)).toEqual(['LinearClassifier']);
    // Without an MLmodel signature the four columns are named by position.
    expect(plan.columns.map((c) => c.name)).toEqual(['0', '1', '2', '3']);
    const mlmodel = onnxMlmodelText({ signature: { inputs: MULTICLASS.columns.map((name) => ({ name, type: 'float' })), outputs: [] } });
    const p = await load({ 'model.onnx': multiclassOnnx(), MLmodel: mlmodel });
    expect(p.inputNames).toEqual(MULTICLASS.columns);
    const rows = [
      [5.1, 3.5, 1.4, 0.2],
      [6.2, 2.9, 4.3, 1.3],
      [7.7, 3.0, 6.1, 2.3],
      [0, 0, 0, 0],
    ];
    const out = await p.predictMatrix(Float64Array.from(rows.flat()), rows.length);
    rows.forEach((row, i) => {
      const e = multiclassExpected(row);
      expect(out.labels![i]).toBe(e.label);
      for (let c = 0; c < 3; c++) expect(Math.abs(out.probabilities![i * 3 + c]! - e.probabilities[c]!)).toBeLessThan(1e-5);
    });
    expect(new Set(out.labels)).toEqual(new Set(MULTICLASS.classes));
  });

  it('a regressor with one input per column converts to int64 and refuses a fraction for it', async () => {
    const p = await load({ 'model.onnx': regressorOnnx() });
    expect(p.kind).toBe('regressor');
    expect(p.classes).toEqual([]);
    expect(p.inputNames).toEqual(REGRESSOR.columns);
    expect(p.signature.inputs).toEqual([
      { name: 'age', type: 'long' },
      { name: 'bmi', type: 'float' },
      { name: 'bp', type: 'float' },
    ]);
    const rows = [
      [50, 31.5, 80],
      [23, 18.25, 120],
    ];
    const out = await p.predictMatrix(Float64Array.from(rows.flat()), 2);
    expect(out.labels).toBeUndefined();
    rows.forEach((row, i) => expect(Math.abs(out.values![i]! - regressorExpected(row))).toBeLessThan(1e-4));
    await expect(p.predictMatrix(Float64Array.from([50.5, 1, 1]), 1)).rejects.toThrow('row 1: age must be an integer for this model (an int64 input), got 50.5');
  });

  it('a regressor on one [N, F] input with output [N], and a graph of batch size 1 run row by row', async () => {
    const p = await load({ 'model.onnx': positionalRegressorOnnx([1, -2, 0.5], 3) });
    expect(p.inputNames).toEqual(['0', '1', '2']);
    expect(Array.from((await p.predictMatrix(Float64Array.from([1, 1, 1, 2, 0, 4]), 2)).values!)).toEqual([2.5, 7]);
    const one = encodeOnnxModel(
      onnxModel({
        graph: {
          name: 'one',
          inputs: [tensorInfo('X', 'float32', [1, 2])],
          outputs: [tensorInfo('y', 'float32', [1, 1])],
          initializers: [constantTensor('W', 'float32', [2, 1], [2, 3])],
          nodes: [onnxNode('MatMul', ['X', 'W'], ['y'])],
        },
        opsets: { '': 13 },
        metadata: { [ONNX_META.inputColumns]: '["a","b"]' },
      }),
    );
    const q = await load({ 'model.onnx': one });
    expect(q.inputNames).toEqual(['a', 'b']);
    expect(Array.from((await q.predictMatrix(Float64Array.from([1, 1, 2, 0, 0, 1]), 3)).values!)).toEqual([5, 4, 3]);
  });

  it('runs the graph in a worker thread by default: the event loop keeps turning during a long run', async () => {
    const p = await load({ 'model.onnx': heavyOnnx() });
    const n = 4000;
    const X = new Float64Array(n * 256).fill(0.5);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    const out = await p.predictMatrix(X, n);
    const ms = performance.now() - started;
    clearInterval(timer);
    expect(out.values).toHaveLength(n);
    console.log(`heavy graph: ${ms.toFixed(0)} ms, ${ticks} timer ticks of 1 ms meanwhile`);
    // On the calling thread the run holds the loop and a 1 ms timer fires about once.
    expect(ticks).toBeGreaterThanOrEqual(Math.min(5, Math.floor(ms / 4)));
  });

  it('runs the same on the calling thread (FLUXOPS_ONNX_THREAD=inline), and refuses another setting', async () => {
    const folder = await folderWith({ 'model.onnx': regressorOnnx() });
    process.env.FLUXOPS_ONNX_THREAD = 'inline';
    try {
      const { predictor } = await loadPredictor(store, folder);
      opened.push(predictor);
      expect(Math.abs((await predictor.predictMatrix(Float64Array.from([50, 31.5, 80]), 1)).values![0]! - regressorExpected([50, 31.5, 80]))).toBeLessThan(1e-4);
      process.env.FLUXOPS_ONNX_THREAD = 'gpu';
      await expect(loadPredictor(store, folder)).rejects.toThrow("FLUXOPS_ONNX_THREAD must be worker or inline, not 'gpu'");
    } finally {
      delete process.env.FLUXOPS_ONNX_THREAD;
    }
  });

  it('close() releases the session; the predictor refuses work after', async () => {
    const { predictor } = await loadPredictor(store, await folderWith({ 'model.onnx': regressorOnnx() }));
    const running = predictor.predictMatrix(Float64Array.from([1, 2, 3]), 1);
    await predictor.close!();
    expect((await running).values).toHaveLength(1);
    await expect(predictor.predictMatrix(Float64Array.from([1, 2, 3]), 1)).rejects.toMatchObject({ code: 'TEMPORARILY_UNAVAILABLE' });
  });
});

const graph = (over: Partial<OnnxModelSpec['graph']>, metadata?: Record<string, string>) =>
  encodeOnnxModel(
    onnxModel({
      graph: { name: 'g', inputs: [tensorInfo('X', 'float32', ['N', 2])], outputs: [tensorInfo('y', 'float32', ['N'])], nodes: [onnxNode('ReduceSum', ['X'], ['y'], [attribute.int('keepdims', 0)])], ...over },
      opsets: { '': 13 },
      ...(metadata ? { metadata } : {}),
    }),
  );

describe('what is refused, with a sentence', () => {
  it('files that are not ONNX, inputs FluxOps cannot feed, outputs it cannot read', () => {
    expect(refusal(() => planOnnxModel(Buffer.from('onnx bytes'), 'model.onnx'))).toMatch(/^model\.onnx is not an ONNX model \(/);
    expect(refusal(() => planOnnxModel(graph({ inputs: [tensorInfo('X', 'string', ['N', 2])] }), 'm.onnx'))).toBe(
      "m.onnx: input 'X' holds string values; FluxOps feeds float, double, int64 and int32 tensors",
    );
    expect(refusal(() => planOnnxModel(graph({ inputs: [tensorInfo('X', 'float32', ['N', 3, 32])] }), 'm.onnx'))).toMatch(/input 'X' has 3 dimensions/);
    expect(refusal(() => planOnnxModel(graph({ inputs: [tensorInfo('X', 'float32', [4, 2])] }), 'm.onnx'))).toMatch(/fixed batch size of 4/);
    expect(refusal(() => planOnnxModel(graph({ inputs: [tensorInfo('X', 'float32', ['N', 'F'])] }), 'm.onnx'))).toMatch(/feature dimension of unknown size and no column names/);
    expect(refusal(() => planOnnxModel(graph({ inputs: [tensorInfo('a', 'float32', ['N', 1]), tensorInfo('b', 'float32', ['N', 2])] }), 'm.onnx'))).toMatch(/'b' is not one column/);
    expect(refusal(() => planOnnxModel(graph({ outputs: [tensorInfo('y', 'float32', ['N', 3])] }), 'm.onnx'))).toBe(
      "m.onnx is neither a classifier (a label output with probabilities) nor a regressor (one float output, one value per row); its outputs: 'y' tensor(float32) [N, 3]",
    );
    expect(refusal(() => planOnnxModel(graph({ outputs: [tensorInfo('label', 'int64', ['N'])] }), 'm.onnx'))).toMatch(/label output 'label' but no probability output/);
    expect(refusal(() => planOnnxModel(graph({}, { [ONNX_META.inputColumns]: '["a"]' }), 'm.onnx'))).toMatch(/names 1 columns but input 'X' has 2/);
    const external = graph({ initializers: [{ ...constantTensor('W', 'float32', [1], [1]), data_location: 1, float_data: [] }] });
    expect(refusal(() => planOnnxModel(external, 'm.onnx'))).toMatch(/external data files/);
  });

  it('a graph ONNX Runtime cannot load is refused at load, naming the file', async () => {
    const bad = graph({ nodes: [onnxNode('NoSuchOperator', ['X'], ['y'])] });
    await expect(loadPredictor(store, await folderWith({ 'model.onnx': bad }))).rejects.toThrow(/^ONNX Runtime cannot load model\.onnx: /);
  });
});

describe('model folders', () => {
  it('an MLmodel onnx flavor naming its data file, and a bare model.onnx, are servable with the graph signature', async () => {
    const mlmodel = 'flavors:\n  python_function:\n    loader_module: mlflow.onnx\n    data: graph/iris.onnx\n  onnx:\n    onnx_version: 1.16.0\n    data: graph/iris.onnx\n';
    const withMlmodel = await inspectModelFolder(store, await folderWith({ MLmodel: mlmodel, 'graph/iris.onnx': multiclassOnnx() }));
    expect(withMlmodel).toMatchObject({ flavor: 'python_function/onnx', servable: true, message: '' });
    expect(withMlmodel?.signature?.outputs).toEqual([
      { name: 'output_label', type: 'string' },
      { name: 'probabilities', type: 'tensor<float32>[-1,3]' },
    ]);
    const bare = await inspectModelFolder(store, await folderWith({ 'model.onnx': regressorOnnx() }));
    expect(bare).toMatchObject({ flavor: 'onnx', servable: true, signature: { inputs: [{ name: 'age', type: 'long' }, { name: 'bmi', type: 'float' }, { name: 'bp', type: 'float' }], outputs: [{ name: 'variable', type: 'float' }] } });
    const broken = await inspectModelFolder(store, await folderWith({ MLmodel: 'flavors:\n  onnx:\n    data: model.onnx\n', 'model.onnx': graph({ outputs: [tensorInfo('y', 'float32', ['N', 3])] }) }));
    expect(broken).toMatchObject({ flavor: 'onnx', servable: false, message: expect.stringMatching(/^model\.onnx is neither a classifier/) as unknown });
    const escaping = await inspectModelFolder(store, await folderWith({ MLmodel: 'flavors:\n  onnx:\n    data: ../x.onnx\n' }));
    expect(escaping).toMatchObject({ servable: false, message: 'invalid MLmodel file: the onnx flavor must name its data as a path inside the model folder' });
  });
});
