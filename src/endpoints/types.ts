import { FluxError } from '../core/index.js';

/** Micro-batching of one deployment: requests are gathered up to `maxBatch` rows or `maxWaitMs`. */
export interface Batching {
  maxBatch: number;
  maxWaitMs: number;
}

/** A model served under an endpoint: a version (`diabetes/3`) or an alias followed with hot swap (`diabetes@production`). */
export interface Deployment {
  name: string;
  model: string;
  batching: Batching | null;
  createdAt: number;
  updatedAt: number;
}

/** Deployment name → integer percent. A split sums to 100 (or is empty when nothing is deployed). */
export type Weights = Record<string, number>;

/** How an endpoint's predictions are logged to the inference table. */
export interface InferenceLogSettings {
  /** Share of requests logged, from 0 (none) to 1 (every one). */
  sampleRate: number;
  /** Logged requests older than this many days are deleted. */
  retentionDays: number;
}

export const DEFAULT_INFERENCE_LOG: Readonly<InferenceLogSettings> = Object.freeze({ sampleRate: 1, retentionDays: 30 });

export interface Endpoint {
  name: string;
  /** A label such as `staging` or `production`. */
  environment: string;
  description: string;
  /** The roles that may predict on it; null means every role with the predict permission. */
  predictRoles: string[] | null;
  /** A request header whose value pins a caller to one deployment at a given split. */
  stickyHeader: string | null;
  deployments: Deployment[];
  traffic: Weights;
  /** Deployment → percent of live requests it receives a copy of. */
  mirror: Weights;
  /** What of its traffic goes to the inference table. */
  inferenceLog: InferenceLogSettings;
  /** Grows with every change of the endpoint, its deployments or its traffic. */
  generation: number;
  createdAt: number;
  updatedAt: number;
}

export const ENDPOINT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const DEPLOYMENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** Header names as HTTP defines them (RFC 9110 tokens). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
export const MAX_DEPLOYMENTS = 20;

export function endpointName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || !ENDPOINT_NAME.test(v)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit (such as diabetes-prod); got ${JSON.stringify(v)}`, { field });
  }
  return v;
}

export function deploymentName(v: unknown, field = 'deployment'): string {
  if (typeof v !== 'string' || !DEPLOYMENT_NAME.test(v)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be 1 to 32 lower-case letters, digits and '-', starting and ending with a letter or digit (such as blue); got ${JSON.stringify(v)}`, { field });
  }
  return v;
}

export function headerName(v: unknown, field = 'stickyHeader'): string {
  if (typeof v !== 'string' || !HEADER_NAME.test(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an HTTP header name such as X-User-Id; got ${JSON.stringify(v)}`, { field });
  return v.toLowerCase();
}

/** Inference-log settings as given (`{sampleRate?, retentionDays?}`), over `base` for the fields left out. */
export function inferenceLogOf(v: unknown, base: InferenceLogSettings = DEFAULT_INFERENCE_LOG, field = 'inferenceLog'): InferenceLogSettings {
  if (v === undefined || v === null) return { ...base };
  if (typeof v !== 'object' || Array.isArray(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an object {sampleRate, retentionDays}`, { field });
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'sampleRate' && k !== 'retentionDays') throw new FluxError('INVALID_PARAMETER_VALUE', `unknown field ${field}.${k} (known: sampleRate, retentionDays)`, { field: `${field}.${k}` });
  const rate = o.sampleRate ?? base.sampleRate;
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}.sampleRate must be a number from 0 (log nothing) to 1 (log every request), got ${JSON.stringify(rate)}`, { field: `${field}.sampleRate` });
  const days = o.retentionDays ?? base.retentionDays;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}.retentionDays must be a whole number of days from 1 to 3650, got ${JSON.stringify(days)}`, { field: `${field}.retentionDays` });
  return { sampleRate: rate, retentionDays: days };
}

