import type { Schedule } from './types.js';

/**
 * What a schedule starts: the pipeline engine, behind a port so schedules know nothing of it.
 * The composition root hands one to `openPlatform({ … }, { scheduleTarget })`; without one no
 * scheduler runs (schedules can still be created, listed, paused and deleted).
 */
export interface ScheduleTarget {
  /**
   * Starts a run of the schedule's pipeline (`schedule.pipelineSpec`, with `schedule.params`) for
   * this slot (ms since the epoch) and returns the pipeline run id.
   *
   * It must be idempotent per (schedule.id, slot): a server that stopped after this call but
   * before recording the run leaves the firing claimed, and the server that takes the claim over
   * calls it again for the same slot — that call must return the run the first one started (key
   * the run by `schedule:<id>:<slot>`), so a slot never starts two runs.
   */
  start(schedule: Schedule, slot: number): Promise<string>;
  /** Whether a pipeline run is still going (for the overlap policy). */
  isActive(pipelineRunId: string): Promise<boolean>;
}
