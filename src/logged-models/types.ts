/** Domain types of MLflow 3's logged models. Ids are strings, times epoch milliseconds. */
export const LOGGED_MODEL_STATUSES = ['PENDING', 'READY', 'FAILED'] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** A metric point linked to a logged model (usually logged by its source run). */
export interface LoggedModelMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  runId: string;
  datasetName: string;
  datasetDigest: string;
}

export interface LoggedModel {
  /** `m-` and 32 hex digits. */
  modelId: string;
  experimentId: string;
  name: string;
  /** `mlflow-artifacts:/<experiment>/models/<model_id>/artifacts` for models whose files FluxOps holds. */
  artifactLocation: string;
  status: LoggedModelStatus;
  statusMessage: string;
  modelType: string;
  /** The run that produced the model, or ''. */
  sourceRunId: string;
  lifecycleStage: 'active' | 'deleted';
  creationTime: number;
  lastUpdatedTime: number;
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: LoggedModelMetric[];
}

export interface NewLoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  artifactLocation: string;
  modelType: string;
  sourceRunId: string;
  params: Array<{ key: string; value: string }>;
  tags: Array<{ key: string; value: string }>;
}
