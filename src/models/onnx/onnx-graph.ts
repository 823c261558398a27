import { FluxError } from '../../core/index.js';
import type { ClassLabel } from '../format.js';
import type { MlmodelSpec } from '../mlmodel.js';
import type { PredictorKind, PredictorSignature } from '../predictor.js';
import { OnnxDataType, decodeOnnxModel, encodeOnnxModel, metadataOf, textOf, type OnnxModel, type OnnxNode, type OnnxType, type OnnxValueInfo } from './onnx-codec.js';
import { ONNX_META } from './onnx-meta.js';

/** Element types of the inputs FluxOps can feed from numbers. */
export type OnnxInputElement = 'float32' | 'float64' | 'int64' | 'int32';

/** How the decoded n×d matrix becomes the graph's inputs. */
export type OnnxFeeds =
  /** One input [N, F] (or [N] when F is 1 and the input has rank 1). */
  | { mode: 'matrix'; input: string; element: OnnxInputElement; rank: 1 | 2 }
  /** One input per column, each [N, 1] or [N]. */
  | { mode: 'columns'; inputs: Array<{ name: string; element: OnnxInputElement; rank: 1 | 2 }> };

/**
 * What FluxOps makes of an ONNX graph: its columns, how to feed them, which outputs to fetch and
 * what they mean. The same plan drives the registry's inspection and the predictor.
 */
export interface OnnxPlan {
  kind: PredictorKind;
  columns: Array<{ name: string; type: string }>;
  feeds: OnnxFeeds;
  /** A fixed batch size of the graph (1 for graphs exported with shape [1, F]), or null when any. */
  batch: number | null;
  /** Classifiers: the label output, and the probability tensor [N, k] (a ZipMap's input when the graph has one). */
  label?: { name: string; element: 'int64' | 'int32' | 'string' | 'float64' | 'float32' };
  probabilities?: { name: string; element: 'float32' | 'float64'; width: number | null };
  /** Regressors: the value output. */
  value?: { name: string; element: 'float32' | 'float64' };
  /** Class labels from metadata or the graph's classifier nodes, when it says. */
  classes: ClassLabel[] | null;
  signature: PredictorSignature;
  /** The model bytes to load: the original, or the model with its ZipMap removed (ONNX Runtime for Node returns tensors only). */
  bytes: Uint8Array;
  trainedAt: string | null;
}

const ELEMENT_NAMES: Record<number, string> = {
  [OnnxDataType.FLOAT]: 'float32',
  [OnnxDataType.DOUBLE]: 'float64',
  [OnnxDataType.INT64]: 'int64',
  [OnnxDataType.INT32]: 'int32',
  [OnnxDataType.STRING]: 'string',
  [OnnxDataType.BOOL]: 'bool',
  [OnnxDataType.UINT8]: 'uint8',
  [OnnxDataType.INT8]: 'int8',
};
/** MLflow's column type for each input element type. */
const COLUMN_TYPE: Record<OnnxInputElement, string> = { float32: 'float', float64: 'double', int64: 'long', int32: 'integer' };

const refuse = (message: string): FluxError => new FluxError('UNSUPPORTED_MODEL_FORMAT', message);

interface TensorView {
  name: string;
  element: string;
  /** Dimensions: a size, or null for a named or unknown one; null for an unknown rank. */
  shape: Array<number | null> | null;
}

function tensorView(v: OnnxValueInfo): TensorView | undefined {
  const t = v.type?.tensor_type;
  if (t === undefined) return undefined;
  const element = ELEMENT_NAMES[t.elem_type ?? 0] ?? `type ${t.elem_type ?? 0}`;
  const shape = t.shape === undefined ? null : (t.shape.dim ?? []).map((d) => (d.dim_value !== undefined && d.dim_value > 0 ? d.dim_value : null));
  return { name: v.name ?? '', element, shape };
}

function describe(t: OnnxType | undefined): string {
  if (t?.tensor_type !== undefined) return `tensor(${ELEMENT_NAMES[t.tensor_type.elem_type ?? 0] ?? '?'})`;
  if (t?.sequence_type !== undefined) return `seq(${describe(t.sequence_type.elem_type)})`;
  if (t?.map_type !== undefined) return `map(${ELEMENT_NAMES[t.map_type.key_type ?? 0] ?? '?'}, ${describe(t.map_type.value_type)})`;
  return 'an unknown type';
}

