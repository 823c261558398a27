import type { Command } from 'commander';
import { FluxError, parseDuration, parseIntegerSetting } from '../../core/index.js';
import { addJobWorker } from '../../job-handlers.js';
import { COMMAND_JOB, JOB_STATES, commandJobData, type JobRecord, type JobState } from '../../jobs/index.js';
import { createLogger } from '../../logging/index.js';
import { openPlatform } from '../../platform.js';
import { startTracing } from '../../tracing/index.js';
import type { GlobalOptions } from '../context.js';
import { formatTime, printResult, renderTable } from '../output.js';

/** Jobs work on the store itself (a worker holds leases in it), never through a server. */
function localOnly(g: GlobalOptions, what: string): void {
  if ((g.url ?? process.env.FLUXOPS_URL ?? '') !== '') {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${what} works on the store directly: run it where FLUXOPS_DATABASE_URL (or --home) reaches the database, without --url`);
  }
}

function describeJob(j: JobRecord): string[] {
  const command = typeof j.data['command'] === 'string' ? j.data['command'] : JSON.stringify(j.data);
  return [j.id, j.kind, j.state, `${j.attempts}/${j.retryLimit + 1}`, formatTime(j.createdAt), formatTime(j.finishedAt), (j.error ?? command).slice(0, 60)];
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function registerJobs(program: Command): void {
  program
    .command('worker')
    .description('take jobs from the queue and run them (pipeline steps, sweep trials, commands) until stopped; run any number of them against one Postgres')
    .option('--concurrency <n>', 'jobs run at once', '2')
    .option('--lease <duration>', 'how long a job stays this worker\'s without a heartbeat; a killed worker\'s jobs are retried this long after', '10s')
    .option('--server-url <url>', 'the FluxOps server run: steps log to and smoke tests call (default: FLUXOPS_PUBLIC_URL)')
    .action(async (o: { concurrency: string; lease: string; serverUrl?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      localOnly(g, 'fluxops worker');
      const concurrency = parseIntegerSetting(o.concurrency, '--concurrency', 1, 256);
      const leaseMs = parseDuration(o.lease, '--lease');
      if (leaseMs < 500) throw new FluxError('INVALID_PARAMETER_VALUE', '--lease must be at least 500ms');
      const logger = createLogger({}, true);
      const tracing = await startTracing({ log: logger });
      const platform = await openPlatform({ home: g.home }, { logger }).catch(async (e: unknown) => {
        await tracing?.shutdown();
        throw e;
      });
      const queue = await platform.jobs();
      const serverUrl = o.serverUrl ?? process.env.FLUXOPS_PUBLIC_URL;
      const worker = await addJobWorker(platform, { concurrency, leaseMs, logger, serverUrl: () => (serverUrl === '' ? undefined : serverUrl) });
      await platform.start();
      process.stdout.write(`worker ${worker.id} taking jobs from ${platform.db.location} (${queue.name} queue), ${concurrency} at a time${tracing !== undefined ? `; traces: ${tracing.description}` : ''}\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) process.exit(130); // a second signal: now
          stopping = true;
          process.stderr.write(`${signal}: finishing running jobs (a second signal stops at once)\n`);
          void platform
            .close()
            .finally(() => tracing?.shutdown())
            .finally(resolve);
        };
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGTERM', () => stop('SIGTERM'));
      });
    });

  const jobs = program.command('jobs').description('the job queue: submit commands to the workers, list, show and cancel jobs');
  jobs
    .command('submit')
    .description('queue a shell command for a worker: fluxops jobs submit -- python3 train.py')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--retries <n>', 'attempts after the first when it fails or its worker dies', '0')
    .option('--retry-delay <duration>', 'wait before a retry (doubled each time with --backoff)', '0')
    .option('--backoff', 'double the retry delay for each attempt')
    .option('--timeout <duration>', 'stop the command (its whole process group) after this long')
    .option('--cwd <dir>', 'working folder on the worker (default: this folder)')
    .option('--count <n>', 'queue this many copies', '1')
    .action(async (words: string[], o: { retries: string; retryDelay: string; backoff?: boolean; timeout?: string; cwd?: string; count: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      localOnly(g, 'fluxops jobs');
      // One word is a command line as typed (quoted for the shell); several are arguments, each quoted.
      const command = words.length === 1 ? words[0]! : words.map(shellQuote).join(' ');
      const data = commandJobData({ command, cwd: o.cwd ?? process.cwd(), timeoutMs: o.timeout === undefined ? undefined : parseDuration(o.timeout, '--timeout') });
      const spec = { kind: COMMAND_JOB, data, retryLimit: parseIntegerSetting(o.retries, '--retries', 0, 100), retryDelayMs: parseDuration(o.retryDelay, '--retry-delay'), retryBackoff: o.backoff === true };
      const count = parseIntegerSetting(o.count, '--count', 1, 100_000);
      const platform = await openPlatform({ home: g.home });
      try {
        const queue = await platform.jobs();
        const ids: string[] = [];
        for (let i = 0; i < count; i++) ids.push(await queue.enqueue(spec));
        printResult(g, { ids }, () => ids.join('\n'));
      } finally {
        await platform.close();
      }
    });
  jobs
    .command('list')
    .description('jobs, newest first')
    .option('--state <state>', `only jobs in this state: ${JOB_STATES.join(', ')}`)
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { state?: string; limit: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      localOnly(g, 'fluxops jobs');
      if (o.state !== undefined && !(JOB_STATES as readonly string[]).includes(o.state)) throw new FluxError('INVALID_PARAMETER_VALUE', `--state must be one of ${JOB_STATES.join(', ')}; got '${o.state}'`);
      const limit = parseIntegerSetting(o.limit, '--limit', 1, 10_000);
      const platform = await openPlatform({ home: g.home });
      try {
        const queue = await platform.jobs();
        const list = await queue.list({ states: o.state === undefined ? undefined : [o.state as JobState], limit });
        const counts = await queue.counts();
        printResult(g, { jobs: list, counts }, () =>
          `${renderTable(['id', 'kind', 'state', 'attempts', 'created', 'finished', 'command / error'], list.map(describeJob))}\n${JOB_STATES.map((s) => `${s} ${counts[s]}`).join(', ')}`,
        );
      } finally {
        await platform.close();
      }
    });
  for (const [verb, what] of [
    ['show', 'one job: state, attempts, output or error'],
    ['cancel', 'cancel a queued or running job (a running command is stopped)'],
  ] as const) {
    jobs
      .command(`${verb} <id>`)
      .description(what)
      .action(async (id: string, _o: unknown, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        localOnly(g, 'fluxops jobs');
        const platform = await openPlatform({ home: g.home });
        try {
          const queue = await platform.jobs();
          if (verb === 'cancel' && !(await queue.cancel(id))) {
            const j = await queue.get(id);
            throw new FluxError(j === undefined ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_STATE', j === undefined ? `no job ${id}` : `job ${id} is ${j.state} already`);
          }
          const j = await queue.get(id);
          if (j === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `no job ${id}`);
          printResult(g, j, () => renderTable(['id', 'kind', 'state', 'attempts', 'created', 'finished', 'command / error'], [describeJob(j)]) + (j.output ? `\noutput: ${JSON.stringify(j.output)}` : ''));
        } finally {
          await platform.close();
        }
      });
  }
}
