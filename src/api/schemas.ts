import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { ROLES } from '../auth/index.js';
import { STAGES } from '../registry/index.js';
import { RUN_STATUSES } from '../tracking/index.js';

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
