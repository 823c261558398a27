import { FluxError, type ErrorCode, ERROR_CODES } from '../core/index.js';
import type { ApiKeyInfo, AuditEntry, AuditQuery, CreateKeyOptions } from '../auth/index.js';
import { resolveModelRef, type Lineage, type ModelVersion, type RegisteredModel } from '../registry/index.js';
import type { ArtifactEntry } from '../storage/artifacts/index.js';
import type {
  CreateRunInput,
  Experiment,
  LogBatchInput,
  LogDatasetInput,
  Metric,
  Page,
  Run,
  RunStatus,
  SearchRunsInput,
  ViewType,
} from '../tracking/index.js';
import type { DomainEvent, EventPage, ReadEventsInput } from '../events/index.js';
import type { EventsApi, KeysApi, RegistryApi, TrackingApi } from './api-types.js';
import { RunLogger, type StartRunOptions } from './run-logger.js';

export interface ClientOptions {
  /** Base URL of a FluxOps server, for example http://127.0.0.1:5000 */
  url: string;
  /** API key for routes that need one (key management, predict). */
  apiKey?: string | undefined;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number | undefined;
}

const enc = encodeURIComponent;

/**
 * Typed HTTP client of the native API. It implements the same service surfaces as the
 * in-process services; server errors come back as FluxError with the server's code and message.
 */
export class FluxClient implements TrackingApi, RegistryApi, KeysApi, EventsApi {
  private readonly base: string;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    if (!/^https?:\/\//.test(this.base)) throw new FluxError('INVALID_PARAMETER_VALUE', `server URL '${opts.url}' must start with http:// or https://`);
  }

