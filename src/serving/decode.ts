import { FluxError } from '../core/index.js';
import type { InputCodec } from '../models/index.js';

/** Most rows one predict request may carry; larger batches belong to `fluxops predict`. */
export const MAX_PREDICT_ROWS = 10_000;

export interface DecodedInput {
  X: Float64Array;
  rows: number;
}

/**
 * Turns a predict body into a row-major feature matrix ordered as the model's inputs. Accepts
 * `{"inputs":[{col: value, …}, …]}` (records) and `{"columns":[…], "data":[[…], …]}` (split).
 * Every problem is a 400 naming the field; too many rows is a 413.
 */
export function decodePredictBody(body: unknown, features: readonly string[], codec?: InputCodec): DecodedInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('request body must be a JSON object with "inputs" (records) or "columns" and "data"', 'body');
  }
  const b = body as Record<string, unknown>;
  const hasInputs = 'inputs' in b;
  const hasSplit = 'columns' in b || 'data' in b;
  if (hasInputs === hasSplit) {
    throw bad('send exactly one of "inputs" (a list of records) or "columns" with "data"', hasInputs ? 'columns' : 'inputs');
  }
  for (const k of Object.keys(b)) {
    if (k !== 'inputs' && k !== 'columns' && k !== 'data') throw bad(`unknown field "${k}" in the request body`, k);
  }
  const cell = cellReader(features, codec);
  return hasInputs ? decodeRecords(b.inputs, features, cell) : decodeSplit(b.columns, b.data, features, cell);
}

type CellReader = (v: unknown, j: number, field: string) => number;

/** Finite numbers only (models without a codec): one function for every request, nothing allocated per call. */
const plainCell: CellReader = (v, _j, field) => number(v, field);

/**
 * How one cell becomes a number: a finite number as it is; for models that take them (gradient-
 * boosted trees), null as a missing value and a text category as its position in the model's
 * categories (an unknown category is missing, as the model treats it).
 */
function cellReader(features: readonly string[], codec: InputCodec | undefined): CellReader {
  if (codec === undefined) return plainCell;
  return (v, j, field) => {
    const text = codec.text[j];
    if (text !== null && text !== undefined) {
      if (typeof v === 'string') return text.get(v) ?? NaN;
      if (v === null) return NaN;
      throw bad(`${field} must be a text category (the input ${features[j]} is categorical), got ${v === undefined ? 'nothing' : Array.isArray(v) ? 'a list' : typeof v}`, field);
    }
    if (v === null && codec.missing) return NaN;
    return number(v, field);
  };
}

function decodeRecords(inputs: unknown, features: readonly string[], cell: CellReader): DecodedInput {
  if (!Array.isArray(inputs)) throw bad('"inputs" must be a list of records', 'inputs');
  const n = checkRowCount(inputs.length, 'inputs');
  const d = features.length;
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const rec = inputs[i] as unknown;
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw bad(`inputs[${i}] must be an object of feature values`, `inputs[${i}]`);
    const r = rec as Record<string, unknown>;
    let seen = 0;
    for (let j = 0; j < d; j++) {
      const name = features[j]!;
      const v = r[name];
      if (v === undefined) throw bad(`inputs[${i}].${name} is missing`, `inputs[${i}].${name}`);
      X[i * d + j] = cell(v, j, `inputs[${i}].${name}`);
      seen++;
    }
    const keys = Object.keys(r);
    if (keys.length !== seen) {
      const extra = keys.find((k) => !features.includes(k))!;
      throw bad(`inputs[${i}].${extra} is not an input of this model (inputs: ${features.join(', ')})`, `inputs[${i}].${extra}`);
    }
  }
  return { X, rows: n };
}

function decodeSplit(columns: unknown, data: unknown, features: readonly string[], cell: CellReader): DecodedInput {
  if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string')) throw bad('"columns" must be a list of column names', 'columns');
  if (!Array.isArray(data)) throw bad('"data" must be a list of rows', 'data');
  const d = features.length;
  const index = new Int32Array(d).fill(-1);
  const cols = columns as string[];
  cols.forEach((c, k) => {
    const j = features.indexOf(c);
    if (j < 0) throw bad(`columns[${k}] "${c}" is not an input of this model (inputs: ${features.join(', ')})`, `columns[${k}]`);
    if (index[j] !== -1) throw bad(`columns[${k}] "${c}" appears twice`, `columns[${k}]`);
    index[j] = k;
  });
  const missing = features.find((_, j) => index[j] === -1);
  if (missing !== undefined) throw bad(`column "${missing}" is missing from "columns"`, 'columns');
  const n = checkRowCount(data.length, 'data');
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = data[i] as unknown;
    if (!Array.isArray(row) || row.length !== cols.length) throw bad(`data[${i}] must be a list of ${cols.length} values`, `data[${i}]`);
    for (let j = 0; j < d; j++) {
      const k = index[j]!;
      X[i * d + j] = cell(row[k], j, `data[${i}][${k}] (${features[j]})`);
    }
  }
  return { X, rows: n };
}

function checkRowCount(n: number, field: string): number {
  if (n === 0) throw bad(`"${field}" is empty: send at least one row`, field);
  if (n > MAX_PREDICT_ROWS) {
    throw new FluxError('PAYLOAD_TOO_LARGE', `"${field}" has ${n} rows; at most ${MAX_PREDICT_ROWS} per request (use fluxops predict for batches)`, { field });
  }
  return n;
}

function number(v: unknown, field: string): number {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
    throw bad(`${field} must be a finite number`, field);
  }
  throw bad(`${field} must be a number, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`, field);
}

function bad(message: string, field: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message, { field });
}
