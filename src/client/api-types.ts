import type { AuditLog, KeyService } from '../auth/index.js';
import type { EndpointService } from '../endpoints/index.js';
import type { EventPage, ReadEventsInput } from '../events/index.js';
import type { GateResult, Rollout, RolloutSpecInput } from '../rollouts/index.js';
import type { RegistryService } from '../registry/index.js';
import type { CatchUpPolicy, Firing, OverlapPolicy, Schedule, ScheduleParam } from '../schedules/index.js';
import type { TrackingService } from '../tracking/index.js';
import type { LogLine, PipelineRun, PipelineRunStatus, PipelineTrigger } from '../pipelines/index.js';
import type { DeliveryState, Webhook, WebhookDelivery, WebhookFormat } from '../webhooks/index.js';
import type { AlertDefinition, AlertView, ExportFormat, InferenceRecord, Monitor, MonitorInput, MonitorResult, SilenceView, SyntheticCheck } from '../monitoring/index.js';

export type { AlertView, SilenceView };

/**
 * The service surfaces a remote caller uses. The in-process services satisfy them as they are;
 * the HTTP client implements them over the REST API, so the CLI, the SDK and the tests can run
 * the same code against either.
 */
export type TrackingApi = Pick<
  TrackingService,
  | 'createExperiment'
  | 'getExperiment'
  | 'getExperimentByName'
  | 'ensureExperiment'
  | 'searchExperiments'
  | 'createRun'
  | 'getRun'
  | 'updateRun'
  | 'endRun'
  | 'deleteRun'
  | 'logMetric'
  | 'logParam'
  | 'setTag'
  | 'logBatch'
  | 'logInputs'
  | 'getMetricHistory'
  | 'searchRuns'
  | 'listArtifacts'
> & {
  logArtifact(runId: string, path: string, data: Buffer | string): Promise<{ path: string; size: number }>;
  readArtifact(runId: string, path: string): Promise<Buffer>;
};

export type RegistryApi = Pick<
  RegistryService,
  | 'createRegisteredModel'
  | 'getRegisteredModel'
  | 'searchRegisteredModels'
  | 'registerModel'
  | 'getModelVersion'
  | 'searchModelVersions'
  | 'setAlias'
  | 'deleteAlias'
  | 'getVersionByAlias'
  | 'resolve'
  | 'lineage'
>;

export type KeysApi = Pick<KeyService, 'create' | 'list' | 'revoke'>;

/** Rollouts, under names of their own (the client is one object for every surface). */
export interface RolloutsApi {
  startRollout(endpoint: string, input: RolloutSpecInput & { to: string; from?: string }): Promise<RolloutView>;
  getRollout(id: string): Promise<RolloutView>;
  listRollouts(endpoint: string): Promise<RolloutView[]>;
  rolloutAction(id: string, action: 'promote' | 'pause' | 'resume' | 'abort' | 'rollback'): Promise<RolloutView>;
}

/** A rollout with the current step's gate values where the answering server measures them. */
export type RolloutView = Rollout & { live?: GateResult[] | null };

export type EndpointsApi = Pick<
  EndpointService,
  'createEndpoint' | 'getEndpoint' | 'listEndpoints' | 'updateEndpoint' | 'deleteEndpoint' | 'deploy' | 'removeDeployment' | 'setTraffic' | 'setMirror'
>;

export type AuditApi = Pick<AuditLog, 'list'>;

/** Webhooks, under names of their own; a webhook is named by its id (wh-…) or its name. */
export interface WebhooksApi {
  /** The secret is returned this once. */
  createWebhook(input: WebhookInput): Promise<{ webhook: Webhook; secret: string }>;
  listWebhooks(): Promise<Webhook[]>;
  getWebhook(ref: string): Promise<Webhook>;
  setWebhookEnabled(ref: string, enabled: boolean): Promise<Webhook>;
  deleteWebhook(ref: string): Promise<void>;
  /** Sends a signed `webhook.test` delivery now, once, and answers how it went. */
  testWebhook(ref: string): Promise<WebhookDelivery>;
  /** Newest first. */
  webhookDeliveries(ref: string, opts?: { limit?: number | undefined; state?: DeliveryState | undefined }): Promise<WebhookDelivery[]>;
}