const isInputElement = (e: string): e is OnnxInputElement => e === 'float32' || e === 'float64' || e === 'int64' || e === 'int32';
const isFloat = (e: string): e is 'float32' | 'float64' => e === 'float32' || e === 'float64';

/**
 * Reads an ONNX model and decides how to serve it, or refuses it with a sentence. `what` names the
 * file in messages; `mlmodelInputs` are the MLmodel signature's inputs when the folder has one.
 */
export function planOnnxModel(bytes: Uint8Array, what: string, mlmodelInputs?: readonly MlmodelSpec[]): OnnxPlan {
  const model = decodeOnnxModel(bytes, what);
  const graph = model.graph!;
  const meta = metadataOf(model);
  if ((graph.initializer ?? []).some((t) => t.data_location === 1)) {
    throw refuse(`${what} keeps its weights in external data files, which FluxOps does not load; save the model with its weights inside`);
  }
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  // Before IR version 4 initializers were listed among the inputs too.
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? ''));
  if (inputs.length === 0) throw refuse(`${what} has no inputs to feed`);
  const { feeds, columns, batch } = planInputs(inputs, what, meta, mlmodelInputs);
  const outputs = planOutputs(model, what, meta);
  const signature: PredictorSignature = {
    inputs: columns,
    outputs:
      outputs.kind === 'classifier'
        ? [
            { name: outputs.label!.name, type: outputs.label!.element === 'string' ? 'string' : outputs.label!.element === 'int64' || outputs.label!.element === 'int32' ? 'long' : 'double' },
            { name: outputs.probabilities!.name, type: `tensor<${outputs.probabilities!.element}>[-1,${outputs.probabilities!.width ?? -1}]` },
          ]
        : [{ name: outputs.value!.name, type: outputs.value!.element === 'float32' ? 'float' : 'double' }],
  };
  return {
    ...outputs,
    columns,
    feeds,
    batch,
    signature,
    bytes: outputs.rewritten ? encodeOnnxModel(model) : bytes,
    trainedAt: meta.get(ONNX_META.trainedAt) ?? null,
  };
}

function planInputs(
  inputs: OnnxValueInfo[],
  what: string,
  meta: Map<string, string>,
  mlmodelInputs: readonly MlmodelSpec[] | undefined,
): { feeds: OnnxFeeds; columns: OnnxPlan['columns']; batch: number | null } {
  const views = inputs.map((v) => {
    const t = tensorView(v);
    if (t === undefined) throw refuse(`${what}: input '${v.name ?? ''}' is ${describe(v.type)}; FluxOps feeds numeric tensors only`);
    if (!isInputElement(t.element)) throw refuse(`${what}: input '${t.name}' holds ${t.element} values; FluxOps feeds float, double, int64 and int32 tensors`);
    if (t.shape !== null && (t.shape.length < 1 || t.shape.length > 2)) {
      throw refuse(`${what}: input '${t.name}' has ${t.shape.length} dimensions; FluxOps feeds rows of columns ([N, F], or [N, 1] per column)`);
    }
    return { ...t, element: t.element };
  });
  const batches = new Set(views.map((v) => v.shape?.[0] ?? null));
  const batch = batches.size === 1 ? [...batches][0]! : null;
  if (batch !== null && batch !== 1) throw refuse(`${what} has a fixed batch size of ${batch}; FluxOps serves graphs whose first dimension is the row count (any, or 1)`);
  const rankOf = (v: (typeof views)[number]): 1 | 2 => (v.shape !== null && v.shape.length === 1 ? 1 : 2);
  const columnNames = mlmodelColumns(mlmodelInputs);

  if (views.length > 1) {
    for (const v of views) {
      const width = v.shape?.[1];
      if (rankOf(v) === 2 && width !== 1) {
        throw refuse(`${what} has several inputs and '${v.name}' is not one column ([N, 1] or [N]); FluxOps feeds either one [N, F] matrix or one input per column`);
      }
    }
    return {
      feeds: { mode: 'columns', inputs: views.map((v) => ({ name: v.name, element: v.element, rank: rankOf(v) })) },
      columns: views.map((v) => ({ name: v.name, type: COLUMN_TYPE[v.element] })),
      batch,
    };
  }

  const only = views[0]!;
  const rank = rankOf(only);
  let width = rank === 1 ? 1 : (only.shape?.[1] ?? null);
  let names: string[] | undefined;
  const fromMeta = meta.get(ONNX_META.inputColumns);
  if (columnNames !== undefined && (width === null || columnNames.length === width)) {
    names = columnNames;
  } else if (fromMeta !== undefined) {
    names = parseNameList(fromMeta, what);
    if (width !== null && names.length !== width) throw refuse(`${what}: metadata ${ONNX_META.inputColumns} names ${names.length} columns but input '${only.name}' has ${width}`);
  } else if (columnNames !== undefined) {
    throw refuse(`${what}: the MLmodel signature names ${columnNames.length} columns but input '${only.name}' has ${width ?? '?'}`);
  } else if (width === 1) {
    names = [only.name];
  } else if (width !== null) {
    names = Array.from({ length: width }, (_, j) => String(j));
  } else {
    throw refuse(`${what}: input '${only.name}' has a feature dimension of unknown size and no column names; record the columns in the MLmodel signature`);
  }
  width ??= names.length;
  if (new Set(names).size !== names.length) throw refuse(`${what}: the input column names are not unique`);
  return {
    feeds: { mode: 'matrix', input: only.name, element: only.element, rank },
    columns: names.map((name) => ({ name, type: COLUMN_TYPE[only.element] })),
    batch,
  };
}

