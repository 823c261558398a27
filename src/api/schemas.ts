import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { ROLES } from '../auth/index.js';
import { STAGES } from '../registry/index.js';
import { RUN_STATUSES } from '../tracking/index.js';
import { DELIVERY_STATES, WEBHOOK_FORMATS } from '../webhooks/index.js';
import { CATCH_UP_POLICIES, FIRING_STATES, OVERLAP_POLICIES } from '../schedules/index.js';

/*
 * The response bodies of the native API, one schema per domain object, matching what the services
 * return (test/unit/api-schemas.test.ts checks each against its domain type). Fastify serialises a
 * response with its schema (fast-json-stringify): a property missing here is dropped from the
 * response, so these stay complete; open maps (tags, params, metrics) are `additionalProperties`.
 *
 * A new route declares `response: ok(Schema)` (or `created(Schema)`), which also adds the shared
 * error body for 4xx and 5xx.
 */

/** Every refusal and failure: the one error shape (MLflow's). */
export const ErrorBody = Type.Object(
  { error_code: Type.String({ description: 'A code from the error registry, e.g. RESOURCE_DOES_NOT_EXIST' }), message: Type.String() },
  { description: 'The error shape of every refusal and failure' },
);

/** The success body under `status`, plus the error body for 4xx and 5xx. */
export function ok<S extends TSchema>(body: S): { 200: S; '4xx': typeof ErrorBody; '5xx': typeof ErrorBody } {
  return { 200: body, '4xx': ErrorBody, '5xx': ErrorBody };
}
export function created<S extends TSchema>(body: S): { 201: S; '4xx': typeof ErrorBody; '5xx': typeof ErrorBody } {
  return { 201: body, '4xx': ErrorBody, '5xx': ErrorBody };
}

/**
 * A number the domain may hold as NaN or ±Infinity (metric values). No `type` on purpose: with one,
 * fast-json-stringify throws on NaN; without, it writes the value as JSON.stringify does, so NaN and
 * ±Infinity stay `null` as the native API has always written them.
 */
export const JsonNumber = Type.Unsafe<number>({ description: 'A number; NaN and ±Infinity are written as null (JSON has no such numbers)' });

/** A string with a fixed set of values, serialised as a plain string (a union of literals would be matched value by value). */
function stringEnum<const T extends readonly string[]>(values: T, description?: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description !== undefined ? { description } : {}) });
}

/** An open map from strings to `value` (tags, params, metrics). */
function mapOf<S extends TSchema>(value: S, description: string) {
  return Type.Unsafe<Record<string, Static<S>>>({ type: 'object', additionalProperties: value, description });
}

/**
 * Times are whole milliseconds, but typed `number` rather than `integer`: fast-json-stringify
 * truncates non-integers and throws on ±Infinity for `integer`, and a run's start time is stored
 * as the caller sent it (`1e999` parses as Infinity); `number` writes what JSON.stringify wrote.
 */
const Millis = (description = 'epoch milliseconds') => Type.Number({ description });
const Nullable = <S extends TSchema>(s: S) => Type.Union([s, Type.Null()]);
const StringMap = (description: string) => mapOf(Type.String(), description);
const KeyValue = Type.Object({ key: Type.String(), value: Type.String() });

/** `{}`: the answer of calls that only change something. */
export const Empty = Type.Object({}, { description: 'Nothing to return' });

/** A page of results; pass `nextPageToken` back as `pageToken` for the next one. */
export function Page<S extends TSchema>(item: S) {
  return Type.Object({ items: Type.Array(item), nextPageToken: Type.Optional(Type.String({ description: 'absent on the last page' })) });
}

// ---- tracking ----

export const Experiment = Type.Object({
  experimentId: Type.String(),
  name: Type.String(),
  artifactLocation: Type.String(),
  lifecycleStage: stringEnum(['active', 'deleted'] as const),
  creationTime: Millis(),
  lastUpdateTime: Millis(),
  tags: StringMap('experiment tags'),
});

