import { FluxError, RUN_ID_PATTERN, EXPERIMENT_ID_PATTERN } from '../core/index.js';

/** Limits as MLflow sets them, so clients that fit MLflow fit FluxOps. */
export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentNameLength: 500,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  maxSearchResults: 50_000,
} as const;

const KEY_PATTERN = /^[\w\-. /]+$/;

export function validateKey(key: unknown, field: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a non-empty string`, { field });
  if (key.length > LIMITS.keyLength) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} '${key.slice(0, 40)}…' is longer than ${LIMITS.keyLength} characters`, { field });
  // A key must be a normalised relative path, as MLflow requires: no empty, '.' or '..' segments.
  if (!KEY_PATTERN.test(key) || key.split('/').some((s) => s === '' || s === '..' || s === '.')) {
    throw new FluxError(
      'INVALID_PARAMETER_VALUE',
      `${field} '${key}' may only contain letters, digits, underscores, dashes, periods, spaces and slashes, and must not be a relative path`,
      { field },
    );
  }
  return key;
}

export function validateValue(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a string`, { field });
  if (value.length > max) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} is ${value.length} characters long; the limit is ${max}`, { field });
  return value;
}

export function validateRunId(runId: unknown, field = 'run_id'): string {
  if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be 32 lowercase hex characters`, { field });
  }
  return runId;
}

export function validateExperimentId(id: unknown, field = 'experiment_id'): string {
  const s = typeof id === 'number' && Number.isInteger(id) ? String(id) : id;
  if (typeof s !== 'string' || !EXPERIMENT_ID_PATTERN.test(s)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a numeric string such as "0"`, { field });
  }
  return s;
}

export function validateInteger(v: unknown, field: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an integer between ${min} and ${max}`, { field });
  }
  return n;
}

export function validateMetricValue(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity' || v === 'inf') return Infinity;
  if (v === '-Infinity' || v === '-inf') return -Infinity;
  throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a number`, { field });
}
