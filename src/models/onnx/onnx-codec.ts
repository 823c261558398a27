import { createRequire } from 'node:module';
import type protobufjs from 'protobufjs';
import { FluxError } from '../../core/index.js';
import { ONNX_ML_PROTO3 } from './onnx-ml-proto.js';

/**
 * ONNX models as plain objects, read and written with protobufjs over ONNX's own schema. Field
 * names are the schema's (`ir_version`, `opset_import`), so code reads like the ONNX IR
 * specification; int64 fields are numbers (dimensions, class labels and versions fit in 2^53).
 * Only the fields FluxOps reads or writes are typed; decoding keeps every other field, so a model
 * changed here (ZipMap removed) is re-encoded whole.
 */
export interface OnnxStringEntry {
  key?: string;
  value?: string;
}

export interface OnnxTensor {
  name?: string;
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  string_data?: Uint8Array[];
  raw_data?: Uint8Array;
  /** 1 = EXTERNAL: the values live in a file beside the model. */
  data_location?: number;
}

export interface OnnxAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface OnnxNode {
  name?: string;
  op_type?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: OnnxAttribute[];
}

export interface OnnxDimension {
  dim_value?: number;
  dim_param?: string;
}

export interface OnnxType {
  tensor_type?: { elem_type?: number; shape?: { dim?: OnnxDimension[] } };
  sequence_type?: { elem_type?: OnnxType };
  map_type?: { key_type?: number; value_type?: OnnxType };
}

export interface OnnxValueInfo {
  name?: string;
  type?: OnnxType;
  doc_string?: string;
}

export interface OnnxGraph {
  name?: string;
  node?: OnnxNode[];
  initializer?: OnnxTensor[];
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  doc_string?: string;
}

export interface OnnxModel {
  ir_version?: number;
  opset_import?: Array<{ domain?: string; version?: number }>;
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: OnnxGraph;
  metadata_props?: OnnxStringEntry[];
}

/** TensorProto.DataType values FluxOps meets. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  DOUBLE: 11,
} as const;

/** AttributeProto.AttributeType values. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

let modelType: protobufjs.Type | undefined;

/**
 * ONNX's ModelProto, from the schema parsed once on first use (about 10 ms). protobufjs itself is
 * loaded then too (about 35 ms), so commands that never touch ONNX do not pay for it.
 */
function model(): protobufjs.Type {
  if (modelType === undefined) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof protobufjs;
    modelType = protobuf.parse(ONNX_ML_PROTO3, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** Serialises a model to ONNX's protobuf bytes; a field of the wrong type is an error, not dropped. */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const type = model();
  const problem = type.verify(m);
  if (problem !== null) throw new FluxError('INTERNAL_ERROR', `not a valid ONNX model object: ${problem}`);
  return type.encode(type.fromObject(m)).finish();
}

/** Reads ONNX protobuf bytes; throws UNSUPPORTED_MODEL_FORMAT naming `what` when they are not a model. */
export function decodeOnnxModel(bytes: Uint8Array, what = 'the file'): OnnxModel {
  const type = model();
  let decoded: protobufjs.Message;
  try {
    decoded = type.decode(bytes);
  } catch (e) {
    throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${what} is not an ONNX model (${e instanceof Error ? e.message : String(e)})`);
  }
  const m = type.toObject(decoded, { longs: Number, enums: Number, defaults: false }) as OnnxModel;
  if (m.graph === undefined || (m.graph.output ?? []).length === 0) {
    throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${what} is not an ONNX model: it has no graph with outputs`);
  }
  return m;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
export const textOf = (b: Uint8Array | undefined): string => (b === undefined ? '' : utf8.decode(b));
export const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The model's metadata_props as a map. */
export function metadataOf(m: OnnxModel): Map<string, string> {
  return new Map((m.metadata_props ?? []).map((e) => [e.key ?? '', e.value ?? '']));
}