export const Metric = Type.Object({ key: Type.String(), value: JsonNumber, timestamp: Millis(), step: Type.Integer() });

export const DatasetInput = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  sourceType: Type.String(),
  source: Type.String(),
  schema: Type.String(),
  profile: Type.String(),
  context: Type.String({ description: 'the value of the mlflow.data.context tag' }),
  tags: Type.Array(KeyValue, { description: 'every input tag, in the order logged' }),
});

export const RunInfo = Type.Object({
  runId: Type.String({ description: '32 hex characters' }),
  runName: Type.String(),
  experimentId: Type.String(),
  userId: Type.String(),
  status: stringEnum(RUN_STATUSES),
  startTime: Millis(),
  endTime: Nullable(Millis('epoch milliseconds; null while the run is open')),
  artifactUri: Type.String(),
  lifecycleStage: stringEnum(['active', 'deleted'] as const),
  sourceType: Type.String(),
  sourceName: Type.String(),
  sourceVersion: Type.String(),
});

export const Run = Type.Object({
  info: RunInfo,
  data: Type.Object({
    metrics: Type.Array(Metric, { description: 'the latest value of each metric (highest step, then newest timestamp)' }),
    params: StringMap('run params'),
    tags: StringMap('run tags'),
  }),
  inputs: Type.Array(DatasetInput),
});

export const ArtifactEntry = Type.Object({
  path: Type.String(),
  isDir: Type.Boolean(),
  size: Type.Optional(Type.Integer({ description: 'bytes; absent for folders' })),
});
export const ArtifactList = Type.Object({ files: Type.Array(ArtifactEntry) });
export const SavedArtifact = Type.Object({ path: Type.String(), size: Type.Integer({ description: 'bytes written' }) });

// ---- registry ----

/** A signature column; MLflow's carry more than name and type (`shape`, `required` …), kept as recorded. */
const SignatureColumn = Type.Object({ name: Type.String(), type: Type.String() }, { additionalProperties: true });
export const ModelSignature = Type.Object({ inputs: Type.Array(SignatureColumn), outputs: Type.Array(SignatureColumn) });

export const ModelVersion = Type.Object({
  name: Type.String(),
  version: Type.String(),
  source: Type.String(),
  runId: Type.String(),
  storageLocation: Type.String(),
  status: stringEnum(['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY'] as const),
  statusMessage: Type.String(),
  flavor: Type.String(),
  runLink: Type.String(),
  modelId: Type.String(),
  description: Type.String(),
  currentStage: stringEnum(STAGES),
  userId: Type.String(),
  signature: Nullable(ModelSignature),
  metrics: mapOf(JsonNumber, 'metrics of the source run at registration'),
  creationTime: Millis(),
  lastUpdatedTime: Millis(),
  tags: StringMap('version tags'),
  aliases: Type.Array(Type.String()),
});

export const RegisteredModel = Type.Object({
  name: Type.String(),
  description: Type.String(),
  creationTime: Millis(),
  lastUpdatedTime: Millis(),
  tags: StringMap('model tags'),
  aliases: Type.Array(Type.Object({ alias: Type.String(), version: Type.String() })),
  latestVersions: Type.Array(ModelVersion, { description: 'the newest version per stage' }),
});

export const Lineage = Type.Object({
  model: ModelVersion,
  run: Nullable(
    Type.Object({
      runId: Type.String(),
      experimentId: Type.String(),
      runName: Type.String(),
      status: Type.String(),
      startTime: Millis(),
      endTime: Nullable(Millis()),
      sourceVersion: Type.String(),
      params: StringMap('run params'),
      metrics: mapOf(JsonNumber, 'latest run metrics'),
      tags: StringMap('run tags'),
    }),
  ),
  datasets: Type.Array(DatasetInput),
});

// ---- keys and audit ----

