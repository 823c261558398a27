import { FluxError } from '../core/index.js';
import type { JobHandler } from './job-worker.js';
import { describeCommandFailure, runCommand } from './run-command.js';

/** The kind of a job that runs a shell command on a worker (`fluxops jobs submit -- …`). */
export const COMMAND_JOB = 'command';

export interface CommandJobData {
  command: string;
  cwd?: string | undefined;
  timeout_ms?: number | undefined;
}

/** Checks a command job's data before it is queued, so a bad one is refused rather than failed later. */
export function commandJobData(raw: { command: string; cwd?: string | undefined; timeoutMs?: number | undefined }): Record<string, unknown> {
  if (raw.command.trim() === '') throw new FluxError('INVALID_PARAMETER_VALUE', 'the command is empty: give it after --', { field: 'command' });
  return { command: raw.command, ...(raw.cwd !== undefined ? { cwd: raw.cwd } : {}), ...(raw.timeoutMs !== undefined ? { timeout_ms: raw.timeoutMs } : {}) };
}

/**
 * Runs a command job: `/bin/sh -c` in its own process group with the job's id, attempt and
 * worker in FLUXOPS_JOB_ID / FLUXOPS_JOB_ATTEMPT / FLUXOPS_WORKER; exit 0 completes it with the
 * output's tail, anything else fails the attempt. A cancel or lost lease kills the group.
 */
export function commandJobHandler(): JobHandler {
  return async (job, ctx) => {
    const data = job.data as unknown as CommandJobData;
    const timeoutMs = typeof data.timeout_ms === 'number' ? data.timeout_ms : undefined;
    const r = await runCommand({
      command: String(data.command),
      cwd: typeof data.cwd === 'string' ? data.cwd : undefined,
      env: { FLUXOPS_JOB_ID: job.id, FLUXOPS_JOB_ATTEMPT: String(job.attempt), FLUXOPS_WORKER: ctx.worker },
      signal: ctx.signal,
      timeoutMs,
    });
    if (r.exitCode === 0) return { exit_code: 0, duration_ms: r.durationMs, output: r.tail.slice(-1000) };
    throw new Error(describeCommandFailure(r, timeoutMs));
  };
}
