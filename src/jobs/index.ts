export { JOB_STATES, LEASE_EXPIRED, type ClaimedJob, type JobQueue, type JobRecord, type JobSpec, type JobState, type JsonObject } from './job-queue.js';
export { KyselyJobQueue } from './kysely-job-queue.js';
export { PgBossJobQueue, type PgBossQueueOptions } from './pg-boss-job-queue.js';
export { openJobQueue, type OpenJobQueueOptions } from './open-job-queue.js';
export { JobWorker, newWorkerId, type JobContext, type JobHandler, type JobWorkerOptions } from './job-worker.js';
export { COMMAND_JOB, commandJobData, commandJobHandler, type CommandJobData } from './command-job.js';
export { describeCommandFailure, runCommand, type CommandInput, type CommandResult } from './run-command.js';