  async request<T>(method: string, path: string, body?: unknown, raw?: Buffer | string, opts: { signal?: AbortSignal | undefined; timeoutMs?: number } = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let payload: string | Buffer | undefined;
    if (raw !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      payload = raw;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.opts.timeoutMs ?? 30_000);
      res = await fetch(`${this.base}${path}`, { method, headers, body: payload, signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout });
    } catch (e) {
      throw new FluxError('TEMPORARILY_UNAVAILABLE', `cannot reach FluxOps at ${this.base}: ${(e as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let code: ErrorCode = 'INTERNAL_ERROR';
      let message = text.slice(0, 500);
      try {
        const e = JSON.parse(text) as { error_code?: string; message?: string };
        if (e.error_code !== undefined && e.error_code in ERROR_CODES) code = e.error_code as ErrorCode;
        if (e.message !== undefined) message = e.message;
      } catch {
        // not JSON: keep the text
      }
      throw new FluxError(code, message);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  private async binary(path: string): Promise<Buffer> {
    const headers: Record<string, string> = {};
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    const res = await fetch(`${this.base}${path}`, { headers, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000) });
    if (!res.ok) {
      const e = (await res.json().catch(() => ({}))) as { error_code?: ErrorCode; message?: string };
      throw new FluxError(e.error_code ?? 'INTERNAL_ERROR', e.message ?? `GET ${path} failed with ${res.status}`);
    }
    return Buffer.from(await res.arrayBuffer());
  }

  /** Starts a run whose metrics are batched automatically; end it with `run.end()`. */
  startRun(opts: StartRunOptions = {}): Promise<RunLogger> {
    return RunLogger.start(this, opts);
  }

  // ---- tracking ----
  async createExperiment(input: { name: unknown; artifactLocation?: string | undefined; tags?: Array<{ key: string; value: string }> | undefined }): Promise<string> {
    return (await this.request<Experiment>('POST', '/api/v1/experiments', input)).experimentId;
  }
  getExperiment(id: unknown): Promise<Experiment> {
    return this.request('GET', `/api/v1/experiments/${enc(String(id))}`);
  }
  getExperimentByName(name: unknown): Promise<Experiment> {
    return this.request('GET', `/api/v1/experiments/by-name/${enc(String(name))}`);
  }
  async ensureExperiment(name: string): Promise<string> {
    try {
      return (await this.getExperimentByName(name)).experimentId;
    } catch (e) {
      if (!(e instanceof FluxError && e.code === 'RESOURCE_DOES_NOT_EXIST')) throw e;
      try {
        return await this.createExperiment({ name });
      } catch (e2) {
        if (e2 instanceof FluxError && e2.code === 'RESOURCE_ALREADY_EXISTS') return (await this.getExperimentByName(name)).experimentId;
        throw e2;
      }
    }
  }
  searchExperiments(input: { viewType?: ViewType | undefined; maxResults?: number | undefined; pageToken?: string | undefined; nameLike?: string | undefined } = {}): Promise<Page<Experiment>> {
    return this.request('GET', `/api/v1/experiments${query(input)}`);
  }
  createRun(input: CreateRunInput): Promise<Run> {
    return this.request('POST', '/api/v1/runs', input);
  }
  getRun(runId: unknown): Promise<Run> {
    return this.request('GET', `/api/v1/runs/${enc(String(runId))}`);
  }
  updateRun(runId: unknown, patch: { status?: unknown; endTime?: unknown; runName?: unknown }): Promise<Run> {
    return this.request('PATCH', `/api/v1/runs/${enc(String(runId))}`, patch);
  }
  endRun(runId: unknown, status: RunStatus = 'FINISHED'): Promise<Run> {
    return this.updateRun(runId, { status, endTime: Date.now() });
  }
  async deleteRun(runId: unknown): Promise<void> {
    await this.request('DELETE', `/api/v1/runs/${enc(String(runId))}`);
  }
  async logMetric(runId: unknown, m: { key: unknown; value: unknown; timestamp?: unknown; step?: unknown }): Promise<void> {
    await this.request('POST', `/api/v1/runs/${enc(String(runId))}/metrics`, { ...m, value: jsonNumber(m.value) });
  }
  async logParam(runId: unknown, key: unknown, value: unknown): Promise<void> {
    await this.request('POST', `/api/v1/runs/${enc(String(runId))}/params`, { key, value });
  }
  async setTag(runId: unknown, key: unknown, value: unknown): Promise<void> {
    await this.request('PUT', `/api/v1/runs/${enc(String(runId))}/tags`, { key, value });
  }
  async logBatch(runId: unknown, batch: LogBatchInput): Promise<void> {
    const kv = (v: LogBatchInput['params']) => (v === undefined ? undefined : Array.isArray(v) ? v : Object.entries(v).map(([key, value]) => ({ key, value })));
    await this.request('POST', `/api/v1/runs/${enc(String(runId))}/batch`, {
      metrics: batch.metrics?.map((m) => ({ ...m, value: jsonNumber(m.value) })),
      params: kv(batch.params),
      tags: kv(batch.tags),
    });
  }
  async logInputs(runId: unknown, datasets: LogDatasetInput[]): Promise<void> {
    await this.request('POST', `/api/v1/runs/${enc(String(runId))}/inputs`, { datasets });
  }
  getMetricHistory(runId: unknown, key: unknown, opts: { maxResults?: unknown; pageToken?: string | undefined } = {}): Promise<Page<Metric>> {
    return this.request('GET', `/api/v1/runs/${enc(String(runId))}/metrics/${enc(String(key))}/history${query(opts)}`);
  }
  searchRuns(input: SearchRunsInput): Promise<Page<Run>> {
    return this.request('POST', '/api/v1/runs/search', input);
  }
  async listArtifacts(runId: unknown, relDir = ''): Promise<ArtifactEntry[]> {
    return (await this.request<{ files: ArtifactEntry[] }>('GET', `/api/v1/runs/${enc(String(runId))}/artifacts${query({ path: relDir || undefined })}`)).files;
  }
  logArtifact(runId: string, path: string, data: Buffer | string): Promise<{ path: string; size: number }> {
    return this.request('PUT', `/api/v1/runs/${enc(runId)}/artifacts/${path.split('/').map(enc).join('/')}`, undefined, data);
  }
  readArtifact(runId: string, path: string): Promise<Buffer> {
    return this.binary(`/api/v1/runs/${enc(runId)}/artifacts/${path.split('/').map(enc).join('/')}`);
  }

  // ---- registry ----
  createRegisteredModel(input: { name: unknown; description?: unknown; tags?: Array<{ key: unknown; value: unknown }> | undefined }): Promise<RegisteredModel> {
    return this.request('POST', '/api/v1/models', input);
  }
  getRegisteredModel(name: unknown): Promise<RegisteredModel> {
    return this.request('GET', `/api/v1/models/${enc(String(name))}`);
  }
  searchRegisteredModels(input: { nameLike?: string | undefined; maxResults?: unknown; pageToken?: string | undefined } = {}): Promise<Page<RegisteredModel>> {
    return this.request('GET', `/api/v1/models${query(input)}`);
  }
  registerModel(input: { name: unknown; source: unknown; runId?: unknown; description?: unknown; tags?: Array<{ key: unknown; value: unknown }> | undefined }): Promise<ModelVersion> {
    const { name, ...body } = input;
    return this.request('POST', `/api/v1/models/${enc(String(name))}/versions`, body);
  }
  getModelVersion(name: unknown, version: unknown): Promise<ModelVersion> {
    return this.request('GET', `/api/v1/models/${enc(String(name))}/versions/${enc(String(version))}`);
  }
  async searchModelVersions(input: { name?: string | undefined; runId?: string | undefined; maxResults?: unknown; pageToken?: string | undefined } = {}): Promise<Page<ModelVersion>> {
    if (input.name === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', 'name is required when listing versions through the API');
    return this.request('GET', `/api/v1/models/${enc(input.name)}/versions${query({ maxResults: input.maxResults, pageToken: input.pageToken })}`);
  }
  setAlias(name: unknown, alias: unknown, version: unknown): Promise<ModelVersion> {
    return this.request('PUT', `/api/v1/models/${enc(String(name))}/aliases/${enc(String(alias))}`, { version: String(version) });
  }
  async deleteAlias(name: unknown, alias: unknown): Promise<void> {
    await this.request('DELETE', `/api/v1/models/${enc(String(name))}/aliases/${enc(String(alias))}`);
  }
  getVersionByAlias(name: unknown, alias: unknown): Promise<ModelVersion> {
    return this.request('GET', `/api/v1/models/${enc(String(name))}/aliases/${enc(String(alias))}`);
  }
  resolve(ref: string): Promise<ModelVersion> {
    return resolveModelRef(this, ref);
  }
  lineage(name: unknown, version: unknown): Promise<Lineage> {
    return this.request('GET', `/api/v1/models/${enc(String(name))}/versions/${enc(String(version))}/lineage`);
  }

  // ---- keys ----
  async create(name: unknown, opts: CreateKeyOptions = {}): Promise<{ key: string; info: ApiKeyInfo }> {
    const { key, ...info } = await this.request<{ key: string } & ApiKeyInfo>('POST', '/api/v1/keys', { name, ...opts });
    return { key, info };
  }
  async list(): Promise<ApiKeyInfo[]> {
    return (await this.request<{ keys: ApiKeyInfo[] }>('GET', '/api/v1/keys')).keys;
  }
  async revoke(keyId: unknown): Promise<void> {
    await this.request('DELETE', `/api/v1/keys/${enc(String(keyId))}`);
  }

  // ---- audit ----
  async listAudit(q: AuditQuery = {}): Promise<{ entries: AuditEntry[]; nextAfter: number | undefined }> {
    const r = await this.request<{ entries: AuditEntry[]; next_after?: number }>('GET', `/api/v1/audit${query({ ...q })}`);
    return { entries: r.entries, nextAfter: r.next_after };
  }

  // ---- events ----
  async readEvents(input: ReadEventsInput = {}): Promise<EventPage> {
    const q = new URLSearchParams();
    if (input.after !== undefined) q.set('after', String(input.after));
    if (input.limit !== undefined) q.set('limit', String(input.limit));
    for (const t of input.types ?? []) q.append('type', t);
    if (input.waitMs !== undefined) q.set('wait_ms', String(input.waitMs));
    const s = q.toString();
    // A long poll may rightly take its whole wait: the timeout covers the wait and then the usual margin.
    const page = await this.request<{ events: EventJson[]; next_after: number }>('GET', `/api/v1/events${s === '' ? '' : `?${s}`}`, undefined, undefined, {
      signal: input.signal,
      timeoutMs: (input.waitMs ?? 0) + (this.opts.timeoutMs ?? 30_000),
    });
    return { events: page.events.map(fromEventJson), nextAfter: page.next_after };
  }
}

interface EventJson {
  seq: number;
  type: string;
  time: number;
  model: string | null;
  run_id: string | null;
  experiment_id: string | null;
  payload: Record<string, unknown>;
  actor: string | null;
}

function fromEventJson(e: EventJson): DomainEvent {
  return { seq: e.seq, type: e.type, time: e.time, model: e.model, runId: e.run_id, experimentId: e.experiment_id, payload: e.payload, actor: e.actor } as DomainEvent;
}

function query(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** JSON has no NaN or infinities; the API takes them as strings. */
function jsonNumber(v: unknown): unknown {
  if (typeof v !== 'number' || Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}