export const ApiKeyInfo = Type.Object({
  keyId: Type.String(),
  name: Type.String(),
  role: stringEnum(ROLES),
  scopes: Type.Array(Type.String(), { description: 'model:<name> / endpoint:<name>; empty for an unscoped key' }),
  createdAt: Millis(),
  expiresAt: Nullable(Millis()),
  revokedAt: Nullable(Millis()),
  lastUsedAt: Nullable(Millis()),
});
export const CreatedKey = Type.Composite([Type.Object({ key: Type.String({ description: 'the secret, shown this once' }) }), ApiKeyInfo]);
export const KeyList = Type.Object({ keys: Type.Array(ApiKeyInfo) });

export const AuditEntry = Type.Object({
  seq: Type.Optional(Type.Integer({ description: 'sequence number; pass the last one as `after`' })),
  time: Millis(),
  keyId: Nullable(Type.String()),
  keyName: Nullable(Type.String()),
  role: Type.String({ description: 'the caller’s role, or anonymous' }),
  method: Type.String(),
  route: Type.String({ description: 'the matched route pattern, never the raw URL' }),
  target: Type.String({ description: 'field=value pairs naming the object acted on' }),
  status: Type.Integer(),
  requestId: Type.String(),
});
export const AuditPage = Type.Object({ entries: Type.Array(AuditEntry), next_after: Type.Optional(Type.Integer({ description: 'absent when there is nothing more' })) });

// ---- serving ----

const ClassLabel = Type.Unsafe<number | string>({ type: ['number', 'string'] });

export const Health = Type.Object({
  status: stringEnum(['ok', 'unavailable'] as const),
  store: Type.Object({ ok: Type.Boolean(), backend: Type.String(), error: Type.Optional(Type.String({ description: 'only for callers with a key' })) }),
  model: Type.Object({
    configured: Type.Boolean(),
    ready: Type.Boolean(),
    ref: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    version: Type.Optional(Type.String()),
    error: Type.Optional(Type.String()),
    endpoint: Type.Optional(Type.String({ description: 'the endpoint served by default (--endpoint); ref, name and version are of its main deployment' })),
    deployment: Type.Optional(Type.String({ description: "the endpoint's main deployment (the one taking most traffic)" })),
  }),
});

export const ModelInfo = Type.Object({
  model: Type.String(),
  version: Type.String(),
  alias: Nullable(Type.String()),
  signature: Nullable(ModelSignature),
  kind: stringEnum(['classifier', 'regressor'] as const),
  flavor: stringEnum(['fluxops', 'onnx'] as const),
  classes: Type.Array(ClassLabel, { description: 'class labels of a classifier; empty for a regressor' }),
  metrics: mapOf(JsonNumber, 'metrics of the source run at registration'),
  trained_at: Nullable(Type.String({ description: 'ISO 8601; null when the model does not say (an ONNX model not exported by FluxOps)' })),
  registered_at: Type.String({ description: 'ISO 8601' }),
  run_id: Type.String(),
  endpoint: Type.Optional(Type.String({ description: 'a server started with --endpoint: the endpoint, whose main deployment this describes' })),
  deployment: Type.Optional(Type.String({ description: "the endpoint's main deployment (the one taking most traffic)" })),
});

const PredictionObject = Type.Object({
  request_id: Type.String(),
  model: Type.String(),
  version: Type.String(),
  classes: Type.Optional(Type.Array(ClassLabel, { description: 'classifiers only: the class labels, in the order of each probabilities row' })),
  predictions: Type.Array(ClassLabel, { description: 'one label (classifier) or number (regressor) per input row; always present' }),
  probabilities: Type.Optional(Type.Array(Type.Array(Type.Number()), { description: 'classifiers only: one row per input, columns in `classes` order' })),
  endpoint: Type.Optional(Type.String({ description: 'the endpoint that routed the request (a server started with --endpoint)' })),
  deployment: Type.Optional(Type.String({ description: 'the deployment that answered (also the x-fluxops-deployment response header)' })),
});
/**
 * fast-json-stringify writes required properties before optional ones, which would move
 * `predictions` (and an endpoint's `endpoint` and `deployment`) ahead of `classes`: the JSON
 * schema lists only the leading properties as required, so answers keep the order they always had
 * (request_id, model, version, classes, predictions, probabilities, …). The static type is
 * unchanged, and the properties it requires are always sent.
 */
