import {
  OnnxAttributeType,
  OnnxDataType,
  bytesOf,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-codec.js';

/**
 * Small constructors for ONNX graphs: value infos, constant tensors, attributes, nodes and the
 * model around them. The exporter writes built-in models with them, and the tests build the
 * multiclass and regressor graphs they serve with the same code.
 */
export type OnnxElement = 'float32' | 'float64' | 'int64' | 'int32' | 'string' | 'bool';

const ELEMENT: Record<OnnxElement, number> = {
  float32: OnnxDataType.FLOAT,
  float64: OnnxDataType.DOUBLE,
  int64: OnnxDataType.INT64,
  int32: OnnxDataType.INT32,
  string: OnnxDataType.STRING,
  bool: OnnxDataType.BOOL,
};

/** A dimension: a size, or a name for a size known only at run time (`'N'`). */
export type OnnxDim = number | string;

const dims = (shape: readonly OnnxDim[]) => ({ dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) });

export function tensorInfo(name: string, element: OnnxElement, shape: readonly OnnxDim[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: ELEMENT[element], shape: dims(shape) } } };
}

/** `seq(map(key, tensor(float)))`, what ZipMap outputs. */
export function sequenceOfMapsInfo(name: string, key: 'int64' | 'string'): OnnxValueInfo {
  return {
    name,
    type: { sequence_type: { elem_type: { map_type: { key_type: ELEMENT[key], value_type: { tensor_type: { elem_type: OnnxDataType.FLOAT } } } } } },
  };
}

/** A constant tensor (an initializer) with its values in the typed field of its element type. */
export function constantTensor(name: string, element: OnnxElement, shape: readonly number[], values: readonly number[] | readonly string[]): OnnxTensor {
  const t: OnnxTensor = { name, data_type: ELEMENT[element], dims: [...shape] };
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new RangeError(`tensor ${name} of shape [${shape.join(', ')}] needs ${size} values, got ${values.length}`);
  switch (element) {
    case 'float32':
      t.float_data = values as number[];
      break;
    case 'float64':
      t.double_data = values as number[];
      break;
    case 'int64':
      t.int64_data = values as number[];
      break;
    case 'int32':
    case 'bool':
      t.int32_data = values as number[];
      break;
    case 'string':
      t.string_data = (values as string[]).map(bytesOf);
      break;
  }
  return t;
}

export const attribute = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: OnnxAttributeType.FLOAT, f }),
  string: (name: string, s: string): OnnxAttribute => ({ name, type: OnnxAttributeType.STRING, s: bytesOf(s) }),
  ints: (name: string, ints: readonly number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.INTS, ints: [...ints] }),
  floats: (name: string, floats: readonly number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.FLOATS, floats: [...floats] }),
  strings: (name: string, strings: readonly string[]): OnnxAttribute => ({ name, type: OnnxAttributeType.STRINGS, strings: strings.map(bytesOf) }),
  tensor: (name: string, t: OnnxTensor): OnnxAttribute => ({ name, type: OnnxAttributeType.TENSOR, t }),
};

export function onnxNode(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: OnnxAttribute[] = [], domain = ''): OnnxNode {
  return { op_type: opType, domain, name: `${opType}_${outputs[0] ?? ''}`, input: [...inputs], output: [...outputs], attribute: attributes };
}

export interface OnnxModelSpec {
  graph: { name: string; inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[]; nodes: OnnxNode[]; initializers?: OnnxTensor[]; docString?: string };
  /** Operator set per domain: `{ '': 13, 'ai.onnx.ml': 1 }`. */
  opsets: Record<string, number>;
  metadata?: Record<string, string>;
  producer?: { name: string; version: string };
  docString?: string;
  /** IR version 8 (ONNX 1.10) by default: read by every ONNX Runtime since 1.10. */
  irVersion?: number;
}

export function onnxModel(spec: OnnxModelSpec): OnnxModel {
  const graph: OnnxGraph = {
    name: spec.graph.name,
    input: spec.graph.inputs,
    output: spec.graph.outputs,
    node: spec.graph.nodes,
    initializer: spec.graph.initializers ?? [],
    ...(spec.graph.docString !== undefined ? { doc_string: spec.graph.docString } : {}),
  };
  return {
    ir_version: spec.irVersion ?? 8,
    opset_import: Object.entries(spec.opsets).map(([domain, version]) => ({ domain, version })),
    producer_name: spec.producer?.name ?? 'fluxops',
    producer_version: spec.producer?.version ?? '',
    ...(spec.docString !== undefined ? { doc_string: spec.docString } : {}),
    graph,
    metadata_props: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

/**
 * A binary classifier's outputs from the probability of its second class [N, 1]: `probabilities`
 * [N, 2] = [1 − p, p], and `label` = classes[1] when p is strictly above ½ (the built-in rule).
 * The graph provides the initializers `one` and `half` (float64 [1]), `flat` (int64 [1] = −1) and
 * `classes` (the two labels).
 */
export function binaryLabelNodes(pPositive: string): OnnxNode[] {
  return [
    onnxNode('Sub', ['one', pPositive], ['p_negative']),
    onnxNode('Concat', ['p_negative', pPositive], ['probabilities'], [attribute.int('axis', 1)]),
    onnxNode('Greater', [pPositive, 'half'], ['is_positive']),
    onnxNode('Cast', ['is_positive'], ['class_index_2d'], [attribute.int('to', OnnxDataType.INT64)]),
    onnxNode('Reshape', ['class_index_2d', 'flat'], ['class_index']),
    onnxNode('Gather', ['classes', 'class_index'], ['label'], [attribute.int('axis', 0)]),
  ];
}
