/** Calls to the FluxOps server the UI came from (same origin; the session cookie rides along). */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** State-changing calls repeat the CSRF cookie the sign-in set (the server checks it on calls that use the session cookie). */
function csrfHeader(method: string): Record<string, string> {
  if (method === 'GET' || method === 'HEAD') return {};
  const m = /(?:^|;\s*)fluxops_csrf=([^;]+)/.exec(document.cookie);
  return m === null ? {} : { 'x-fluxops-csrf': decodeURIComponent(m[1]!) };
}

/** A JSON call; a refusal becomes an ApiError carrying the server's sentence. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...csrfHeader(init.method ?? (init.body === undefined ? 'GET' : 'POST')) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: 'same-origin',
      signal: init.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError('The server could not be reached. Is it still running?', 0);
  }
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { message?: unknown; error?: unknown };
    const said = typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : `the server answered ${res.status}`;
    // The server's refusals are sentences in lower case; shown on their own they start with a capital.
    const sentence = said.charAt(0).toUpperCase() + said.slice(1);
    throw new ApiError(sentence.endsWith('.') ? sentence : `${sentence}.`, res.status);
  }
  return body as T;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  lifecycle_stage: string;
}

export interface RunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  status: string;
  start_time?: number;
  end_time?: number;
  user_id?: string;
  lifecycle_stage: string;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface DatasetInput {
  dataset: { name: string; digest: string; source_type?: string; source?: string; schema?: string; profile?: string };
  tags?: KeyValue[];
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: { dataset_inputs?: DatasetInput[] };
}

export const mlflow = (method: string): string => `/api/2.0/mlflow/${method}`;

export interface SignatureColumn {
  name?: string;
  type: string;
}

export interface ModelVersion {
  name: string;
  version: string;
  source: string;
  runId: string;
  status: string;
  statusMessage: string;
  flavor: string;
  description: string;
  currentStage: string;
  userId: string;
  signature: { inputs: SignatureColumn[]; outputs: SignatureColumn[] } | null;
  metrics: Record<string, number>;
  creationTime: number;
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  description: string;
  creationTime: number;
  lastUpdatedTime: number;
  aliases: Array<{ alias: string; version: string }>;
  latestVersions: ModelVersion[];
}

export interface Lineage {
  model: ModelVersion;
  run: { runId: string; experimentId: string; runName: string; status: string; startTime: number; sourceVersion: string; params: Record<string, string>; metrics: Record<string, number> } | null;
  datasets: Array<{ name: string; digest: string; source: string; context: string }>;
}

export interface Endpoint {
  name: string;
  environment: string;
  description: string;
  deployments: Array<{ name: string; model: string }>;
  traffic: Record<string, number>;
  mirror: Record<string, number>;
  generation: number;
  status: Array<{ name: string; model: string; version: string | null; error: string | null }>;
}

export const v1 = (path: string): string => `/api/v1${path}`;

export interface GateValue {
  gate: string;
  value: number | null;
  passed: boolean;
  conclusive: boolean;
  requests: number;
}

export type RolloutStep = { kind: 'weight'; weight: number; bakeMs: number } | { kind: 'pause' };

export interface Rollout {
  id: string;
  endpoint: string;
  stable: string;
  target: string;
  strategy: string;
  spec: { steps: RolloutStep[]; gates: unknown[] };
  state: 'running' | 'paused' | 'succeeded' | 'rolled_back' | 'aborted';
  step: number;
  stepStartedAt: number;
  results: Array<{ step: number; weight: number | null; startedAt: number; endedAt: number; outcome: string; gates: GateValue[]; smoke: { passed: boolean; failures: string[] } | null }>;
  reason: string | null;
  startedBy: string | null;
  startedAt: number;
  finishedAt: number | null;
  live: GateValue[] | null;
}

export interface DeploymentFigures {
  requests: number;
  errors: number;
  requestsPerSecond: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  totalRequests: number;
  totalErrors: number;
  truncated: boolean;
}

/** GET /api/v1/endpoints/:name/live, and each event of its stream. */
export interface EndpointLive {
  endpoint: string;
  generation: number;
  time: number;
  windowMs: number;
  traffic: Record<string, number>;
  mirror: Record<string, number>;
  deployments: Record<string, DeploymentFigures>;
  rollout: Rollout | null;
}