/** Column names of a column-based MLmodel signature; undefined for none or a tensor-based one. */
function mlmodelColumns(specs: readonly MlmodelSpec[] | undefined): string[] | undefined {
  if (specs === undefined || specs.length === 0 || specs.some((s) => s.type.startsWith('tensor'))) return undefined;
  return specs.map((s) => s.name);
}

function parseNameList(text: string, what: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) {
    throw refuse(`${what}: metadata ${ONNX_META.inputColumns} must be a JSON list of column names`);
  }
  return v as string[];
}

interface OutputPlan {
  kind: PredictorKind;
  label?: OnnxPlan['label'];
  probabilities?: OnnxPlan['probabilities'];
  value?: OnnxPlan['value'];
  classes: ClassLabel[] | null;
  rewritten: boolean;
}

/**
 * A classifier has a label output (int64, int32 or string; or a tensor named `label`) and a
 * probability output ([N, k] floats, or ZipMap's sequence of maps); a regressor has one float
 * output of one value per row ([N] or [N, 1]). Anything else is refused.
 */
function planOutputs(model: OnnxModel, what: string, meta: Map<string, string>): OutputPlan {
  const graph = model.graph!;
  const outputs = graph.output ?? [];
  const tensors = outputs.map((o) => ({ info: o, view: tensorView(o) }));
  const labelOut = tensors.find(({ view }) => view !== undefined && (view.element === 'int64' || view.element === 'int32' || view.element === 'string' || /(^|_)label$/.test(view.name)) && (view.shape === null || view.shape.length === 1 || (view.shape.length === 2 && view.shape[1] === 1)));
  let rewritten = false;
  let classes = classesFromMeta(meta, what);

  if (labelOut !== undefined) {
    const label = { name: labelOut.view!.name, element: labelOut.view!.element as NonNullable<OnnxPlan['label']>['element'] };
    if (!['int64', 'int32', 'string', 'float32', 'float64'].includes(label.element)) throw refuse(`${what}: label output '${label.name}' holds ${label.element} values`);
    let probabilities: OnnxPlan['probabilities'];
    const probTensor = tensors.find(({ view }) => view !== undefined && view !== labelOut.view && isFloat(view.element) && view.shape !== null && view.shape.length === 2 && view.shape[1] !== 1);
    const zipped = outputs.find((o) => o.type?.sequence_type?.elem_type?.map_type !== undefined);
    if (probTensor !== undefined) {
      probabilities = { name: probTensor.view!.name, element: probTensor.view!.element as 'float32' | 'float64', width: probTensor.view!.shape![1] ?? null };
    } else if (zipped !== undefined) {
      const zip = (graph.node ?? []).find((n) => n.op_type === 'ZipMap' && (n.output ?? []).includes(zipped.name ?? ''));
      if (zip === undefined || (zip.input ?? []).length !== 1) throw refuse(`${what}: output '${zipped.name ?? ''}' is a sequence of maps not made by ZipMap; FluxOps reads probabilities as a tensor [N, k] or ZipMap's output`);
      const source = zip.input![0]!;
      classes ??= zipMapClasses(zip);
      // ONNX Runtime for Node returns tensors only: serve ZipMap's input, the same probabilities as [N, k].
      graph.node = (graph.node ?? []).filter((n) => n !== zip);
      graph.output = outputs.filter((o) => o !== zipped);
      if (!graph.output.some((o) => o.name === source)) graph.output.push({ name: source, type: { tensor_type: { elem_type: OnnxDataType.FLOAT } } });
      rewritten = true;
      probabilities = { name: source, element: 'float32', width: classes?.length ?? null };
    } else {
      throw refuse(`${what} has a label output '${label.name}' but no probability output ([N, k] floats or ZipMap's sequence of maps)`);
    }
    classes ??= classifierNodeClasses(graph.node ?? []);
    if (classes !== null && probabilities.width !== null && classes.length !== probabilities.width) {
      throw refuse(`${what}: ${classes.length} class labels but the probability output has ${probabilities.width} columns`);
    }
    return { kind: 'classifier', label, probabilities, classes, rewritten };
  }

  const values = tensors.filter(({ view }) => view !== undefined && isFloat(view.element) && (view.shape === null || view.shape.length === 1 || (view.shape.length === 2 && view.shape[1] === 1)));
  if (values.length === 1 && outputs.length === 1) {
    const v = values[0]!.view!;
    return { kind: 'regressor', value: { name: v.name, element: v.element as 'float32' | 'float64' }, classes: null, rewritten };
  }
  const seen = outputs.map((o) => `'${o.name ?? ''}' ${describe(o.type)}${shapeText(o)}`).join(', ');
  throw refuse(
    `${what} is neither a classifier (a label output with probabilities) nor a regressor (one float output, one value per row); its outputs: ${seen}`,
  );
}