export function batchingOf(v: unknown, field = 'batching'): Batching | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an object {maxBatch, maxWaitMs}`, { field });
  const b = v as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== 'maxBatch' && k !== 'maxWaitMs') throw new FluxError('INVALID_PARAMETER_VALUE', `unknown field ${field}.${k} (known: maxBatch, maxWaitMs)`, { field: `${field}.${k}` });
  const int = (x: unknown, name: string, min: number, max: number): number => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}.${name} must be an integer from ${min} to ${max}`, { field: `${field}.${name}` });
    return x;
  };
  return { maxBatch: int(b.maxBatch, 'maxBatch', 1, 10_000), maxWaitMs: int(b.maxWaitMs, 'maxWaitMs', 0, 1000) };
}

/**
 * A traffic split as given (deployment → percent): integers from 0 to 100 summing to 100, over
 * deployments that exist; deployments left out get 0. An endpoint without deployments has none.
 */
export function parseWeights(v: unknown, deployments: readonly string[], field = 'traffic'): Weights {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an object of deployment → percent, such as {"blue": 90, "green": 10}`, { field });
  const out: Weights = {};
  for (const d of deployments) out[d] = 0;
  let sum = 0;
  for (const [name, w] of Object.entries(v as Record<string, unknown>)) {
    if (!deployments.includes(name)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}: no deployment '${name}' on this endpoint (deployments: ${deployments.join(', ') || 'none'})`, { field: `${field}.${name}` });
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 100) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}.${name} must be an integer percent from 0 to 100; got ${JSON.stringify(w)}`, { field: `${field}.${name}` });
    out[name] = w;
    sum += w;
  }
  if (deployments.length > 0 && sum !== 100) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must sum to 100; got ${sum} (${Object.entries(out).map(([k, w]) => `${k}=${w}`).join(' ')})`, { field });
  return out;
}

/** Mirror settings: deployment → percent of live requests copied to it (0 to 100; 0 entries are dropped unless kept). */
export function parseMirror(v: unknown, deployments: readonly string[], field = 'mirror', keepZeros = false): Weights {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an object of deployment → percent, such as {"green": 20}`, { field });
  const out: Weights = {};
  for (const [name, w] of Object.entries(v as Record<string, unknown>)) {
    if (!deployments.includes(name)) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}: no deployment '${name}' on this endpoint (deployments: ${deployments.join(', ') || 'none'})`, { field: `${field}.${name}` });
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 100) throw new FluxError('INVALID_PARAMETER_VALUE', `${field}.${name} must be an integer percent from 0 to 100; got ${JSON.stringify(w)}`, { field: `${field}.${name}` });
    if (w > 0 || keepZeros) out[name] = w;
  }
  return out;
}

/**
 * Gives `name` the share `percent` and scales the others to fill the rest, keeping their
 * proportions (largest remainder, ties by name). With no other traffic the rest goes to nobody
 * but `name` itself, which then must take 100.
 */
export function withShare(current: Weights, name: string, percent: number): Weights {
  const others = Object.entries(current).filter(([k]) => k !== name);
  const rest = 100 - percent;
  const total = others.reduce((s, [, w]) => s + w, 0);
  const out: Weights = { ...Object.fromEntries(others.map(([k]) => [k, 0])), [name]: percent };
  if (rest === 0) return out;
  if (total === 0) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `no other deployment takes traffic, so ${name} must take 100 %, not ${percent} %`, { field: 'traffic' });
  }
  const exact = others.map(([k, w]) => ({ k, x: (w * rest) / total }));
  let given = 0;
  for (const e of exact) {
    out[e.k] = Math.floor(e.x);
    given += Math.floor(e.x);
  }
  exact.sort((a, b) => b.x - Math.floor(b.x) - (a.x - Math.floor(a.x)) || a.k.localeCompare(b.k));
  for (let i = 0; given < rest; i++, given++) out[exact[i % exact.length]!.k]! += 1;
  return out;
}

/** The deployment with the most traffic (ties by name), leaving out `except`; undefined when none takes any. */
export function mainDeployment(traffic: Weights, except?: string): string | undefined {
  return Object.entries(traffic)
    .filter(([d, w]) => d !== except && w > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}