export interface WebhookInput {
  name: string;
  url: string;
  /** Patterns of event types (`model.*`, `pipeline.run.failed`, `*`), as a list or comma-separated. */
  events: string[] | string;
  format?: WebhookFormat | undefined;
  /** Generated when absent. */
  secret?: string | undefined;
  filter?: { model?: string | undefined; endpoint?: string | undefined } | undefined;
  enabled?: boolean | undefined;
}

/** Schedules, under names of their own; a schedule is named by its name or its id. */
export interface SchedulesApi {
  createSchedule(input: ScheduleInput): Promise<Schedule>;
  listSchedules(): Promise<Schedule[]>;
  getSchedule(ref: string): Promise<Schedule>;
  /** Newest slot first. */
  scheduleFirings(ref: string, opts?: { limit?: number | undefined }): Promise<Firing[]>;
  pauseSchedule(ref: string): Promise<Schedule>;
  resumeSchedule(ref: string): Promise<Schedule>;
  deleteSchedule(ref: string): Promise<void>;
}

/** A new schedule: its cron slots (in `timezone`, default UTC) start the pipeline of `pipelineSpec` (the file's text). */
export interface ScheduleInput {
  name: string;
  cron: string;
  timezone?: string | undefined;
  /** Default: the name the spec declares. */
  pipeline?: string | undefined;
  pipelineSpec: string;
  params?: Record<string, ScheduleParam> | undefined;
  overlap?: OverlapPolicy | undefined;
  catchUp?: CatchUpPolicy | undefined;
}

/** Reading the domain events from a cursor (`EventLog.read` in process, `GET /api/v1/events` remotely). */
/** Pipeline runs, through the API or in process (same shapes). */
export interface PipelinesApi {
  validatePipeline(spec: string, source?: string): Promise<PipelineSummaryView>;
  startPipelineRun(input: { spec: string; source?: string | undefined; params?: Record<string, string | number | boolean> | undefined; baseDir?: string | undefined; noCache?: boolean | undefined }): Promise<PipelineRun>;
  listPipelineRuns(q?: { pipeline?: string | undefined; status?: PipelineRunStatus | undefined; limit?: number | undefined }): Promise<PipelineRun[]>;
  getPipelineRun(id: string): Promise<PipelineRun>;
  pipelineLogs(id: string, q?: { after?: number | undefined; step?: string | undefined; limit?: number | undefined }): Promise<{ lines: LogLine[]; nextAfter: number; status: PipelineRunStatus }>;
  decidePipelineRun(id: string, decision: 'approve' | 'reject', d?: { step?: string | undefined; reason?: string | undefined }): Promise<PipelineRun>;
  cancelPipelineRun(id: string): Promise<PipelineRun>;
  retryPipelineRun(id: string): Promise<PipelineRun>;
  registerPipeline(spec: string, source?: string, baseDir?: string): Promise<PipelineTrigger[]>;
  listPipelineTriggers(): Promise<PipelineTrigger[]>;
  unregisterPipeline(name: string): Promise<void>;
}

export interface PipelineSummaryView {
  name: string;
  description: string | null;
  hash: string;
  params: Record<string, unknown>;
  steps: Array<{ name: string; kind: string; needs: string[]; if: string | null }>;
}

export interface EventsApi {
  readEvents(input?: ReadEventsInput): Promise<EventPage>;
}

/*
 * The client's own input types, narrower than the services' (which take `unknown` because they
 * validate whatever a transport hands them). FluxClient's methods use these; they stay assignable
 * to TrackingApi/RegistryApi, which accept anything.
 */

