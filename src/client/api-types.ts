import type { AuditLog, KeyService } from '../auth/index.js';
import type { EndpointService } from '../endpoints/index.js';
import type { EventPage, ReadEventsInput } from '../events/index.js';
import type { GateResult, Rollout, RolloutSpecInput } from '../rollouts/index.js';
import type { RegistryService } from '../registry/index.js';
import type { TrackingService } from '../tracking/index.js';

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

/** Reading the domain events from a cursor (`EventLog.read` in process, `GET /api/v1/events` remotely). */
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
