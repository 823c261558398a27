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
  /** Migration 0016: JSON {sample_rate, retention_days}, or null for the defaults. */
  inference_log: string | null;
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

/** The embedded job queue (migration 0009). */
export interface JobsTable {
  id: string;
  kind: string;
  data: string;
  state: string;
  attempts: number;
  retry_limit: number;
  retry_delay_ms: number;
  retry_backoff: number;
  start_after: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  owner: string | null;
  lease_until: number;
  output: string | null;
  error: string | null;
}

/** Webhooks (migration 0010): events is a JSON list of patterns; enabled is 0/1. */
export interface WebhooksTable {
  id: string;
  name: string;
  url: string;
  secret: string;
  events: string;
  filter_model: string | null;
  filter_endpoint: string | null;
  format: string;
  enabled: number;
  created_seq: number;
  created_at: number;
  created_by: string | null;
  updated_at: number;
}

/** One event to one webhook (migration 0010): event and history are JSON; event_seq is null for a test delivery. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_seq: number | null;
  event_type: string;
  event: string;
  state: string;
  attempts: number;
  max_attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number;
  last_status: number | null;
  last_response: string | null;
  last_error: string | null;
  history: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** Schedules (migration 0011): params is a JSON object; paused is 0/1; next_slot is epoch ms, null when the cron fires no more. */
export interface SchedulesTable {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  pipeline: string;
  pipeline_spec: string;
  params: string;
  overlap: string;
  catch_up: string;
  paused: number;
  next_slot: number | null;
  created_at: number;
  created_by: string | null;
  updated_at: number;
}

/** One slot of one schedule (migration 0011); the primary key (schedule_id, slot) makes it fire once. */
export interface ScheduleFiringsTable {
  schedule_id: string;
  slot: number;
  state: string;
  pipeline_run: string | null;
  reason: string | null;
  attempts: number;
  fired_at: number;
  fired_by: string;
  updated_at: number;
}

/** How far the webhook fan-out read the outbox (migration 0010). */
export interface WebhookCursorTable {
  name: string;
  seq: number;
}

