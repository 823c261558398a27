import { parse as parseCsv } from 'csv-parse/sync';
import type { PredictResult } from './model-server.js';

/**
 * The serving protocols besides FluxOps' own, as translations: each request becomes the native
 * predict body (`{columns, data}` or `{inputs}`, decoded against the model's signature by the same
 * code as /api/predict), and each answer is written the protocol's way. Refusals carry the status
 * and wording the protocol's clients expect.
 */

/** A refusal in a protocol's own shape. */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly protocol: 'mlflow' | 'oip',
    readonly code = 'BAD_REQUEST',
  ) {
    super(message);
  }
}

export type NativeBody = { columns: string[]; data: unknown[][] } | { inputs: unknown[] };

// ---- MLflow's scoring server (`mlflow models serve`) ----

const MLFLOW_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields {${MLFLOW_FORMATS.map((f) => `'${f}'`).join(', ')}}`;

/**
 * An `/invocations` request: JSON with exactly one of `dataframe_split`, `dataframe_records`,
 * `instances` or `inputs` (plus `params`, accepted and unused by FluxOps' models), or CSV with a
 * header row. `features` is the served model's input order, for positional rows.
 */
export function mlflowScoringBody(contentType: string | undefined, body: unknown, features: readonly string[]): NativeBody {
  // Only JSON and CSV reach here: the scope has parsers for those two, and Fastify answers 415 to the rest.
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'text/csv') return csvBody(typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError(400, `${REQUIRED_INPUT_FORMAT}. ${Array.isArray(body) ? 'Received a list.' : `Received unexpected input type '${typeof body}'.`}`, 'mlflow');
  }
  const b = body as Record<string, unknown>;
  const given = MLFLOW_FORMATS.filter((f) => f in b);
  if (given.length !== 1) throw new ProtocolError(400, `${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: [${Object.keys(b).map((k) => `'${k}'`).join(', ')}].`, 'mlflow');
  const field = given[0]!;
  const v = b[field];
  switch (field) {
    case 'dataframe_split': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError(400, 'dataframe_split must be an object with "columns" and "data" (pandas orient=split)', 'mlflow');
      const split = v as { columns?: unknown; data?: unknown };
      if (!Array.isArray(split.data)) throw new ProtocolError(400, 'dataframe_split.data must be a list of rows', 'mlflow');
      const columns = split.columns === undefined ? [...features] : split.columns;
      if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string')) throw new ProtocolError(400, 'dataframe_split.columns must be a list of column names', 'mlflow');
      return { columns: columns as string[], data: split.data as unknown[][] };
    }
    case 'dataframe_records':
      if (!Array.isArray(v)) throw new ProtocolError(400, 'dataframe_records must be a list of records (pandas orient=records)', 'mlflow');
      return { inputs: v };
    case 'instances':
    case 'inputs':
      return tfServingBody(field, v, features);
  }
}

/** TF-serving style `instances`/`inputs`: a list of records or of positional rows, or an object of columns. */
function tfServingBody(field: string, v: unknown, features: readonly string[]): NativeBody {
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) return { inputs: v };
    if (v.every((r) => Array.isArray(r))) return { columns: [...features], data: v as unknown[][] };
    throw new ProtocolError(400, `${field} must be a list of records or of rows (lists of ${features.length} values in the order ${features.join(', ')})`, 'mlflow');
  }
  if (typeof v === 'object' && v !== null) {
    const cols = Object.entries(v as Record<string, unknown>);
    if (cols.some(([, c]) => !Array.isArray(c))) throw new ProtocolError(400, `${field} as an object must map each column to a list of values`, 'mlflow');
    const n = (cols[0]?.[1] as unknown[] | undefined)?.length ?? 0;
    if (cols.some(([, c]) => (c as unknown[]).length !== n)) throw new ProtocolError(400, `every column of ${field} must have the same number of values`, 'mlflow');
    return { columns: cols.map(([k]) => k), data: Array.from({ length: n }, (_, i) => cols.map(([, c]) => (c as unknown[])[i])) };
  }
  throw new ProtocolError(400, `${field} must be a list or an object of columns`, 'mlflow');
}

function csvBody(text: string): NativeBody {
  let rows: string[][];
  try {
    const parsed: unknown = parseCsv(text, { skip_empty_lines: true, trim: true });
    rows = parsed as string[][];
  } catch (e) {
    throw new ProtocolError(400, `Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the \`pandas.DataFrame.to_csv()\` method. Error: '${(e as Error).message}'`, 'mlflow');
  }
  if (rows.length === 0) throw new ProtocolError(400, 'the CSV input has no header row', 'mlflow');
  const [header, ...data] = rows as [string[], ...string[][]];
  return { columns: header, data: data.map((r) => r.map((x) => (x === '' ? null : Number.isFinite(Number(x)) ? Number(x) : x))) };
}

