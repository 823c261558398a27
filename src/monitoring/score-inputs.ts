import { FluxError } from '../core/index.js';

/**
 * Checks shared by the calibrator and the performance estimator: both read a classifier's scores
 * and, on reference data, its 0/1 labels. Internal to monitoring (not exported from index.ts).
 */

export const refuse = (message: string, field: string): FluxError => new FluxError('INVALID_PARAMETER_VALUE', message, { field });

function checkArrayLike(values: unknown, field: string): asserts values is ArrayLike<unknown> {
  if (typeof values === 'string' || typeof values !== 'object' || values === null || typeof (values as ArrayLike<unknown>).length !== 'number') {
    throw refuse(`${field} must be an array`, field);
  }
  if ((values as ArrayLike<unknown>).length === 0) throw refuse(`${field} is empty`, field);
}

/**
 * Scores as probabilities of the positive class, copied into a Float64Array. A score outside
 * [0, 1] is refused rather than clamped: it means the column holds margins or logits, and an
 * expected confusion matrix built from those would be meaningless without any error.
 */
export function readScores(values: unknown, field: string): Float64Array {
  checkArrayLike(values, field);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw refuse(`${field}[${i}] is a ${v === null ? 'null' : typeof v}; scores must be numbers in [0, 1]`, field);
    if (!(v >= 0 && v <= 1)) throw refuse(`${field}[${i}] is ${v}; scores must be probabilities in [0, 1]`, field);
    out[i] = v;
  }
  return out;
}

/** 0/1 labels, one per score. */
export function readLabels(values: unknown, field: string, rows: number, scoresField: string): Uint8Array {
  checkArrayLike(values, field);
  if (values.length !== rows) throw refuse(`${field} has ${values.length} values but ${scoresField} has ${rows}; they must be the same rows`, field);
  const out = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1) throw refuse(`${field}[${i}] is ${typeof v === 'string' ? JSON.stringify(v) : String(v)}; labels must be 0 or 1`, field);
    out[i] = v;
  }
  return out;
}

export function readThreshold(value: unknown, field = 'threshold'): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw refuse(`${field} must be a number in [0, 1], got ${String(value)}`, field);
  return value;
}
