export { ScheduleService, SYSTEM_CLOCK, type Clock, type ScheduleServiceOptions, type ValidateSpec } from './schedule-service.js';
export { KyselyScheduleStore } from './kysely-schedule-store.js';
export { Scheduler, type SchedulerOptions } from './scheduler.js';
export type { ScheduleTarget } from './schedule-target.js';
export type { ClaimOutcome, FiringPatch, ScheduleStore } from './schedule-store.js';
export { latestSlotBetween, MAX_SLOTS, nextSlot, parseCron, parseTimezone, slotsBetween } from './cron.js';
export * from './types.js';
