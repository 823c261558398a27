import { afterAll, describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import {
  EXPORT_INPUT,
  ONNX_META,
  OnnxDataType,
  compileEnsemble,
  createPredictor,
  decodeOnnxModel,
  encodeOnnxModel,
  exportToOnnx,
  planOnnxModel,
  tensorInfo,
  validateModel,
  type GbdtModel,
  type GbdtTree,
  type Prediction,
  type Predictor,
} from '../../src/models/index.js';
import { createOnnxPredictor } from '../../src/models/onnx/onnx-predictor.js';
import { openInlineRunner } from '../../src/models/onnx/onnx-runner.js';
import { generateDiabetesCsv, generateFriedmanCsv, generateMulticlassCsv, train } from '../../src/training/index.js';
import { blankCells, csvMatrix, mapColumn, maxRelativeDiff } from '../helpers/gbdt-data.js';

/**
 * ONNX export of gradient-boosted tree models (TreeEnsembleClassifier / TreeEnsembleRegressor):
 * real models trained here, exported, run with ONNX Runtime and compared with the built-in
 * predictor on rows with missing values and unknown categories.
 *
 * The tree operators add up the trees in double and output float32, so the raw scores reach the
 * float64 link rounded to float32: probabilities and values agree to about |raw|·2⁻²⁴ relative
 * (asked: 1e-6), and the raw scores themselves to one float32 step, which proves every row took
 * the built-in predictor's path through every tree (a wrong turn moves a score by a whole leaf value).
 */

const opened: Predictor[] = [];
afterAll(async () => {
  for (const p of opened) await p.close?.();
});

async function onnxPredictor(model: GbdtModel): Promise<Predictor> {
  const p = await createOnnxPredictor(planOnnxModel(exportToOnnx(model), 'export.onnx'), 'export.onnx', { thread: 'inline' });
  opened.push(p);
  return p;
}

function gbdt(csvText: string, target: string, params: Record<string, string>, exclude?: string[]): GbdtModel {
  const r = train({ csvText, target, algo: 'gbdt', params: { max_iter: '20', ...params }, ...(exclude !== undefined ? { exclude } : {}) });
  return r.model as GbdtModel;
}

/** The graph's raw scores before the link, as float64 [n, K]: the exported graph with its `raw` value added as an output. */
async function onnxRaw(model: GbdtModel, X: Float64Array, n: number): Promise<Float64Array> {
  const m = decodeOnnxModel(exportToOnnx(model));
  m.graph!.output!.push(tensorInfo('raw', 'float64', ['N', model.treesPerIteration]));
  const runner = await openInlineRunner(encodeOnnxModel(m), { intraOpThreads: 1 });
  try {
    const out = await runner.run({ [EXPORT_INPUT]: { type: 'float64', data: X, dims: [n, model.signature.inputs.length] } }, ['raw']);
    return out.raw!.data as Float64Array;
  } finally {
    await runner.release();
  }
}

/** Checks the export against the built-in predictor on X; returns the largest relative difference of probabilities or values. */
async function compare(model: GbdtModel, X: Float64Array, n: number): Promise<{ rel: number; a: Prediction; b: Prediction }> {
  const builtin = createPredictor(model);
  const onnx = await onnxPredictor(model);
  expect(onnx.kind).toBe(builtin.kind);
  expect(onnx.inputNames).toEqual(builtin.inputNames);
  expect(onnx.classes).toEqual(builtin.classes);
  const [a, b] = await Promise.all([builtin.predictMatrix(X, n), onnx.predictMatrix(X, n)]);
  if (builtin.kind === 'classifier') expect(b.labels).toEqual(a.labels);
  const rel = maxRelativeDiff(a.probabilities ?? a.values!, b.probabilities ?? b.values!);
  expect(rel).toBeLessThan(1e-6);
  // Same paths: the raw scores are the built-in ones rounded to float32 (at most one float32 step apart).
  const raw = compileEnsemble(model).raw(X, n);
  const got = await onnxRaw(model, X, n);
  let steps = 0;
  for (let i = 0; i < raw.length; i++) steps = Math.max(steps, Math.abs(got[i]! - raw[i]!) / (Math.abs(raw[i]!) * 2 ** -23 + Number.MIN_VALUE));
  expect(steps).toBeLessThanOrEqual(1);
  return { rel, a, b };
}

const namesOf = (m: GbdtModel) => m.signature.inputs.map((i) => i.name);
const countMissing = (X: Float64Array) => X.reduce((s, v) => s + (Number.isNaN(v) ? 1 : 0), 0);
const DIABETES_INPUTS = ['Pregnancies', 'PlasmaGlucose', 'DiastolicBloodPressure', 'TricepsThickness', 'SerumInsulin', 'BMI', 'DiabetesPedigree', 'Age'];
/** The multiclass table's text column as numeric category codes (one fractional). */
const REGION_CODES: Record<string, string> = { north: '10', south: '20', east: '2.5', west: '40', central: '55' };

describe('ONNX export of a gbdt model, against the built-in predictor', () => {
  it('binary classification: probabilities within 1e-6 relative, labels equal, on rows with missing values', async () => {
    const model = gbdt(blankCells(generateDiabetesCsv(1500, 3), DIABETES_INPUTS, 0.05, 1), 'Diabetic', {});
    expect(model.task).toBe('binary_classification');
    expect(model.trees.some((t) => t.missingLeft.some((m, v) => m === 1 && t.feature[v] !== -1))).toBe(true);
    const { X, n } = csvMatrix(blankCells(generateDiabetesCsv(600, 9), DIABETES_INPUTS, 0.08, 2), namesOf(model));
    expect(countMissing(X)).toBeGreaterThan(100);
    const { rel, a } = await compare(model, X, n);
    console.log(`gbdt binary export vs built-in, ${n} rows: max relative |Δp| = ${rel.toExponential(2)}`);
    expect(new Set(a.labels)).toEqual(new Set([0, 1]));
  });

  it('multiclass classification (text labels): softmax probabilities within 1e-6 relative, labels equal', async () => {
    const model = gbdt(generateMulticlassCsv(1500, 3), 'label', {}, ['region']);
    expect(model.task).toBe('multiclass_classification');
    expect(model.target.classes).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const { X, n } = csvMatrix(generateMulticlassCsv(600, 9), namesOf(model));
    expect(countMissing(X)).toBeGreaterThan(50);
    const { rel, a } = await compare(model, X, n);
    console.log(`gbdt multiclass export vs built-in, ${n} rows: max relative |Δp| = ${rel.toExponential(2)}`);
    expect(new Set(a.labels).size).toBe(4);
  });

  it('a numeric categorical input: equality chains route known, unknown and missing categories as the built-in predictor does', async () => {
    // Regions missing in training too, so that some categorical splits send missing values left.
    const csv = blankCells(mapColumn(generateMulticlassCsv(1500, 3), 'region', (c) => REGION_CODES[c]!), ['region'], 0.1, 5);
    const model = gbdt(csv, 'label', { categorical: 'region' });
    expect(model.categories).toEqual({ region: [2.5, 10, 20, 40, 55] });
    const catNodes = model.trees.flatMap((t) => Object.keys(t.leftCategories ?? {}).map((v) => t.missingLeft[Number(v)]));
    expect(new Set(catNodes)).toEqual(new Set([0, 1]));
    // Unknown codes (99, 10.5) and missing regions at prediction time.
    const test = mapColumn(generateMulticlassCsv(700, 9), 'region', (c, i) => (i % 7 === 0 ? '99' : i % 11 === 0 ? '10.5' : i % 13 === 0 ? '' : REGION_CODES[c]!));
    const { X, n } = csvMatrix(test, namesOf(model));
    const { rel } = await compare(model, X, n);
    console.log(`gbdt categorical export vs built-in, ${n} rows, ${catNodes.length} categorical splits: max relative |Δp| = ${rel.toExponential(2)}`);
  });

  it('regression: values within 1e-6 relative, on rows with missing values', async () => {
    const names = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9'];
    const model = gbdt(blankCells(generateFriedmanCsv(1500, 3), names, 0.05, 3), 'y', {});
    expect(model.task).toBe('regression');
    const { X, n } = csvMatrix(blankCells(generateFriedmanCsv(600, 9), names, 0.08, 4), namesOf(model));
    const { rel } = await compare(model, X, n);
    console.log(`gbdt regression export vs built-in, ${n} rows: max relative |Δvalue| = ${rel.toExponential(2)}`);
    const plan = planOnnxModel(exportToOnnx(model), 'r.onnx');
    expect(plan).toMatchObject({ kind: 'regressor', value: { name: 'prediction', element: 'float64' }, classes: null });
    expect(plan.signature.outputs).toEqual([{ name: 'prediction', type: 'double' }]);
  });

  it('keeps integer, fractional and text class labels, binary and multiclass', async () => {
    const multi = generateMulticlassCsv(900, 5);
    const { X, n } = csvMatrix(multi, ['a', 'b', 'c', 'd', 'noise']);
    const cases: Array<{ csv: string; target: string; params?: Record<string, string>; classes: Array<number | string>; label: string }> = [
      { csv: mapColumn(multi, 'label', (c) => ({ alpha: '3', beta: '5', gamma: '7', delta: '11' })[c]!), target: 'label', classes: [3, 5, 7, 11], label: 'int64' },
      { csv: mapColumn(multi, 'label', (c) => ({ alpha: '0.5', beta: '1.5', gamma: '2.5', delta: '-1' })[c]!), target: 'label', params: { loss: 'log_loss' }, classes: [-1, 0.5, 1.5, 2.5], label: 'float64' },
      { csv: mapColumn(multi, 'label', (c) => (c === 'alpha' ? '0.25' : '0.75')), target: 'label', params: { loss: 'log_loss' }, classes: [0.25, 0.75], label: 'float64' },
      { csv: mapColumn(multi, 'label', (c) => (c === 'alpha' ? 'yes' : 'no')), target: 'label', classes: ['no', 'yes'], label: 'string' },
    ];
    for (const c of cases) {
      const model = gbdt(c.csv, c.target, c.params ?? {}, ['region']);
      expect(model.target.classes).toEqual(c.classes);
      const plan = planOnnxModel(exportToOnnx(model), 'c.onnx');
      expect(plan).toMatchObject({ kind: 'classifier', classes: c.classes, label: { name: 'label', element: c.label }, probabilities: { name: 'probabilities', element: 'float64', width: c.classes.length } });
      const { a } = await compare(model, X, n);
      expect(new Set(a.labels).size).toBe(c.classes.length);
    }
  });

  it('writes ai.onnx.ml 3 tree operators with double thresholds, weights and base values, and the metadata of the built-in model', () => {
    const model = gbdt(generateMulticlassCsv(600, 3), 'label', {}, ['region']);
    const m = decodeOnnxModel(exportToOnnx(model, { modelName: 'classes_v1' }));
    expect(m.opset_import).toEqual([{ version: 13 }, { domain: 'ai.onnx.ml', version: 3 }]);
    expect(m.graph!.name).toBe('classes_v1');
    expect(m.graph!.input!.map((i) => i.name)).toEqual([EXPORT_INPUT]);
    const tree = m.graph!.node!.find((n) => n.op_type === 'TreeEnsembleClassifier')!;
    expect(tree.domain).toBe('ai.onnx.ml');
    const attrs = new Map((tree.attribute ?? []).map((a) => [a.name, a]));
    for (const name of ['nodes_values_as_tensor', 'class_weights_as_tensor', 'base_values_as_tensor']) expect(attrs.get(name)?.t?.data_type).toBe(OnnxDataType.DOUBLE);
    expect(attrs.get('base_values_as_tensor')?.t?.double_data).toEqual(model.baseline);
    expect(attrs.has('nodes_values')).toBe(false);
    expect(Buffer.from(attrs.get('post_transform')!.s!).toString()).toBe('NONE');
    const meta = new Map((m.metadata_props ?? []).map((e) => [e.key, e.value]));
    expect(Object.fromEntries(meta)).toEqual({
      [ONNX_META.inputColumns]: JSON.stringify(namesOf(model)),
      [ONNX_META.classes]: JSON.stringify(model.target.classes),
      [ONNX_META.target]: 'label',
      [ONNX_META.trainedAt]: model.trainedAt,
      [ONNX_META.algorithm]: 'gbdt',
    });
  });

  it('refuses a model with a text input, naming it, rather than export a graph that cannot be fed', () => {
    const model = gbdt(generateMulticlassCsv(600, 3), 'label', {});
    expect(model.signature.inputs.find((i) => i.name === 'region')?.type).toBe('string');
    let error: unknown;
    try {
      exportToOnnx(model);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FluxError);
    expect((error as FluxError).code).toBe('UNSUPPORTED_MODEL_FORMAT');
    expect((error as Error).message).toMatch(/text input 'region' is categorical on text values, and an ONNX graph served by FluxOps takes numeric tensors only/);
  });
});

describe('ONNX export of hand-made tree shapes', () => {
  const leaf = (value: number): GbdtTree => ({ feature: [-1], threshold: [0], missingLeft: [0], left: [-1], right: [-1], value: [value] });
  /** Inputs x (numeric) and c (categories 1, 2, 3). */
  function handModel(task: GbdtModel['task'], trees: GbdtTree[], baseline: number[]): GbdtModel {
    const classes = task === 'regression' ? undefined : task === 'binary_classification' ? [0, 1] : [0, 1, 2];
    return validateModel({
      format: 'fluxops-model',
      formatVersion: 2,
      algorithm: 'gbdt',
      task,
      signature: {
        inputs: [
          { name: 'x', type: 'double' },
          { name: 'c', type: 'double' },
        ],
        outputs:
          classes === undefined
            ? [{ name: 'prediction', type: 'double' }]
            : [
                { name: 'prediction', type: 'long' },
                { name: 'probabilities', type: 'double', shape: [-1, classes.length] },
              ],
      },
      target: classes === undefined ? { name: 'y' } : { name: 'y', classes },
      categories: { c: [1, 2, 3] },
      loss: task === 'regression' ? 'squared_error' : 'log_loss',
      baseline,
      treesPerIteration: task === 'multiclass_classification' ? 3 : 1,
      trees,
      featureImportance: [0.5, 0.5],
      trainedAt: '2025-01-01T00:00:00.000Z',
      params: {},
    }) as GbdtModel;
  }
  /** Five trees covering the shapes; with `nonNegative` every leaf value made ≥ 0. */
  const trees = (nonNegative = false): GbdtTree[] => {
    const shapes: GbdtTree[] = [
      leaf(0.3),
      // Every known category left and missing ones left: the split sends every row left.
      { feature: [1, -1, -1], threshold: [0, 0, 0], missingLeft: [1, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 1, -1], leftCategories: { '0': [0, 1, 2] } },
      // No category left and missing ones right: every row right, to a numeric split (missing left).
      {
        feature: [1, -1, 0, -1, -1],
        threshold: [0, 0, 0.1, 0, 0],
        missingLeft: [0, 0, 1, 0, 0],
        left: [1, -1, 3, -1, -1],
        right: [2, -1, 4, -1, -1],
        value: [0, 5, 0, 0.25, -0.5],
        leftCategories: { '0': [] },
      },
      // Category 2 left, unknown and missing right.
      { feature: [1, -1, -1], threshold: [0, 0, 0], missingLeft: [0, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 0.125, -2], leftCategories: { '0': [1] } },
      // Categories 1 and 3 left, unknown and missing left too: only 2 goes right, to a numeric split (missing right).
      {
        feature: [1, 0, -1, -1, -1],
        threshold: [0, -1, 0, 0, 0],
        missingLeft: [1, 0, 0, 0, 0],
        left: [1, 2, -1, -1, -1],
        right: [4, 3, -1, -1, -1],
        value: [0, 0, 0.75, -1.5, 0.0625],
        leftCategories: { '0': [0, 2] },
      },
    ];
    return nonNegative ? shapes.map((t) => ({ ...t, value: t.value.map(Math.abs) })) : shapes;
  };
  // Every combination of x around the thresholds (0.1 is not a float32) and c known, unknown or missing.
  const xs = [-2, -1, -1 + 2 ** -52, 0, 0.1, 0.1 + 2 ** -56, 0.10000000149011612, 3, NaN, Number.MAX_VALUE];
  const cs = [1, 2, 3, 0, 2.0000001, 4, -0, NaN];
  const X = Float64Array.from(xs.flatMap((x) => cs.flatMap((c) => [x, c])));
  const n = xs.length * cs.length;

  it('binary, with mixed and with only non-negative leaf values (ONNX Runtime writes its two score columns differently)', async () => {
    for (const [nonNegative, baseline] of [[false, 0], [true, -3]] as const) {
      const { a } = await compare(handModel('binary_classification', trees(nonNegative), [baseline]), X, n);
      expect(new Set(a.labels)).toEqual(new Set([0, 1]));
    }
  });

  it('regression and multiclass trees (tree t adds to class t mod 3), and models without trees', async () => {
    await compare(handModel('regression', trees(), [10]), X, n);
    await compare(handModel('multiclass_classification', [...trees(), leaf(2)], [0.5, -0.25, 0]), X, n);
    await compare(handModel('regression', [], [1.5]), X, n);
    await compare(handModel('binary_classification', [], [-0.75]), X, n);
    await compare(handModel('multiclass_classification', [], [0.5, -0.25, 0]), X, n);
  });
});