/** Pipeline runs, step runs and their logs (migration 0012); params, inputs and outputs are JSON. */
export interface PipelineRunsTable {
  id: string;
  pipeline: string;
  spec: string;
  spec_hash: string;
  params: string;
  status: string;
  trigger: string;
  started_by: string | null;
  base_dir: string | null;
  no_cache: number;
  retry_of: string | null;
  reason: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface PipelineStepsTable {
  run_id: string;
  step: string;
  position: number;
  kind: string;
  status: string;
  attempt: number;
  job_id: string | null;
  cache_key: string | null;
  cached_from: string | null;
  inputs: string | null;
  outputs: string | null;
  error: string | null;
  tracking_run_id: string | null;
  model_name: string | null;
  model_version: string | null;
  expires_at: number | null;
  decided_by: string | null;
  decision_reason: string | null;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface PipelineLogsTable {
  id: Generated<number>;
  run_id: string;
  step: string;
  stream: string;
  text: string;
  time: number;
}

/** Event triggers of registered pipelines (migration 0013); filter and params are JSON. */
export interface PipelineTriggersTable {
  id: string;
  pipeline: string;
  position: number;
  event: string;
  filter: string;
  params: string;
  spec: string;
  base_dir: string | null;
  created_by: string | null;
  created_at: number;
  /** The newest event when it was registered (migration 0015). */
  created_seq: number;
}

/** How far event triggers have read the outbox (migration 0015). */
export interface PipelineTriggerCursorTable {
  name: string;
  seq: number;
}

/** Sweeps and their trials (migration 0014); spec, params and intermediate are JSON. */
export interface SweepsTable {
  id: string;
  pipeline_run: string | null;
  step: string | null;
  run_id: string;
  spec: string;
  status: string;
  best_trial: number | null;
  best_value: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface SweepTrialsTable {
  sweep_id: string;
  number: number;
  params: string;
  status: string;
  value: number | null;
  intermediate: string;
  job_id: string | null;
  run_id: string | null;
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

/** Segments of logged predictions (migration 0016): the records of one flush for one endpoint, as JSON. */
export interface InferenceSegmentsTable {
  seq: Generated<number>;
  endpoint: string;
  min_time: number;
  max_time: number;
  record_count: number;
  error_count: number;
  latency_buckets: string;
  records: string;
}

/** True values attached to logged predictions by request id and row (migration 0016); label is JSON. */
export interface InferenceLabelsTable {
  endpoint: string;
  request_id: string;
  row: number;
  label: string;
  time: number;
}

/** Reference profiles of model versions computed from a dataset the user named (migration 0016). */
export interface ModelProfilesTable {
  model: string;
  version: string;
  profile: string;
  source: string;
  created_at: number;
}

/** Drift monitors (migration 0016); spec is JSON. */
export interface MonitorsTable {
  name: string;
  endpoint: string;
  spec: string;
  every_ms: number | null;
  enabled: number;
  next_run_at: number | null;
  created_at: number;
  updated_at: number;
}

/** The time series of monitor checks (migration 0016); result is JSON. */
export interface MonitorResultsTable {
  seq: Generated<number>;
  monitor: string;
  time: number;
  window_start: number;
  window_end: number;
  row_count: number;
  status: string;
  drifted: number;
  drift_share: number | null;
  result: string;
}

/** Alert rules and SLOs (migration 0017); spec and notify are JSON. */
export interface AlertRulesTable {
  name: string;
  kind: string;
  spec: string;
  notify: string;
  every_ms: number;
  enabled: number;
  next_run_at: number;
  owner: string | null;
  created_at: number;
  updated_at: number;
}

/** The state of each alert between evaluations (migration 0017); labels and state are JSON. */
export interface AlertStatesTable {
  alert: string;
  rule: string;
  status: string;
  severity: string;
  labels: string;
  state: string;
  silenced_by: string | null;
  updated_at: number;
}

/** Silences (migration 0017); matchers are JSON. */
export interface SilencesTable {
  id: string;
  matchers: string;
  starts_at: number;
  ends_at: number;
  comment: string;
  created_by: string;
  created_at: number;
}

/** Synthetic checks (migration 0017); body is JSON. */
export interface SyntheticChecksTable {
  name: string;
  endpoint: string;
  body: string;
  expect_status: number;
  every_ms: number;
  timeout_ms: number;
  alert_after: number;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  last_status: ColumnType<number | null, number | null | undefined, number | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  last_ms: ColumnType<number | null, number | null | undefined, number | null>;
  last_run_at: ColumnType<number | null, number | null | undefined, number | null>;
  runs: ColumnType<number, number | undefined, number>;
  failures: ColumnType<number, number | undefined, number>;
  enabled: number;
  next_run_at: number;
  created_at: number;
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
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_cursor: WebhookCursorTable;
  jobs: JobsTable;
  pipeline_runs: PipelineRunsTable;
  pipeline_steps: PipelineStepsTable;
  pipeline_logs: PipelineLogsTable;
  pipeline_triggers: PipelineTriggersTable;
  pipeline_trigger_cursor: PipelineTriggerCursorTable;
  sweeps: SweepsTable;
  sweep_trials: SweepTrialsTable;
  schedules: SchedulesTable;
  schedule_firings: ScheduleFiringsTable;
  inference_segments: InferenceSegmentsTable;
  inference_labels: InferenceLabelsTable;
  model_profiles: ModelProfilesTable;
  monitors: MonitorsTable;
  monitor_results: MonitorResultsTable;
  alert_rules: AlertRulesTable;
  alert_states: AlertStatesTable;
  silences: SilencesTable;
  synthetic_checks: SyntheticChecksTable;
}