function inDeclaredOrder<T extends TObject>(schema: T, leading: readonly string[]): T {
  return Object.assign({}, schema, { required: [...leading] as T['required'] });
}

export const Prediction = inDeclaredOrder(PredictionObject, ['request_id', 'model', 'version']);

const Weights = mapOf(Type.Integer({ minimum: 0, maximum: 100 }), 'deployment → percent');

export const Batching = Type.Object({ maxBatch: Type.Integer(), maxWaitMs: Type.Integer() });

export const Deployment = Type.Object({
  name: Type.String(),
  model: Type.String({ description: 'a version (diabetes/3) or an alias followed with hot swap (diabetes@production)' }),
  batching: Nullable(Batching),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

/** What a server serves of a deployment right now. */
export const DeploymentStatus = Type.Object({
  name: Type.String(),
  model: Type.String(),
  /** The version loaded, or null when none is (see `error`). */
  version: Nullable(Type.String()),
  error: Nullable(Type.String()),
  traffic: Type.Integer(),
  mirror: Type.Integer(),
  batched: Nullable(
    Type.Object({ batches: Type.Integer({ description: 'predictor calls made' }), rows: Type.Integer({ description: 'rows in them' }) }, { description: 'a batching deployment: what its loaded model ran on this server' }),
  ),
});

export const Endpoint = Type.Object({
  name: Type.String(),
  environment: Type.String(),
  description: Type.String(),
  predictRoles: Nullable(Type.Array(Type.String())),
  stickyHeader: Nullable(Type.String()),
  inferenceLog: Type.Object({ sampleRate: Type.Number(), retentionDays: Type.Integer() }, { description: 'what of its traffic is logged to the inference table' }),
  deployments: Type.Array(Deployment),
  traffic: Weights,
  mirror: Weights,
  generation: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

export const EndpointWithStatus = Type.Object({ ...Endpoint.properties, status: Type.Array(DeploymentStatus, { description: 'what this server serves of each deployment' }) });

export const EndpointPrediction = inDeclaredOrder(
  Type.Object({
    ...Prediction.properties,
    endpoint: Type.String({ description: 'always present' }),
    deployment: Type.String({ description: 'the deployment that answered (also the x-fluxops-deployment response header); always present' }),
  }),
  ['request_id', 'model', 'version'],
);

export const MirrorStats = Type.Object({
  percent: Type.Integer({ description: 'the share of live requests copied to it now' }),
  requests: Type.Integer({ description: 'copies sent to it' }),
  errors: Type.Integer({ description: 'copies it failed to answer' }),
  rows: Type.Integer(),
  agreedRows: Type.Integer({ description: 'rows where it predicted what the live deployment did' }),
  agreement: Type.Number(),
  meanAbsScoreDiff: Type.Number({ description: 'mean total variation distance between probability rows (classifiers), or |score difference| (regressors)' }),
  meanLatencyMs: Type.Number(),
  meanLiveLatencyMs: Type.Number(),
});

export const GateResultJson = Type.Object({
  gate: Type.String(),
  value: Nullable(Type.Number()),
  passed: Type.Boolean(),
  conclusive: Type.Boolean({ description: 'whether the window held enough requests for the value to count' }),
  requests: Type.Integer(),
});

export const Rollout = Type.Object({
  id: Type.String(),
  endpoint: Type.String(),
  stable: Type.String({ description: 'the deployment traffic comes from and returns to on a failure' }),
  target: Type.String({ description: 'the deployment rolled out' }),
  strategy: Type.String({ description: 'canary or blueGreen' }),
  spec: Type.Unknown({ description: 'steps ({kind: weight, weight, bakeMs} or {kind: pause}), gates, smoke requests, minRequests, intervalMs' }),
  state: Type.String({ description: 'running, paused, succeeded, rolled_back or aborted' }),
  step: Type.Integer(),
  stepStartedAt: Type.Integer({ description: 'epoch ms; 0 while the step has not begun' }),
  results: Type.Array(Type.Unknown(), { description: 'one entry per finished step: outcome, gate values, smoke failures' }),
  reason: Nullable(Type.String()),
  startedBy: Nullable(Type.String()),
  startedAt: Type.Integer(),
  updatedAt: Type.Integer(),
  finishedAt: Nullable(Type.Integer()),
  live: Nullable(Type.Array(GateResultJson, { description: "the current step's gate values as this server measures them" })),
});

export const EndpointLive = Type.Object({
  endpoint: Type.String(),
  generation: Type.Integer({ description: "the endpoint's generation, bumped by every change of it" }),
  time: Type.Integer({ description: 'epoch ms the figures were taken' }),
  windowMs: Type.Integer({ description: 'the recent window the figures are over' }),
  traffic: Type.Record(Type.String(), Type.Integer()),
  mirror: Type.Record(Type.String(), Type.Integer()),
  deployments: Type.Record(
    Type.String(),
    Type.Object({
      requests: Type.Integer({ description: 'answered in the window on this server' }),
      errors: Type.Integer(),
      requestsPerSecond: Type.Number(),
      errorRate: Type.Number(),
      p50Ms: Nullable(Type.Number()),
      p95Ms: Nullable(Type.Number()),
      totalRequests: Type.Integer({ description: 'since this server started' }),
      totalErrors: Type.Integer(),
      truncated: Type.Boolean({ description: 'the window held more requests than this server keeps: its figures are of the newest part' }),
    }),
  ),
  rollout: Type.Union([Rollout, Type.Null()], { description: 'the newest rollout of the endpoint, with its live gate values' }),
});

// ---- schedules ----

export const Schedule = Type.Object({
  id: Type.String({ description: 'sc- and 12 hex digits' }),
  name: Type.String(),
  cron: Type.String({ description: "five fields (minute hour day-of-month month day-of-week, such as '41 22 * * *') or a nickname such as @daily" }),
  timezone: Type.String({ description: 'the IANA time zone the expression is read in' }),
  pipeline: Type.String({ description: 'the name of the pipeline the spec declares' }),
  pipelineSpec: Type.String({ description: 'the pipeline file (YAML), kept as it was given' }),
  params: mapOf(Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'] }), 'parameters handed to each run'),
  overlap: stringEnum(OVERLAP_POLICIES, 'while the previous run still goes, a slot is skipped, or queued (one at most)'),
  catchUp: stringEnum(CATCH_UP_POLICIES, 'after a downtime, no missed slot fires, or only the latest'),
  paused: Type.Boolean(),
  nextSlot: Nullable(Millis('the next slot to fire (epoch ms); null when the expression fires no more')),
  createdAt: Millis(),
  createdBy: Nullable(Type.String({ description: 'the key that created it; null for the CLI' })),
  updatedAt: Millis(),
});

export const Firing = Type.Object({
  scheduleId: Type.String(),
  slot: Millis('the slot this firing is for (epoch ms)'),
  state: stringEnum(FIRING_STATES, 'claimed (being started), started, skipped, queued (waits for the previous run) or failed'),
  pipelineRun: Nullable(Type.String({ description: 'the pipeline run it started' })),
  reason: Nullable(Type.String({ description: 'why it was skipped, queued or failed' })),
  attempts: Type.Integer({ description: 'take-overs after a server stopped between claiming and starting it' }),
  firedAt: Millis(),
  firedBy: Type.String({ description: 'the server that claimed it' }),
  updatedAt: Millis(),
});

// ---- webhooks ----

export const Webhook = Type.Object({
  id: Type.String({ description: 'wh- and 12 hex digits' }),
  name: Type.String(),
  url: Type.String({ description: 'where deliveries are POSTed' }),
  events: Type.Array(Type.String(), { description: 'patterns of event types: model.*, pipeline.run.failed, * (a * stands for any characters)' }),
  filter: Type.Object(
    { model: Nullable(Type.String()), endpoint: Nullable(Type.String()) },
    { description: 'only events about this model and/or endpoint; null: any' },
  ),
  format: stringEnum(WEBHOOK_FORMATS, 'fluxops: {id, event} JSON; slack: a Slack message {text, blocks}'),
  enabled: Type.Boolean(),
  createdAt: Millis(),
  createdBy: Nullable(Type.String({ description: 'the key that created it; null for the CLI' })),
  updatedAt: Millis(),
});
export const CreatedWebhook = Type.Composite([
  Webhook,
  Type.Object({ secret: Type.String({ description: 'the signing secret (HMAC-SHA256 of `${t}.${body}`), shown this once' }) }),
]);
export const WebhookList = Type.Object({ webhooks: Type.Array(Webhook) });

export const DeliveryAttemptJson = Type.Object({
  attempt: Type.Integer(),
  at: Millis('when it ended'),
  status: Nullable(Type.Integer({ description: 'the HTTP status; null when no answer came' })),
  error: Nullable(Type.String()),
  durationMs: Type.Number(),
});
export const WebhookDelivery = Type.Object({
  id: Type.String({ description: 'whd- and 16 hex digits; sent as X-FluxOps-Delivery and in the body' }),
  webhookId: Type.String(),
  eventSeq: Nullable(Type.Integer({ description: "the event's seq; null for a test delivery" })),
  eventType: Type.String(),
  state: stringEnum(DELIVERY_STATES, 'pending (waits for its next attempt), delivering, succeeded (a 2xx answer) or failed (attempts spent)'),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  nextAttemptAt: Millis('when a pending delivery is due'),
  lastStatus: Nullable(Type.Integer()),
  lastResponse: Nullable(Type.String({ description: 'the first KiB of the last response body' })),
  lastError: Nullable(Type.String()),
  history: Type.Array(DeliveryAttemptJson, { description: 'every attempt, oldest first' }),
  createdAt: Millis(),
  updatedAt: Millis(),
  finishedAt: Nullable(Millis()),
});
export const WebhookDeliveryList = Type.Object({ deliveries: Type.Array(WebhookDelivery) });

// ---- pipelines ----

const STEP_STATUSES = ['pending', 'queued', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
const PIPELINE_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
const JsonMap = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

export const StepRun = Type.Object({
  step: Type.String(),
  kind: Type.String({ description: 'the step type, or run for a command' }),
  status: stringEnum(STEP_STATUSES),
  position: Type.Integer(),
  attempt: Type.Integer({ description: 'attempts started, retries included' }),
  jobId: Nullable(Type.String()),
  cacheKey: Nullable(Type.String()),
  cachedFrom: Nullable(Type.String({ description: '<pipeline run>/<step> whose outputs were reused' })),
  inputs: Nullable(JsonMap('the inputs once their expressions were filled')),
  outputs: Nullable(JsonMap('what the step produced (read by later steps as steps.<step>.outputs.*)')),
  error: Nullable(Type.String({ description: 'why it failed, was skipped or cancelled' })),
  trackingRunId: Nullable(Type.String()),
  modelName: Nullable(Type.String()),
  modelVersion: Nullable(Type.String()),
  expiresAt: Nullable(Millis('when an approval expires')),
  decidedBy: Nullable(Type.String({ description: 'the key that approved or rejected' })),
  decisionReason: Nullable(Type.String()),
  startedAt: Nullable(Millis()),
  finishedAt: Nullable(Millis()),
  updatedAt: Millis(),
});

export const PipelineRun = Type.Object({
  id: Type.String({ description: 'pr- and 12 hex digits' }),
  pipeline: Type.String(),
  specHash: Type.String({ description: 'SHA-256 of the pipeline file' }),
  params: JsonMap('the params it ran with'),
  status: stringEnum(PIPELINE_STATUSES),
  trigger: Type.String({ description: 'manual, retry, schedule:<name> or event:<type>' }),
  startedBy: Nullable(Type.String()),
  baseDir: Nullable(Type.String()),
  noCache: Type.Boolean(),
  retryOf: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  createdAt: Millis(),
  updatedAt: Millis(),
  finishedAt: Nullable(Millis()),
  steps: Type.Array(StepRun),
});
export const PipelineRunList = Type.Object({ runs: Type.Array(PipelineRun) });

export const PipelineSummary = Type.Object({
  name: Type.String(),
  description: Nullable(Type.String()),
  hash: Type.String(),
  params: JsonMap('declared params: type, default, description'),
  steps: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), needs: Type.Array(Type.String()), if: Nullable(Type.String()) })),
});

export const LogLine = Type.Object({ id: Type.Integer(), step: Type.String(), stream: stringEnum(['stdout', 'stderr', 'system'] as const), text: Type.String(), time: Millis() });
export const LogPage = Type.Object({ lines: Type.Array(LogLine), next_after: Type.Integer({ description: 'pass as after= for the next lines' }), status: stringEnum(PIPELINE_STATUSES, "the run's status when read") });

export const PipelineTrigger = Type.Object({
  id: Type.String({ description: 'tr- and 12 hex digits' }),
  pipeline: Type.String(),
  event: Type.String({ description: 'an event type, or a prefix with * (model.*)' }),
  filter: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { description: 'payload fields (or model, endpoint) that must equal these' }),
  params: JsonMap('the run params, which may read ${{ event.payload.* }}'),
  baseDir: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Millis(),
  createdSeq: Type.Integer({ description: 'the newest event when it was registered: only later events start it' }),
});
export const PipelineTriggerList = Type.Object({ triggers: Type.Array(PipelineTrigger) });

const SWEEP_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
const TRIAL_STATUSES = ['running', 'completed', 'failed', 'pruned'] as const;

export const Sweep = Type.Object({
  id: Type.String({ description: 'sw- and 12 hex digits, derived from the pipeline run and step' }),
  pipelineRun: Nullable(Type.String()),
  step: Nullable(Type.String()),
  runId: Type.String({ description: 'the parent tracking run; each trial is a child run of it' }),
  status: stringEnum(SWEEP_STATUSES),
  bestTrial: Nullable(Type.Integer({ description: 'the best trial so far (set when the sweep ends)' })),
  bestValue: Nullable(JsonNumber),
  metric: Type.String({ description: 'the objective metric' }),
  direction: stringEnum(['maximize', 'minimize'] as const),
  sampling: Type.String({ description: 'grid, random or tpe' }),
  maxTrials: Type.Integer(),
  trialsDone: Type.Integer({ description: 'trials that ended (completed, failed or pruned)' }),
  createdAt: Millis(),
  updatedAt: Millis(),
  finishedAt: Nullable(Millis()),
});
export const SweepList = Type.Object({ sweeps: Type.Array(Sweep) });

export const SweepTrial = Type.Object({
  number: Type.Integer({ description: 'from 1, in the order trials were suggested' }),
  params: JsonMap('the parameters it was given'),
  status: stringEnum(TRIAL_STATUSES),
  value: Nullable(JsonNumber),
  intermediate: Type.Array(Type.Object({ step: Type.Number(), value: JsonNumber }), { description: 'the objective as logged while it ran (what early termination reads)' }),
  runId: Nullable(Type.String({ description: "the trial's tracking run" })),
  error: Nullable(Type.String({ description: 'why it failed or was pruned' })),
  startedAt: Millis(),
  finishedAt: Nullable(Millis()),
});
export const SweepDetail = Type.Composite([Sweep, Type.Object({ trials: Type.Array(SweepTrial) })]);
