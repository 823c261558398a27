/** Domain types of the tracking context. Ids are strings, times epoch milliseconds. */
export type LifecycleStage = 'active' | 'deleted';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** The input tag in which MLflow keeps a dataset's usage context (training, eval …). */
export const DATASET_CONTEXT_TAG = 'mlflow.data.context';

export interface InputTag {
  key: string;
  value: string;
}

/** A dataset some run of an experiment used, once per (experiment, name, digest, context). */
export interface DatasetSummary {
  experimentId: string;
  name: string;
  digest: string;
  /** The input's `mlflow.data.context` tag; '' when it had none. */
  context: string;
}

export interface DatasetInput {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string;
  profile: string;
  /** Free-form usage context, for example `training`: the value of the `mlflow.data.context` tag. */
  context: string;
  /** Every tag of the input, in the order logged, the `mlflow.data.context` tag included. */
  tags: InputTag[];
}

/**
 * A dataset input as a caller logs it. The context may be given as `context`, as the
 * `mlflow.data.context` tag, or both when they agree; either way the stored input has both.
 */
export interface LogDatasetInput {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema?: string | undefined;
  profile?: string | undefined;
  context?: string | undefined;
  tags?: InputTag[] | undefined;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  sourceType: string;
  sourceName: string;
  sourceVersion: string;
}

export interface Run {
  info: RunInfo;
  data: {
    /** Latest value of each metric (highest step, then newest timestamp). */
    metrics: Metric[];
    params: Record<string, string>;
    tags: Record<string, string>;
  };
  inputs: DatasetInput[];
}

export interface CreateRunInput {
  experimentId: string;
  runName?: string | undefined;
  userId?: string | undefined;
  startTime?: number | undefined;
  tags?: Record<string, string> | undefined;
  sourceType?: string | undefined;
  sourceName?: string | undefined;
  sourceVersion?: string | undefined;
}

export interface UpdateRunInput {
  status?: RunStatus | undefined;
  endTime?: number | undefined;
  runName?: string | undefined;
}

/** A metric as a client sends it, before validation (values may be "NaN", times may be absent). */
export interface MetricInput {
  key: unknown;
  value: unknown;
  timestamp?: unknown;
  step?: unknown;
}

export interface LogBatchInput {
  metrics?: MetricInput[] | undefined;
  params?: Record<string, string> | Array<{ key: string; value: string }> | undefined;
  tags?: Record<string, string> | Array<{ key: string; value: string }> | undefined;
}

export interface Page<T> {
  items: T[];
  nextPageToken?: string | undefined;
}