/** MLflow's answer: the predictions alone (labels for classifiers, values for regressors). */
export function mlflowScoringAnswer(result: PredictResult): { predictions: Array<number | string> } {
  return { predictions: result.predictions };
}

// ---- Open Inference Protocol v2 (KServe, Triton, Seldon, MLServer) ----

const DATATYPES = new Set(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']);

export interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  data: unknown[];
}

export interface OipRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: OipTensor[];
  outputs?: Array<{ name: string; parameters?: Record<string, unknown> }>;
}

/**
 * An infer request's tensors as the native body: one tensor per input column (shape [N] or
 * [N, 1], named as the signature's inputs), or one [N, F] tensor whose columns follow the
 * signature's input order. Data may be nested or flat row-major.
 */
export function oipBody(body: unknown, features: readonly string[]): { native: NativeBody; request: OipRequest } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ProtocolError(400, 'the infer request must be a JSON object with "inputs"', 'oip');
  const req = body as Partial<OipRequest> & Record<string, unknown>;
  if (req.id !== undefined && typeof req.id !== 'string') throw new ProtocolError(400, '"id" must be a string', 'oip');
  if (!Array.isArray(req.inputs) || req.inputs.length === 0) throw new ProtocolError(400, '"inputs" must be a non-empty list of tensors', 'oip');
  const tensors = req.inputs.map((t, i) => tensor(t, `inputs[${i}]`));
  if (req.outputs !== undefined && (!Array.isArray(req.outputs) || req.outputs.some((o) => typeof o !== 'object' || o === null || typeof (o as { name?: unknown }).name !== 'string'))) {
    throw new ProtocolError(400, '"outputs" must be a list of {"name": …}', 'oip');
  }
  const request: OipRequest = { ...req, inputs: tensors };
  if (tensors.length === 1 && tensors[0]!.shape.length === 2 && tensors[0]!.shape[1] === features.length && !(features.length === 1 && features[0] === tensors[0]!.name)) {
    const t = tensors[0]!;
    const [n, f] = t.shape as [number, number];
    const flat = t.data;
    return { native: { columns: [...features], data: Array.from({ length: n }, (_, i) => flat.slice(i * f, (i + 1) * f)) }, request };
  }
  const n = tensors[0]!.shape[0]!;
  for (const t of tensors) {
    if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1)) || t.shape[0] !== n) {
      throw new ProtocolError(400, `tensor '${t.name}' has shape [${t.shape.join(', ')}]: send one tensor per input column, each of shape [${n}] or [${n}, 1], or one tensor of shape [N, ${features.length}] (columns ${features.join(', ')})`, 'oip');
    }
  }
  return { native: { columns: tensors.map((t) => t.name), data: Array.from({ length: n }, (_, i) => tensors.map((t) => t.data[i])) }, request };
}

