import { FluxError, type ErrorCode, ERROR_CODES } from '../core/index.js';
import type { ApiKeyInfo, AuditEntry, AuditQuery, CreateKeyOptions } from '../auth/index.js';
import type { Lineage, ModelVersion, RegisteredModel } from '../registry/index.js';
// The model-ref module, not the registry's index, which would load the registry's store and driver.
import { resolveModelRef } from '../registry/model-ref.js';
import type { ArtifactEntry } from '../storage/artifacts/index.js';
import type {
  CreateRunInput,
  Experiment,
  LogDatasetInput,
  Metric,
  Page,
  Run,
  RunStatus,
  SearchRunsInput,
  UpdateRunInput,
  ViewType,
} from '../tracking/index.js';
import type { DomainEvent, EventPage, ReadEventsInput } from '../events/index.js';
import type { CreateEndpointInput, DeployInput, Endpoint } from '../endpoints/index.js';
import type { RolloutSpecInput } from '../rollouts/index.js';
import type { LogLine, PipelineRun, PipelineRunStatus, PipelineTrigger } from '../pipelines/index.js';
import type { Firing, Schedule } from '../schedules/index.js';
import type { EndpointsApi, EventsApi, KeysApi, KeyValue, LogBatch, MetricPoint, RegistryApi, RolloutsApi, RolloutView, ScheduleInput, SchedulesApi, TrackingApi, PipelinesApi, PipelineSummaryView } from './api-types.js';
import type { AlertsApi, AlertView, InferencesApi, MonitorsApi, SilenceView, WebhookInput, WebhooksApi } from './api-types.js';
import type { AlertDefinition, ExportFormat, InferenceRecord, Monitor, MonitorInput, MonitorResult, SyntheticCheck } from '../monitoring/index.js';
import type { DeliveryState, Webhook, WebhookDelivery } from '../webhooks/index.js';
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
export class FluxClient implements TrackingApi, RegistryApi, KeysApi, EventsApi, EndpointsApi, RolloutsApi, SchedulesApi, WebhooksApi, PipelinesApi, MonitorsApi, InferencesApi, AlertsApi {
  private readonly base: string;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    if (!/^https?:\/\//.test(this.base)) throw new FluxError('INVALID_PARAMETER_VALUE', `server URL '${opts.url}' must start with http:// or https://`);
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    raw?: Buffer | string,
    opts: { signal?: AbortSignal | undefined; timeoutMs?: number; contentType?: string | undefined } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let payload: string | Buffer | undefined;
    if (raw !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/octet-stream';
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
  async createExperiment(input: { name: string; artifactLocation?: string | undefined; tags?: KeyValue[] | undefined }): Promise<string> {
    return (await this.request<Experiment>('POST', '/api/v1/experiments', input)).experimentId;
  }
  getExperiment(id: string): Promise<Experiment> {
    return this.request('GET', `/api/v1/experiments/${enc(id)}`);
  }
  getExperimentByName(name: string): Promise<Experiment> {
    return this.request('GET', `/api/v1/experiments/by-name/${enc(name)}`);
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
  getRun(runId: string): Promise<Run> {
    return this.request('GET', `/api/v1/runs/${enc(runId)}`);
  }
  updateRun(runId: string, patch: UpdateRunInput): Promise<Run> {
    return this.request('PATCH', `/api/v1/runs/${enc(runId)}`, patch);
  }
  endRun(runId: string, status: RunStatus = 'FINISHED'): Promise<Run> {
    return this.updateRun(runId, { status, endTime: Date.now() });
  }
  async deleteRun(runId: string): Promise<void> {
    await this.request('DELETE', `/api/v1/runs/${enc(runId)}`);
  }
  async logMetric(runId: string, m: MetricPoint): Promise<void> {
    await this.request('POST', `/api/v1/runs/${enc(runId)}/metrics`, { ...m, value: jsonNumber(m.value) });
  }
  async logParam(runId: string, key: string, value: string): Promise<void> {
    await this.request('POST', `/api/v1/runs/${enc(runId)}/params`, { key, value });
  }
  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.request('PUT', `/api/v1/runs/${enc(runId)}/tags`, { key, value });
  }
  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    const kv = (v: LogBatch['params']) => (v === undefined ? undefined : Array.isArray(v) ? v : Object.entries(v).map(([key, value]) => ({ key, value })));
    await this.request('POST', `/api/v1/runs/${enc(runId)}/batch`, {
      metrics: batch.metrics?.map((m) => ({ ...m, value: jsonNumber(m.value) })),
      params: kv(batch.params),
      tags: kv(batch.tags),
    });
  }
  async logInputs(runId: string, datasets: LogDatasetInput[]): Promise<void> {
    await this.request('POST', `/api/v1/runs/${enc(runId)}/inputs`, { datasets });
  }
  getMetricHistory(runId: string, key: string, opts: { maxResults?: number | undefined; pageToken?: string | undefined } = {}): Promise<Page<Metric>> {
    return this.request('GET', `/api/v1/runs/${enc(runId)}/metrics/${enc(key)}/history${query(opts)}`);
  }
  searchRuns(input: SearchRunsInput): Promise<Page<Run>> {
    return this.request('POST', '/api/v1/runs/search', input);
  }
  async listArtifacts(runId: string, relDir = ''): Promise<ArtifactEntry[]> {
    return (await this.request<{ files: ArtifactEntry[] }>('GET', `/api/v1/runs/${enc(runId)}/artifacts${query({ path: relDir || undefined })}`)).files;
  }
  logArtifact(runId: string, path: string, data: Buffer | string): Promise<{ path: string; size: number }> {
    return this.request('PUT', `/api/v1/runs/${enc(runId)}/artifacts/${path.split('/').map(enc).join('/')}`, undefined, data);
  }
  readArtifact(runId: string, path: string): Promise<Buffer> {
    return this.binary(`/api/v1/runs/${enc(runId)}/artifacts/${path.split('/').map(enc).join('/')}`);
  }

  // ---- registry ----
  createRegisteredModel(input: { name: string; description?: string | undefined; tags?: KeyValue[] | undefined }): Promise<RegisteredModel> {
    return this.request('POST', '/api/v1/models', input);
  }
  getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.request('GET', `/api/v1/models/${enc(name)}`);
  }
  searchRegisteredModels(input: { nameLike?: string | undefined; maxResults?: number | undefined; pageToken?: string | undefined } = {}): Promise<Page<RegisteredModel>> {
    return this.request('GET', `/api/v1/models${query(input)}`);
  }
  registerModel(input: { name: string; source: string; runId?: string | undefined; description?: string | undefined; tags?: KeyValue[] | undefined }): Promise<ModelVersion> {
    const { name, ...body } = input;
    return this.request('POST', `/api/v1/models/${enc(name)}/versions`, body);
  }
  getModelVersion(name: string, version: string | number): Promise<ModelVersion> {
    return this.request('GET', `/api/v1/models/${enc(name)}/versions/${enc(String(version))}`);
  }
  async searchModelVersions(input: { name?: string | undefined; runId?: string | undefined; maxResults?: number | undefined; pageToken?: string | undefined } = {}): Promise<Page<ModelVersion>> {
    if (input.name === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', 'name is required when listing versions through the API');
    return this.request('GET', `/api/v1/models/${enc(input.name)}/versions${query({ maxResults: input.maxResults, pageToken: input.pageToken })}`);
  }
  setAlias(name: string, alias: string, version: string | number): Promise<ModelVersion> {
    return this.request('PUT', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`, { version: String(version) });
  }
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.request('DELETE', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`);
  }
  getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.request('GET', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`);
  }
  resolve(ref: string): Promise<ModelVersion> {
    return resolveModelRef(this, ref);
  }
  lineage(name: string, version: string | number): Promise<Lineage> {
    return this.request('GET', `/api/v1/models/${enc(name)}/versions/${enc(String(version))}/lineage`);
  }

  // ---- keys ----
  async create(name: string, opts: CreateKeyOptions = {}): Promise<{ key: string; info: ApiKeyInfo }> {
    const { key, ...info } = await this.request<{ key: string } & ApiKeyInfo>('POST', '/api/v1/keys', { name, ...opts });
    return { key, info };
  }
  async list(): Promise<ApiKeyInfo[]> {
    return (await this.request<{ keys: ApiKeyInfo[] }>('GET', '/api/v1/keys')).keys;
  }
  async revoke(keyId: string): Promise<void> {
    await this.request('DELETE', `/api/v1/keys/${enc(keyId)}`);
  }

  // ---- endpoints ----
  createEndpoint(input: CreateEndpointInput): Promise<Endpoint> {
    return this.request('POST', '/api/v1/endpoints', input);
  }
  getEndpoint(name: string): Promise<Endpoint> {
    return this.request('GET', `/api/v1/endpoints/${enc(name)}`);
  }
  async listEndpoints(): Promise<Endpoint[]> {
    return (await this.request<{ endpoints: Endpoint[] }>('GET', '/api/v1/endpoints')).endpoints;
  }
  updateEndpoint(name: string, patch: Omit<CreateEndpointInput, 'name'>): Promise<Endpoint> {
    return this.request('PATCH', `/api/v1/endpoints/${enc(name)}`, patch);
  }
  async deleteEndpoint(name: string): Promise<void> {
    await this.request('DELETE', `/api/v1/endpoints/${enc(name)}`);
  }
  deploy(endpoint: string, input: DeployInput): Promise<Endpoint> {
    const { name, ...body } = input;
    return this.request('PUT', `/api/v1/endpoints/${enc(endpoint)}/deployments/${enc(String(name))}`, body);
  }
  removeDeployment(endpoint: string, name: string): Promise<Endpoint> {
    return this.request('DELETE', `/api/v1/endpoints/${enc(endpoint)}/deployments/${enc(name)}`);
  }
  setTraffic(endpoint: string, traffic: Record<string, number>): Promise<Endpoint> {
    return this.request('PUT', `/api/v1/endpoints/${enc(endpoint)}/traffic`, { traffic });
  }
  setMirror(endpoint: string, mirror: Record<string, number>): Promise<Endpoint> {
    return this.request('PUT', `/api/v1/endpoints/${enc(endpoint)}/mirror`, { mirror });
  }

  // ---- monitors ----
  createMonitor(input: MonitorInput): Promise<Monitor> {
    return this.request('POST', '/api/v1/monitors', input);
  }
  async listMonitors(): Promise<Monitor[]> {
    return (await this.request<{ monitors: Monitor[] }>('GET', '/api/v1/monitors')).monitors;
  }
  getMonitor(name: string): Promise<Monitor> {
    return this.request('GET', `/api/v1/monitors/${enc(name)}`);
  }
  updateMonitor(name: string, patch: Partial<Omit<MonitorInput, 'name'>>): Promise<Monitor> {
    return this.request('PATCH', `/api/v1/monitors/${enc(name)}`, patch);
  }
  async deleteMonitor(name: string): Promise<void> {
    await this.request('DELETE', `/api/v1/monitors/${enc(name)}`);
  }
  runMonitor(name: string): Promise<MonitorResult> {
    return this.request('POST', `/api/v1/monitors/${enc(name)}/run`, undefined, undefined, { timeoutMs: 120_000 });
  }
  async monitorResults(name: string, q: { limit?: number | undefined; before?: number | undefined; since?: string | undefined } = {}): Promise<MonitorResult[]> {
    return (await this.request<{ results: MonitorResult[] }>('GET', `/api/v1/monitors/${enc(name)}/results${query({ ...q })}`)).results;
  }
  putProfileCsv(model: string, version: string, csv: string, opts: { target?: string | undefined; source?: string | undefined } = {}): Promise<{ model: string; version: string; source: string; rows: number; columns: string[] }> {
    return this.request('PUT', `/api/v1/models/${enc(model)}/versions/${enc(version)}/profile${query({ ...opts })}`, undefined, csv, { contentType: 'text/csv', timeoutMs: 300_000 });
  }

  // ---- alerts ----
  createAlertRule(body: { rule: unknown; every?: string | undefined; notify?: { email?: string[] } | undefined }): Promise<AlertDefinition> {
    return this.request('POST', '/api/v1/alerts/rules', body);
  }
  createSlo(body: { slo: unknown; every?: string | undefined; notify?: { email?: string[] } | undefined }): Promise<AlertDefinition> {
    return this.request('POST', '/api/v1/alerts/slos', body);
  }
  async listAlertRules(): Promise<AlertDefinition[]> {
    return (await this.request<{ rules: AlertDefinition[] }>('GET', '/api/v1/alerts/rules')).rules;
  }
  async deleteAlertRule(name: string): Promise<void> {
    await this.request('DELETE', `/api/v1/alerts/rules/${enc(name)}`);
  }
  async listAlerts(q: { status?: 'firing' | 'pending' | 'inactive' | undefined } = {}): Promise<AlertView[]> {
    return (await this.request<{ alerts: AlertView[] }>('GET', `/api/v1/alerts${query({ ...q })}`)).alerts;
  }
  createSilence(body: { matchers: { rule?: string; labels?: Record<string, string> }; startsAt?: string; endsAt?: string; duration?: string; comment: string }): Promise<SilenceView> {
    return this.request('POST', '/api/v1/alerts/silences', body);
  }
  async listSilences(q: { active?: boolean | undefined } = {}): Promise<SilenceView[]> {
    return (await this.request<{ silences: SilenceView[] }>('GET', `/api/v1/alerts/silences${query({ ...q })}`)).silences;
  }
  async expireSilence(id: string): Promise<void> {
    await this.request('DELETE', `/api/v1/alerts/silences/${enc(id)}`);
  }
  createSyntheticCheck(body: { name: string; endpoint: string; body: unknown; expectStatus?: number; every?: string; timeout?: string; alertAfter?: number; notify?: { email?: string[] } }): Promise<SyntheticCheck> {
    return this.request('POST', '/api/v1/synthetic-checks', body);
  }
  async listSyntheticChecks(): Promise<SyntheticCheck[]> {
    return (await this.request<{ checks: SyntheticCheck[] }>('GET', '/api/v1/synthetic-checks')).checks;
  }
  async deleteSyntheticCheck(name: string): Promise<void> {
    await this.request('DELETE', `/api/v1/synthetic-checks/${enc(name)}`);
  }

  // ---- inferences ----
  listInferences(q: { endpoint: string; deployment?: string | undefined; since?: string | undefined; until?: string | undefined; limit?: number | undefined; before?: number | undefined }): Promise<{ inferences: InferenceRecord[]; next: number | null }> {
    const { endpoint, ...rest } = q;
    return this.request('GET', `/api/v1/endpoints/${enc(endpoint)}/inferences${query({ ...rest })}`);
  }
  async *exportInferences(q: { endpoint: string; deployment?: string | undefined; since?: string | undefined; until?: string | undefined; format: ExportFormat }): AsyncIterable<string> {
    const { endpoint, ...rest } = q;
    const headers: Record<string, string> = {};
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}/api/v1/endpoints/${enc(endpoint)}/inferences/export${query({ ...rest })}`, { headers });
    } catch (e) {
      throw new FluxError('TEMPORARILY_UNAVAILABLE', `cannot reach FluxOps at ${this.base}: ${(e as Error).message}`);
    }
    if (!res.ok || res.body === null) {
      const e = (await res.json().catch(() => ({}))) as { error_code?: ErrorCode; message?: string };
      throw new FluxError(e.error_code ?? 'INTERNAL_ERROR', e.message ?? `the export failed with ${res.status}`);
    }
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) yield decoder.decode(chunk, { stream: true });
    const rest2 = decoder.decode();
    if (rest2 !== '') yield rest2;
  }
  putLabels(endpoint: string, labels: Array<{ request_id: string; row?: number; label: number | string }> | string): Promise<{ written: number; matched: number }> {
    return typeof labels === 'string'
      ? this.request('POST', `/api/v1/endpoints/${enc(endpoint)}/labels`, undefined, labels, { contentType: 'text/csv' })
      : this.request('POST', `/api/v1/endpoints/${enc(endpoint)}/labels`, { labels });
  }

  // ---- rollouts ----
  startRollout(endpoint: string, input: RolloutSpecInput & { to: string; from?: string }): Promise<RolloutView> {
    return this.request('POST', `/api/v1/endpoints/${enc(endpoint)}/rollouts`, input);
  }
  getRollout(id: string): Promise<RolloutView> {
    return this.request('GET', `/api/v1/rollouts/${enc(id)}`);
  }
  async listRollouts(endpoint: string): Promise<RolloutView[]> {
    return (await this.request<{ rollouts: RolloutView[] }>('GET', `/api/v1/endpoints/${enc(endpoint)}/rollouts`)).rollouts;
  }
  rolloutAction(id: string, action: 'promote' | 'pause' | 'resume' | 'abort' | 'rollback'): Promise<RolloutView> {
    return this.request('POST', `/api/v1/rollouts/${enc(id)}/${action}`);
  }

  // ---- pipelines ----
  validatePipeline(spec: string, source?: string): Promise<PipelineSummaryView> {
    return this.request('POST', '/api/v1/pipelines/validate', { spec, source });
  }
  startPipelineRun(input: Parameters<PipelinesApi['startPipelineRun']>[0]): Promise<PipelineRun> {
    return this.request('POST', '/api/v1/pipeline-runs', { spec: input.spec, source: input.source, params: input.params, base_dir: input.baseDir, no_cache: input.noCache });
  }
  async listPipelineRuns(q: Parameters<PipelinesApi['listPipelineRuns']>[0] = {}): Promise<PipelineRun[]> {
    return (await this.request<{ runs: PipelineRun[] }>('GET', `/api/v1/pipeline-runs${query({ ...q })}`)).runs;
  }
  getPipelineRun(id: string): Promise<PipelineRun> {
    return this.request('GET', `/api/v1/pipeline-runs/${enc(id)}`);
  }
  async pipelineLogs(id: string, q: Parameters<PipelinesApi['pipelineLogs']>[1] = {}): Promise<{ lines: LogLine[]; nextAfter: number; status: PipelineRunStatus }> {
    const r = await this.request<{ lines: LogLine[]; next_after: number; status: PipelineRunStatus }>('GET', `/api/v1/pipeline-runs/${enc(id)}/logs${query({ ...q })}`);
    return { lines: r.lines, nextAfter: r.next_after, status: r.status };
  }
  decidePipelineRun(id: string, decision: 'approve' | 'reject', d: { step?: string | undefined; reason?: string | undefined } = {}): Promise<PipelineRun> {
    return this.request('POST', `/api/v1/pipeline-runs/${enc(id)}/${decision}`, d);
  }
  cancelPipelineRun(id: string): Promise<PipelineRun> {
    return this.request('POST', `/api/v1/pipeline-runs/${enc(id)}/cancel`, {});
  }
  retryPipelineRun(id: string): Promise<PipelineRun> {
    return this.request('POST', `/api/v1/pipeline-runs/${enc(id)}/retry`, {});
  }
  async registerPipeline(spec: string, source?: string, baseDir?: string): Promise<PipelineTrigger[]> {
    return (await this.request<{ triggers: PipelineTrigger[] }>('POST', '/api/v1/pipelines', { spec, source, base_dir: baseDir })).triggers;
  }
  async listPipelineTriggers(): Promise<PipelineTrigger[]> {
    return (await this.request<{ triggers: PipelineTrigger[] }>('GET', '/api/v1/pipelines/triggers')).triggers;
  }
  async unregisterPipeline(name: string): Promise<void> {
    await this.request('DELETE', `/api/v1/pipelines/${enc(name)}`);
  }

  // ---- schedules ----
  createSchedule(input: ScheduleInput): Promise<Schedule> {
    return this.request('POST', '/api/v1/schedules', input);
  }
  async listSchedules(): Promise<Schedule[]> {
    return (await this.request<{ schedules: Schedule[] }>('GET', '/api/v1/schedules')).schedules;
  }
  getSchedule(ref: string): Promise<Schedule> {
    return this.request('GET', `/api/v1/schedules/${enc(ref)}`);
  }
  async scheduleFirings(ref: string, opts: { limit?: number | undefined } = {}): Promise<Firing[]> {
    return (await this.request<{ firings: Firing[] }>('GET', `/api/v1/schedules/${enc(ref)}/firings${query(opts)}`)).firings;
  }
  pauseSchedule(ref: string): Promise<Schedule> {
    return this.request('POST', `/api/v1/schedules/${enc(ref)}/pause`);
  }
  resumeSchedule(ref: string): Promise<Schedule> {
    return this.request('POST', `/api/v1/schedules/${enc(ref)}/resume`);
  }
  async deleteSchedule(ref: string): Promise<void> {
    await this.request('DELETE', `/api/v1/schedules/${enc(ref)}`);
  }

  // ---- webhooks ----
  async createWebhook(input: WebhookInput): Promise<{ webhook: Webhook; secret: string }> {
    const { secret, ...webhook } = await this.request<Webhook & { secret: string }>('POST', '/api/v1/webhooks', input);
    return { webhook, secret };
  }
  async listWebhooks(): Promise<Webhook[]> {
    return (await this.request<{ webhooks: Webhook[] }>('GET', '/api/v1/webhooks')).webhooks;
  }
  getWebhook(ref: string): Promise<Webhook> {
    return this.request('GET', `/api/v1/webhooks/${enc(ref)}`);
  }
  setWebhookEnabled(ref: string, enabled: boolean): Promise<Webhook> {
    return this.request('PATCH', `/api/v1/webhooks/${enc(ref)}`, { enabled });
  }
  async deleteWebhook(ref: string): Promise<void> {
    await this.request('DELETE', `/api/v1/webhooks/${enc(ref)}`);
  }
  testWebhook(ref: string): Promise<WebhookDelivery> {
    // The server answers once the receiver did or its own timeout ran out (10 s by default, at most 600 s).
    return this.request('POST', `/api/v1/webhooks/${enc(ref)}/test`, undefined, undefined, { timeoutMs: (this.opts.timeoutMs ?? 30_000) + 600_000 });
  }
  async webhookDeliveries(ref: string, opts: { limit?: number | undefined; state?: DeliveryState | undefined } = {}): Promise<WebhookDelivery[]> {
    return (await this.request<{ deliveries: WebhookDelivery[] }>('GET', `/api/v1/webhooks/${enc(ref)}/deliveries${query(opts)}`)).deliveries;
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
function jsonNumber(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}
