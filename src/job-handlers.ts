import { COMMAND_JOB, JobWorker, commandJobHandler, type JobHandler } from './jobs/index.js';
import type { Logger } from './logging/index.js';
import { PipelineReconciler, StepRunner, TRIAL_JOB, sweepExecutor, trialHandler, type StepServices } from './pipelines/index.js';
import type { Platform } from './platform.js';

export interface JobWorkerSetup {
  concurrency: number;
  leaseMs?: number | undefined;
  /** The server `run:` steps log to and smoke tests call; read when a step starts. */
  serverUrl: () => string | undefined;
  logger?: Logger | undefined;
}

/** The services steps act through, from one platform (part of the composition root). */
export function stepServicesFor(platform: Platform, serverUrl: () => string | undefined): StepServices {
  return {
    tracking: platform.tracking,
    registry: platform.registry,
    endpoints: platform.endpoints,
    rollouts: platform.rollouts,
    keys: platform.keys,
    artifacts: platform.artifacts,
    serverUrl,
    runStatus: async (id) => (await platform.pipelines.get(id)).status,
  };
}

/** Every kind of job a FluxOps worker runs, over one platform's services. */
export function jobHandlersFor(platform: Platform, serverUrl: () => string | undefined, logger?: Logger): Map<string, JobHandler> {
  const services = stepServicesFor(platform, serverUrl);
  const sweeps = platform.sweeps;
  const steps = new StepRunner(platform.pipelines, services, { sweep: sweepExecutor(sweeps, () => platform.jobs(), () => platform.wakeJobs()) }, logger);
  return new Map<string, JobHandler>([[COMMAND_JOB, commandJobHandler()], [TRIAL_JOB, trialHandler(sweeps, services)], ...steps.handlers()]);
}

/**
 * Adds a job worker (and the pipeline reconciler beside it) to the platform's lifecycle: what
 * `fluxops worker` runs, and what `fluxops server` runs in process on the embedded store.
 */
export async function addJobWorker(platform: Platform, setup: JobWorkerSetup): Promise<JobWorker> {
  const queue = await platform.jobs();
  const worker = new JobWorker(queue, jobHandlersFor(platform, setup.serverUrl, setup.logger), { concurrency: setup.concurrency, leaseMs: setup.leaseMs, logger: setup.logger });
  platform.onJobQueued(() => worker.wake());
  platform.lifecycle.add(worker);
  platform.lifecycle.add(new PipelineReconciler(platform.pipelines, () => platform.jobs(), 5000, setup.logger));
  return worker;
}
