/** A pipeline run's status. */
export type PipelineRunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export const PIPELINE_RUN_STATUSES: readonly PipelineRunStatus[] = ['running', 'succeeded', 'failed', 'cancelled'];

/**
 * A step run's status: `pending` until what it needs is done; `queued` once its job is in the
 * queue; `running` on a worker (through its retries); `waiting` for an approver; then one of the
 * terminal ones.
 */
export type StepStatus = 'pending' | 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export const TERMINAL_STEP: ReadonlySet<StepStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

export type Outputs = Record<string, unknown>;

export interface StepRun {
  step: string;
  /** The step's type, or `run` for a command. */
  kind: string;
  status: StepStatus;
  position: number;
  /** Attempts started (retries included). */
  attempt: number;
  jobId: string | null;
  cacheKey: string | null;
  /** `<pipeline run>/<step>` whose outputs were reused. */
  cachedFrom: string | null;
  /** The step's inputs once its expressions were filled. */
  inputs: Outputs | null;
  outputs: Outputs | null;
  /** Why it failed, was skipped or cancelled. */
  error: string | null;
  /** Lineage: the tracking run it made or used, the model version it registered. */
  trackingRunId: string | null;
  modelName: string | null;
  modelVersion: string | null;
  /** An approval's deadline. */
  expiresAt: number | null;
  /** Who approved or rejected, and why. */
  decidedBy: string | null;
  decisionReason: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

export interface PipelineRun {
  id: string;
  pipeline: string;
  specHash: string;
  params: Record<string, unknown>;
  status: PipelineRunStatus;
  /** `manual`, `retry`, `schedule:<name>`, `event:<type>`. */
  trigger: string;
  startedBy: string | null;
  /** The folder relative paths in the file are resolved against (the file's own folder). */
  baseDir: string | null;
  noCache: boolean;
  retryOf: string | null;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  steps: StepRun[];
}

export interface LogLine {
  id: number;
  step: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  time: number;
}