function tensor(v: unknown, where: string): OipTensor {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError(400, `${where} must be a tensor {"name", "shape", "datatype", "data"}`, 'oip');
  const t = v as Record<string, unknown>;
  if (typeof t.name !== 'string' || t.name === '') throw new ProtocolError(400, `${where}.name must be a non-empty string`, 'oip');
  if (!Array.isArray(t.shape) || t.shape.length === 0 || t.shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) throw new ProtocolError(400, `${where}.shape must be a list of non-negative integers`, 'oip');
  if (typeof t.datatype !== 'string' || !DATATYPES.has(t.datatype)) throw new ProtocolError(400, `${where}.datatype must be one of ${[...DATATYPES].join(', ')}`, 'oip');
  if (t.datatype === 'BOOL') throw new ProtocolError(400, `${where}: BOOL tensors are not model inputs here (the inputs are numbers, or text for a categorical input)`, 'oip');
  if (!Array.isArray(t.data)) throw new ProtocolError(400, `${where}.data must be a list (nested or flat row-major)`, 'oip');
  const data = (t.data as unknown[]).flat(Infinity);
  const size = (t.shape as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new ProtocolError(400, `${where}: shape [${(t.shape as number[]).join(', ')}] holds ${size} values, data has ${data.length}`, 'oip');
  // BYTES tensors carry text (a categorical input); JSON has no NaN, so null stands for a missing
  // number. The model's decoder says whether it takes either.
  if (t.datatype === 'BYTES' ? data.some((x) => typeof x !== 'string' && x !== null) : data.some((x) => typeof x !== 'number' && x !== null)) {
    throw new ProtocolError(400, `${where}.data must hold ${t.datatype === 'BYTES' ? 'strings (a BYTES tensor)' : 'numbers (or null for a missing value)'}`, 'oip');
  }
  return { name: t.name, shape: t.shape as number[], datatype: t.datatype, data, ...(t.parameters !== undefined ? { parameters: t.parameters as Record<string, unknown> } : {}) };
}

/** The infer answer: `prediction` (labels or values) and, for classifiers, `probabilities` [N, k]; `outputs` selects. */
export function oipAnswer(result: PredictResult, request: OipRequest, modelName: string) {
  const n = result.predictions.length;
  const labelsAreText = result.predictions.some((p) => typeof p === 'string');
  const integral = result.predictions.every((p) => typeof p === 'number' && Number.isInteger(p));
  const all: OipTensor[] = [
    { name: 'prediction', shape: [n], datatype: labelsAreText ? 'BYTES' : result.classes !== undefined && integral ? 'INT64' : 'FP64', data: result.predictions },
  ];
  if (result.probabilities !== undefined && result.classes !== undefined) {
    all.push({ name: 'probabilities', shape: [n, result.classes.length], datatype: 'FP64', parameters: { classes: result.classes }, data: result.probabilities.flat() });
  }
  let outputs = all;
  if (request.outputs !== undefined && request.outputs.length > 0) {
    const names = request.outputs.map((o) => o.name);
    const unknown = names.find((x) => !all.some((t) => t.name === x));
    if (unknown !== undefined) throw new ProtocolError(400, `unknown output '${unknown}' (outputs: ${all.map((t) => t.name).join(', ')})`, 'oip');
    outputs = all.filter((t) => names.includes(t.name));
  }
  return { model_name: modelName, model_version: result.version, ...(request.id !== undefined ? { id: request.id } : {}), parameters: { model: result.model }, outputs };
}

/** The model metadata of `GET /v2/models/{name}`. */
export function oipMetadata(name: string, versions: string[], features: readonly string[], classes: ReadonlyArray<number | string> | undefined) {
  return {
    name,
    versions,
    platform: 'fluxops',
    inputs: features.map((f) => ({ name: f, datatype: 'FP64', shape: [-1] })),
    outputs: [{ name: 'prediction', datatype: classes !== undefined ? 'INT64' : 'FP64', shape: [-1] }, ...(classes !== undefined ? [{ name: 'probabilities', datatype: 'FP64', shape: [-1, classes.length] }] : [])],
  };
}
