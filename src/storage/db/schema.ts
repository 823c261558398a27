import type { ColumnType, Generated } from 'kysely';

/** Row types of the metadata store, shared by every dialect. Times are epoch milliseconds. */
export interface ExperimentsTable {
  experiment_id: Generated<number>;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}
export interface ExperimentTagsTable {
  experiment_id: number;
  key: string;
  value: string;
}
export interface RunsTable {
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  source_type: string;
  source_name: string;
  source_version: string;
  lifecycle_stage: string;
  artifact_uri: string;
  deleted_time: number | null;
}
export interface KeyValueRunTable {
  run_uuid: string;
  key: string;
  value: string;
}
export interface MetricsTable {
  run_uuid: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
}
export interface RunInputsTable {
  run_uuid: string;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string;
  profile: string;
  context: string;
  /** JSON list of `{key, value}`, every tag of the input in the order logged ('[]' on rows from before 0003). */
  tags: ColumnType<string, string | undefined, string>;
}
export interface RegisteredModelsTable {
  name: string;
  description: string;
  creation_time: number;
  last_updated_time: number;
}
export interface RegisteredModelTagsTable {
  name: string;
  key: string;
  value: string;
}
export interface ModelVersionsTable {
  name: string;
  version: number;
  source: string;
  run_id: string;
  storage_location: string;
  status: string;
  status_message: string;
  description: string;
  current_stage: string;
  user_id: string;
  signature: string;
  metrics: string;
  creation_time: number;
  last_updated_time: number;
  /** MLflow's link to the source run on another tracking server; stored verbatim. */
  run_link: string;
  /** The logged model (MLflow 3) the version was registered from, or ''. */
  model_id: string;
  /** Flavor(s) found in the model folder (`fluxops`, `python_function/sklearn`), or ''. */
  flavor: string;
}
export interface ModelVersionTagsTable {
  name: string;
  version: number;
  key: string;
  value: string;
}
export interface ModelAliasesTable {
  name: string;
  alias: string;
  version: number;
}
export interface LoggedModelsTable {
  model_id: string;
  experiment_id: number;
  name: string;
  artifact_location: string;
  status: string;
  status_message: string;
  model_type: string;
  source_run_id: string;
  lifecycle_stage: string;
  creation_time: number;
  last_updated_time: number;
}
export interface LoggedModelKeyValueTable {
  model_id: string;
  key: string;
  value: string;
}
export interface LoggedModelMetricsTable {
  model_id: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
  run_id: string;
  dataset_name: string;
  dataset_digest: string;
}
export interface LoggedModelOutputsTable {
  run_uuid: string;
  model_id: string;
  step: number;
}
export interface ApiKeysTable {
  key_id: string;
  name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
  /** A role of auth/roles.ts (migration 0004). */
  role: string;
  /** JSON list of scopes such as "model:diabetes". */
  scopes: string;
  expires_at: number | null;
  last_used_at: number | null;
}

/** One state-changing API call (migration 0004); rows are only ever inserted. */
export interface AuditLogTable {
  seq: Generated<number>;
  time: number;
  key_id: string | null;
  key_name: string | null;
  role: string;
  method: string;
  route: string;
  target: string;
  status: number;
  request_id: string;
}
/** The transactional outbox (migration 0005); `seq` is the cursor, payload JSON text. */
export interface EventsTable {
  seq: Generated<number>;
  type: string;
  time: number;
  model: string | null;
  run_id: string | null;
  experiment_id: string | null;
  payload: string;
  actor: string | null;
  /** Migration 0006. */
  endpoint: string | null;
}

/** Endpoints (migration 0006): traffic and mirror are JSON objects of deployment → percent. */
export interface EndpointsTable {
  name: string;
  environment: string;
  description: string;
  predict_roles: string | null;
  sticky_header: string | null;
  traffic: string;
  mirror: string;
  generation: number;
  created_at: number;
  updated_at: number;
}

export interface DeploymentsTable {
  endpoint: string;
  name: string;
  model_ref: string;
  batching: string | null;
  created_at: number;
  updated_at: number;
}

/** Rollouts (migration 0007): spec and results are JSON. */
export interface RolloutsTable {
  id: string;
  endpoint: string;
  stable: string;
  target: string;
  strategy: string;
  spec: string;
  state: string;
  step: number;
  step_started_at: number;
  results: string;
  reason: string | null;
  started_by: string | null;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
  owner: string | null;
  lease_until: number;
}

export interface RolloutWindowsTable {
  rollout_id: string;
  step: number;
  server: string;
  deployment: string;
  requests: number;
  errors: number;
  latency: string;
  classes: string;
  updated_at: number;
}

export interface Database {
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  params: KeyValueRunTable;
  tags: KeyValueRunTable;
  metrics: MetricsTable;
  latest_metrics: MetricsTable;
  run_inputs: RunInputsTable;
  registered_models: RegisteredModelsTable;
  registered_model_tags: RegisteredModelTagsTable;
  model_versions: ModelVersionsTable;
  model_version_tags: ModelVersionTagsTable;
  model_aliases: ModelAliasesTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  logged_models: LoggedModelsTable;
  logged_model_params: LoggedModelKeyValueTable;
  logged_model_tags: LoggedModelKeyValueTable;
  logged_model_metrics: LoggedModelMetricsTable;
  logged_model_outputs: LoggedModelOutputsTable;
  events: EventsTable;
  endpoints: EndpointsTable;
  deployments: DeploymentsTable;
  rollouts: RolloutsTable;
  rollout_windows: RolloutWindowsTable;
}