export interface KeyValue {
  key: string;
  value: string;
}

/** One metric point; `value` may be NaN or ±Infinity (sent as the strings the API takes). */
export interface MetricPoint {
  key: string;
  value: number;
  /** Epoch ms; default: now on the server. */
  timestamp?: number | undefined;
  /** Default 0. */
  step?: number | undefined;
}

/** Up to 1,000 metrics and 100 params and tags, written in one transaction. */
export interface LogBatch {
  metrics?: MetricPoint[] | undefined;
  params?: Record<string, string> | KeyValue[] | undefined;
  tags?: Record<string, string> | KeyValue[] | undefined;
}

/** Drift monitors, their results and reference profiles, under names of their own. */
export interface MonitorsApi {
  createMonitor(input: MonitorInput): Promise<Monitor>;
  listMonitors(): Promise<Monitor[]>;
  getMonitor(name: string): Promise<Monitor>;
  updateMonitor(name: string, patch: Partial<Omit<MonitorInput, 'name'>>): Promise<Monitor>;
  deleteMonitor(name: string): Promise<void>;
  /** Checks it now and records the result. */
  runMonitor(name: string): Promise<MonitorResult>;
  /** Newest first. */
  monitorResults(name: string, q?: { limit?: number | undefined; before?: number | undefined; since?: string | undefined }): Promise<MonitorResult[]>;
  /** Computes a version's reference profile from CSV text (by the server, which loads the model) and stores it. */
  putProfileCsv(model: string, version: string, csv: string, opts?: { target?: string | undefined; source?: string | undefined }): Promise<{ model: string; version: string; source: string; rows: number; columns: string[] }>;
}

/** The inference table, under names of its own. */
export interface InferencesApi {
  listInferences(q: { endpoint: string; deployment?: string | undefined; since?: string | undefined; until?: string | undefined; limit?: number | undefined; before?: number | undefined }): Promise<{ inferences: InferenceRecord[]; next: number | null }>;
  /** A window as text chunks of JSON Lines or CSV, oldest first. */
  exportInferences(q: { endpoint: string; deployment?: string | undefined; since?: string | undefined; until?: string | undefined; format: ExportFormat }): AsyncIterable<string>;
  /** Labels as `[{request_id, row?, label}]`, or CSV text (`request_id,label[,row]`). */
  putLabels(endpoint: string, labels: Array<{ request_id: string; row?: number; label: number | string }> | string): Promise<{ written: number; matched: number }>;
}

/** Alert rules, SLOs, alerts, silences and synthetic checks (over HTTP: servers evaluate them). */
export interface AlertsApi {
  createAlertRule(body: { rule: unknown; every?: string | undefined; notify?: { email?: string[] } | undefined }): Promise<AlertDefinition>;
  createSlo(body: { slo: unknown; every?: string | undefined; notify?: { email?: string[] } | undefined }): Promise<AlertDefinition>;
  listAlertRules(): Promise<AlertDefinition[]>;
  deleteAlertRule(name: string): Promise<void>;
  listAlerts(q?: { status?: 'firing' | 'pending' | 'inactive' | undefined }): Promise<AlertView[]>;
  createSilence(body: { matchers: { rule?: string; labels?: Record<string, string> }; startsAt?: string; endsAt?: string; duration?: string; comment: string }): Promise<SilenceView>;
  listSilences(q?: { active?: boolean | undefined }): Promise<SilenceView[]>;
  expireSilence(id: string): Promise<void>;
  createSyntheticCheck(body: { name: string; endpoint: string; body: unknown; expectStatus?: number; every?: string; timeout?: string; alertAfter?: number; notify?: { email?: string[] } }): Promise<SyntheticCheck>;
  listSyntheticChecks(): Promise<SyntheticCheck[]>;
  deleteSyntheticCheck(name: string): Promise<void>;
}
