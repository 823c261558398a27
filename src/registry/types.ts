export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

/** Input columns with types and the outputs, as recorded with a model version. */
export interface ModelSignature {
  inputs: Array<{ name: string; type: string }>;
  outputs: Array<{ name: string; type: string }>;
}

export interface ModelVersion {
  name: string;
  version: string;
  source: string;
  runId: string;
  /** Artifact-store path of the model's folder. */
  storageLocation: string;
  status: 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';
  statusMessage: string;
  /** Flavor(s) recognised in the model folder (`fluxops`, `python_function/sklearn`); '' when not inspected. */
  flavor: string;
  /** MLflow's link to the source run when it lives on another tracking server; kept verbatim. */
  runLink: string;
  /** The MLflow 3 logged model this version was registered from, or ''. */
  modelId: string;
  description: string;
  currentStage: Stage;
  userId: string;
  signature: ModelSignature | null;
  /** Metrics of the source run at registration time. */
  metrics: Record<string, number>;
  creationTime: number;
  lastUpdatedTime: number;
  tags: Record<string, string>;
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  description: string;
  creationTime: number;
  lastUpdatedTime: number;
  tags: Record<string, string>;
  aliases: Array<{ alias: string; version: string }>;
  /** Newest version per stage, as MLflow reports them. */
  latestVersions: ModelVersion[];
}

export interface NewModelVersion {
  name: string;
  source: string;
  runId: string;
  storageLocation: string;
  status: ModelVersion['status'];
  statusMessage: string;
  flavor: string;
  runLink: string;
  modelId: string;
  description: string;
  userId: string;
  signature: ModelSignature | null;
  metrics: Record<string, number>;
  tags: Array<{ key: string; value: string }>;
}
