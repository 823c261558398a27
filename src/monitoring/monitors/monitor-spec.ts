import { FluxError, parseDuration } from '../../core/index.js';
import { deploymentName, endpointName } from '../../endpoints/index.js';
import type { ColumnDriftOptions, DriftMethod } from '../drift-stats.js';
import type { Monitor } from './types.js';

export const MONITOR_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const METHODS: readonly DriftMethod[] = ['ks', 'wasserstein', 'psi', 'chisquare', 'jensenshannon'];
const MODEL_VERSION = /^[^@/\s]{1,200}\/\d{1,9}$/;
const MIN_EVERY_MS = 10_000;

/** The settings a monitor is created with (as the API and CLI take them). */
export interface MonitorInput {
  name: unknown;
  endpoint: unknown;
  deployment?: unknown;
  reference?: unknown;
  window?: unknown;
  every?: unknown;
  minRows?: unknown;
  maxRows?: unknown;
  driftShare?: unknown;
  columns?: unknown;
  ignore?: unknown;
  enabled?: unknown;
}

export type MonitorSettings = Omit<Monitor, 'nextRunAt' | 'createdAt' | 'updatedAt'>;

/** Validates a monitor's settings over `base` (a patch) or the defaults; every refusal names its field. */
export function parseMonitor(input: MonitorInput, base?: MonitorSettings): MonitorSettings {
  const has = (k: keyof MonitorInput): boolean => input[k] !== undefined;
  const name = base?.name ?? monitorName(input.name);
  return {
    name,
    endpoint: has('endpoint') ? endpointName(input.endpoint, 'endpoint') : (base?.endpoint ?? endpointName(input.endpoint, 'endpoint')),
    deployment: has('deployment') ? (input.deployment === null || input.deployment === '' ? null : deploymentName(input.deployment, 'deployment')) : (base?.deployment ?? null),
    reference: has('reference') ? reference(input.reference) : (base?.reference ?? null),
    windowMs: has('window') ? windowOf(input.window) : (base?.windowMs ?? 3_600_000),
    everyMs: has('every') ? every(input.every) : (base?.everyMs ?? null),
    minRows: has('minRows') ? int(input.minRows, 'minRows', 1, 1_000_000) : (base?.minRows ?? 100),
    maxRows: has('maxRows') ? int(input.maxRows, 'maxRows', 100, 1_000_000) : (base?.maxRows ?? 50_000),
    driftShare: has('driftShare') ? share(input.driftShare) : (base?.driftShare ?? 0.5),
    columns: has('columns') ? columns(input.columns) : (base?.columns ?? {}),
    ignore: has('ignore') ? names(input.ignore, 'ignore') : (base?.ignore ?? []),
    enabled: has('enabled') ? bool(input.enabled, 'enabled') : (base?.enabled ?? true),
  };
}

export function monitorName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || !MONITOR_NAME.test(v)) {
    throw bad(`${field} must be 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit (such as diabetes-drift); got ${JSON.stringify(v)}`, field);
  }
  return v;
}

function reference(v: unknown): string | null {
  if (v === null || v === '') return null;
  if (typeof v !== 'string' || !MODEL_VERSION.test(v)) throw bad(`reference must name a model version as name/version (such as diabetes/3), got ${JSON.stringify(v)}`, 'reference');
  return v;
}

function windowOf(v: unknown): number {
  const ms = parseDuration(v, 'window');
  if (ms < 1000 || ms > 90 * 86_400_000) throw bad(`window must be from 1s to 90d, got ${JSON.stringify(v)}`, 'window');
  return ms;
}

function every(v: unknown): number | null {
  if (v === null || v === '' || v === 'never') return null;
  const ms = parseDuration(v, 'every');
  if (ms < MIN_EVERY_MS) throw bad(`every must be at least 10s (or null for on demand only), got ${JSON.stringify(v)}`, 'every');
  return ms;
}

function share(v: unknown): number {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw bad(`driftShare must be a share of columns in (0, 1], got ${JSON.stringify(v)}`, 'driftShare');
  return v;
}

function columns(v: unknown): Record<string, ColumnDriftOptions> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('columns must be an object of column name → {method?, threshold?}', 'columns');
  const out: Record<string, ColumnDriftOptions> = {};
  for (const [col, o] of Object.entries(v as Record<string, unknown>)) {
    const f = `columns.${col}`;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad(`${f} must be an object {method?, threshold?}`, f);
    const opt = o as Record<string, unknown>;
    for (const k of Object.keys(opt)) if (k !== 'method' && k !== 'threshold') throw bad(`unknown field ${f}.${k} (known: method, threshold)`, `${f}.${k}`);
    if (opt.method !== undefined && !METHODS.includes(opt.method as DriftMethod)) throw bad(`${f}.method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(opt.method)}`, `${f}.method`);
    if (opt.threshold !== undefined && (typeof opt.threshold !== 'number' || !(opt.threshold > 0))) throw bad(`${f}.threshold must be a number > 0, got ${JSON.stringify(opt.threshold)}`, `${f}.threshold`);
    out[col] = { ...(opt.method !== undefined ? { method: opt.method as DriftMethod } : {}), ...(opt.threshold !== undefined ? { threshold: opt.threshold } : {}) };
  }
  return out;
}

function names(v: unknown, field: string): string[] {
  const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) throw bad(`${field} must be a list of column names`, field);
  return list as string[];
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`, field);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw bad(`${field} must be true or false, got ${JSON.stringify(v)}`, field);
  return v;
}

function bad(message: string, field: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message, { field });
}