function shapeText(o: OnnxValueInfo): string {
  const v = tensorView(o);
  return v?.shape ? ` [${v.shape.map((d) => d ?? 'N').join(', ')}]` : '';
}

function classesFromMeta(meta: Map<string, string>, what: string): ClassLabel[] | null {
  const text = meta.get(ONNX_META.classes);
  if (text === undefined) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const ok = Array.isArray(v) && v.length >= 2 && (v.every((x) => typeof x === 'string') || v.every((x) => typeof x === 'number' && Number.isFinite(x)));
  if (!ok) throw refuse(`${what}: metadata ${ONNX_META.classes} must be a JSON list of at least two labels, all numbers or all strings`);
  return v as ClassLabel[];
}

const attr = (n: OnnxNode, name: string) => (n.attribute ?? []).find((a) => a.name === name);

function zipMapClasses(zip: OnnxNode): ClassLabel[] | null {
  const ints = attr(zip, 'classlabels_int64s')?.ints;
  if (ints !== undefined && ints.length > 0) return ints;
  const strings = attr(zip, 'classlabels_strings')?.strings;
  if (strings !== undefined && strings.length > 0) return strings.map(textOf);
  return null;
}

/** Class labels of an ai.onnx.ml classifier node (LinearClassifier, TreeEnsembleClassifier, SVMClassifier …). */
function classifierNodeClasses(nodes: OnnxNode[]): ClassLabel[] | null {
  for (const n of nodes) {
    if (!(n.op_type ?? '').endsWith('Classifier')) continue;
    const ints = attr(n, 'classlabels_ints')?.ints ?? attr(n, 'classlabels_int64s')?.ints;
    if (ints !== undefined && ints.length > 0) return ints;
    const strings = attr(n, 'classlabels_strings')?.strings;
    if (strings !== undefined && strings.length > 0) return strings.map(textOf);
  }
  return null;
}
