import type { NewEvent } from '../events/index.js';
import type { LogLine, PipelineRun, PipelineRunStatus, StepRun, StepStatus } from './types.js';

export type StepPatch = Partial<Omit<StepRun, 'step' | 'kind' | 'position'>>;

/** More conditions on a step's move: its run still running; the attempt the mover holds. */
export interface MoveGuard {
  runActive?: boolean | undefined;
  attempt?: number | undefined;
}

/** Where pipeline runs, step runs and logs are kept. Every move is conditional on the state it leaves. */
export interface PipelineStore {
  createRun(run: Omit<PipelineRun, 'steps'>, spec: string, steps: StepRun[], event: NewEvent): Promise<void>;
  getRun(id: string): Promise<PipelineRun | undefined>;
  getSpec(id: string): Promise<string | undefined>;
  listRuns(q: { pipeline?: string | undefined; statuses?: readonly PipelineRunStatus[] | undefined; limit: number }): Promise<PipelineRun[]>;
  /** Moves a step from one of `from` with the patch (and its event, in the same transaction); false when it was elsewhere. */
  moveStep(runId: string, step: string, from: readonly StepStatus[], patch: StepPatch, event?: NewEvent, guard?: MoveGuard): Promise<boolean>;
  /** Ends a running run; false when it had ended already. */
  finishRun(runId: string, status: Exclude<PipelineRunStatus, 'running'>, reason: string | null, event: NewEvent): Promise<boolean>;
  /** The newest succeeded step run with this cache key. */
  findCached(cacheKey: string): Promise<{ runId: string; step: StepRun } | undefined>;
  appendLogs(runId: string, lines: Array<Omit<LogLine, 'id'>>): Promise<void>;
  readLogs(runId: string, q: { after: number; step?: string | undefined; limit: number }): Promise<LogLine[]>;
}
