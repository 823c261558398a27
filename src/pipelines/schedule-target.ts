import type { Schedule, ScheduleTarget } from '../schedules/index.js';
import type { PipelineService } from './pipeline-service.js';

/**
 * Schedules start pipeline runs through this: one run per (schedule, slot), keyed so that a
 * scheduler taking a slot over after a crash gets the run the first one started.
 */
export function pipelineScheduleTarget(pipelines: PipelineService): ScheduleTarget {
  return {
    async start(schedule: Schedule, slot: number): Promise<string> {
      const run = await pipelines.start(
        { text: schedule.pipelineSpec, source: `schedule ${schedule.name}`, params: schedule.params, trigger: `schedule:${schedule.name}`, key: `schedule:${schedule.id}:${slot}` },
        { actor: `schedule:${schedule.name}` },
      );
      return run.id;
    },
    async isActive(pipelineRunId: string): Promise<boolean> {
      return (await pipelines.get(pipelineRunId)).status === 'running';
    },
  };
}
