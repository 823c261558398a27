import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildApp } from '../../api/index.js';
import type { PipelinesApi } from '../../client/index.js';
import { FluxError } from '../../core/index.js';
import { addJobWorker } from '../../job-handlers.js';
import { createLogger } from '../../logging/index.js';
import { parsePipeline, summarizePipeline, PIPELINE_RUN_STATUSES, type PipelineRun, type PipelineRunStatus, type StepRun } from '../../pipelines/index.js';
import { openPlatform } from '../../platform.js';
import { openBackend, pipelinesOf, withBackend, type GlobalOptions } from '../context.js';
import { checkInputFile } from '../file-flags.js';
import { EXIT, formatTime, printResult, renderTable } from '../output.js';
import { collect, parseParamFlags } from './train.js';


function readSpec(file: string): string {
  checkInputFile('the pipeline file', file);
  return fs.readFileSync(file, 'utf8');
}

const MARK: Record<string, string> = { pending: '·', queued: '…', running: '▶', waiting: '⏸', succeeded: '✓', failed: '✗', skipped: '-', cancelled: '■' };

function seconds(s: StepRun): string {
  return s.startedAt !== null && s.finishedAt !== null ? `${((s.finishedAt - s.startedAt) / 1000).toFixed(1)} s` : '-';
}

function summary(s: StepRun): string {
  if (s.status === 'failed' || s.status === 'skipped' || s.status === 'cancelled') return s.error ?? '';
  if (s.status === 'waiting') return `waiting for an approver until ${formatTime(s.expiresAt)}`;
  if (s.cachedFrom !== null) return `reused from ${s.cachedFrom}`;
  if (s.outputs === null) return '';
  const o = s.outputs;
  const pick = ['improved', 'f1', 'version', 'rollout', 'state', 'approved', 'by', 'passed', 'best_value', 'exit_code'].filter((k) => k in o);
  return pick.map((k) => `${k}=${typeof o[k] === 'number' && !Number.isInteger(o[k]) ? (o[k]).toFixed(4) : JSON.stringify(o[k])}`).join(' ');
}

export function describeRun(r: PipelineRun): string {
  const head = `pipeline run ${r.id} of ${r.pipeline}: ${r.status}${r.reason ? ` — ${r.reason}` : ''}\nstarted ${formatTime(r.createdAt)}${r.startedBy ? ` by ${r.startedBy}` : ''} (${r.trigger})${r.retryOf ? `, retry of ${r.retryOf}` : ''}; params ${JSON.stringify(r.params)}`;
  const table = renderTable(
    ['', 'step', 'kind', 'status', 'attempt', 'time', 'outputs / why'],
    r.steps.map((s) => [MARK[s.status] ?? '', s.step, s.kind, s.status, s.attempt, seconds(s), summary(s).slice(0, 90)]),
  );
  return `${head}\n${table}`;
}

const EXIT_FOR: Record<PipelineRunStatus, number> = { running: EXIT.ok, succeeded: EXIT.ok, failed: EXIT.failure, cancelled: EXIT.failure };

/**
 * Prints a run's progress until it ends: each step's moves and its log lines as they come, and,
 * when a step waits, how to approve it. Returns the run as it ended.
 */
async function follow(api: PipelinesApi, id: string, quiet: boolean, how = 'fluxops pipelines'): Promise<PipelineRun> {
  const seen = new Map<string, string>();
  let after = 0;
  for (;;) {
    const run = await api.getPipelineRun(id);
    const page = await api.pipelineLogs(id, { after, limit: 5000 });
    after = page.nextAfter;
    if (!quiet) {
      for (const l of page.lines) for (const line of l.text.replace(/\n$/, '').split('\n')) process.stdout.write(`[${l.step}] ${line}\n`);
      for (const s of run.steps) {
        if (seen.get(s.step) === s.status) continue;
        seen.set(s.step, s.status);
        if (s.status === 'pending' || s.status === 'queued') continue;
        const why = summary(s);
        process.stdout.write(`${MARK[s.status]} ${s.step} ${s.status}${s.status === 'succeeded' ? ` (${seconds(s)})` : ''}${why ? `: ${why}` : ''}\n`);
        if (s.status === 'waiting') process.stdout.write(`  approve: ${how} approve ${id}${run.steps.filter((x) => x.status === 'waiting').length > 1 ? ` --step ${s.step}` : ''}  ·  reject: ${how} reject ${id} --reason '…'\n`);
      }
    }
    if (run.status !== 'running' && page.lines.length === 0) return run;
    await new Promise((r) => setTimeout(r, page.lines.length > 0 ? 50 : 400));
  }
}

/**
 * Runs a pipeline from the local home in this process: the store's job queue with a worker, and
 * the API on a loopback port for `run:` steps to log to (their MLFLOW_TRACKING_URI) and smoke
 * tests to call — what `fluxops server` would do, for as long as the run lasts.
 */
async function runLocally(g: GlobalOptions, start: (api: PipelinesApi) => Promise<PipelineRun>, quiet: boolean): Promise<PipelineRun> {
  // The run's own output is what this command shows; the embedded server logs only trouble.
  const logger = createLogger({ level: process.env.FLUXOPS_LOG_LEVEL ?? 'warn' }, true);
  const platform = await openPlatform({ home: g.home }, { logger });
  const app = await buildApp({ platform, logger, auth: 'off' });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const url = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : undefined;
    await addJobWorker(platform, { concurrency: 4, serverUrl: () => process.env.FLUXOPS_PUBLIC_URL || url, logger });
    await platform.start();
    const api = pipelinesOf(platform);
    const run = await start(api);
    if (!quiet) process.stdout.write(`pipeline run ${run.id} of ${run.pipeline} started (${run.steps.length} steps; this process runs them — Ctrl-C stops following, the run stays)\n`);
    const stop = new Promise<PipelineRun>((resolve) => process.once('SIGINT', () => void api.getPipelineRun(run.id).then(resolve)));
    return await Promise.race([follow(api, run.id, quiet), stop]);
  } finally {
    await app.close();
    await platform.close();
  }
}

export function registerPipelines(program: Command): void {
  const pipelines = program.command('pipelines').description('pipelines as code: validate a file, run it (train → compare → approve → register → deploy), follow, approve, cancel, retry');
  pipelines
    .command('validate <file>')
    .description('check a pipeline file against its schema and its DAG; errors give line and column')
    .action((file: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const p = parsePipeline(readSpec(file), file);
      printResult(g, summarizePipeline(p), () =>
        `${file}: pipeline ${p.name} is valid, ${p.steps.length} steps\n${p.steps.map((s) => `  ${s.name} (${s.kind})${s.needs.length > 0 ? ` ← ${s.needs.join(', ')}` : ''}${s.def.if ? `  if ${s.def.if}` : ''}`).join('\n')}`,
      );
    });
  pipelines
    .command('run <file>')
    .description('start a run of a pipeline file and follow it until it ends (exit 0 when it succeeds, 1 when it fails)')
    .option('--param <name=value>', 'a param of the pipeline (repeatable)', collect, [])
    .option('--no-cache', 'run every step, even those whose inputs match an earlier run')
    .option('--detach', 'start it and return: a server or `fluxops worker` on this store runs it')
    .action(async (file: string, o: { param: string[]; cache: boolean; detach?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const spec = readSpec(file);
      parsePipeline(spec, file); // refused here, with line and column, before anything is opened
      const input = { spec, source: file, params: parseParamFlags(o.param), baseDir: path.dirname(path.resolve(file)), noCache: !o.cache };
      const remote = (g.url ?? process.env.FLUXOPS_URL ?? '') !== '';
      let run: PipelineRun;
      if (remote || o.detach === true) {
        const b = await openBackend(g);
        try {
          run = await b.pipelines.startPipelineRun(input);
          if (o.detach !== true) {
            if (!g.json) process.stdout.write(`pipeline run ${run.id} of ${run.pipeline} started on ${b.where}\n`);
            run = await follow(b.pipelines, run.id, g.json === true, `fluxops --url ${b.where} pipelines`);
          }
        } finally {
          await b.close();
        }
      } else {
        run = await runLocally(g, (api) => api.startPipelineRun(input), g.json === true);
      }
      printResult(g, run, () => (o.detach === true ? `pipeline run ${run.id} of ${run.pipeline} queued; follow it with: fluxops pipelines logs ${run.id} -f` : describeRun(run)));
      process.exitCode = EXIT_FOR[run.status];
    });
  pipelines
    .command('register <file>')
    .description("register a pipeline's event triggers (its on: list): each matching event starts a run; registering again replaces them")
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const spec = readSpec(file);
      parsePipeline(spec, file);
      await withBackend(g, async (b) => {
        const triggers = await b.pipelines.registerPipeline(spec, file, path.dirname(path.resolve(file)));
        printResult(g, triggers, () => `registered ${triggers[0]?.pipeline}: ${triggers.map((t) => `on ${t.event}${Object.keys(t.filter).length > 0 ? ` where ${Object.entries(t.filter).map(([k, v]) => `${k}=${String(v)}`).join(', ')}` : ''}`).join('; ')}`);
      });
    });
  pipelines
    .command('triggers')
    .description('registered pipelines and the events that start them')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.pipelines.listPipelineTriggers();
        printResult(g, list, () => renderTable(['pipeline', 'event', 'filter', 'params', 'registered'], list.map((t) => [t.pipeline, t.event, JSON.stringify(t.filter), JSON.stringify(t.params), formatTime(t.createdAt)])));
      });
    });
  pipelines
    .command('unregister <name>')
    .description("remove a registered pipeline's triggers")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.pipelines.unregisterPipeline(name);
        printResult(g, { unregistered: name }, () => `unregistered ${name}`);
      });
    });
  pipelines
    .command('list')
    .description('pipeline runs, newest first')
    .option('--pipeline <name>', 'only runs of this pipeline')
    .option('--status <status>', `only runs in this status: ${PIPELINE_RUN_STATUSES.join(', ')}`)
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { pipeline?: string; status?: string; limit: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (o.status !== undefined && !(PIPELINE_RUN_STATUSES as readonly string[]).includes(o.status)) throw new FluxError('INVALID_PARAMETER_VALUE', `--status must be one of ${PIPELINE_RUN_STATUSES.join(', ')}; got '${o.status}'`);
      await withBackend(g, async (b) => {
        const runs = await b.pipelines.listPipelineRuns({ pipeline: o.pipeline, status: o.status as PipelineRunStatus | undefined, limit: Number(o.limit) });
        printResult(g, runs, () =>
          renderTable(
            ['run', 'pipeline', 'status', 'trigger', 'started', 'steps'],
            runs.map((r) => [r.id, r.pipeline, r.status, r.trigger, formatTime(r.createdAt), r.steps.map((s) => `${MARK[s.status]}${s.step}`).join(' ')]),
          ),
        );
      });
    });
  pipelines
    .command('show <run>')
    .description("a run: its steps' status, attempts, time, outputs, lineage and why one failed")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const run = await b.pipelines.getPipelineRun(id);
        printResult(g, run, () => describeRun(run));
      });
    });
  pipelines
    .command('logs <run>')
    .description("a run's logs (each step's output and what FluxOps did)")
    .option('--step <step>', 'only this step')
    .option('-f, --follow', 'keep printing until the run ends')
    .action(async (id: string, o: { step?: string; follow?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        let after = 0;
        for (;;) {
          const page = await b.pipelines.pipelineLogs(id, { after, step: o.step, limit: 5000 });
          for (const l of page.lines) {
            if (g.json) process.stdout.write(`${JSON.stringify(l)}\n`);
            else for (const line of l.text.replace(/\n$/, '').split('\n')) process.stdout.write(`${o.step ? '' : `[${l.step}] `}${line}\n`);
          }
          after = page.nextAfter;
          if (o.follow !== true || (page.status !== 'running' && page.lines.length === 0)) break;
          await new Promise((r) => setTimeout(r, page.lines.length > 0 ? 50 : 400));
        }
      });
    });
  for (const decision of ['approve', 'reject'] as const) {
    pipelines
      .command(`${decision} <run>`)
      .description(decision === 'approve' ? "approve the run's waiting approval step (an approver key with --url); recorded in the audit log" : 'reject the waiting approval step: the run fails, with your reason')
      .option('--step <step>', 'the waiting step, when several wait')
      .option('--reason <text>', 'why (kept with the decision)')
      .action(async (id: string, o: { step?: string; reason?: string }, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        await withBackend(g, async (b) => {
          const run = await b.pipelines.decidePipelineRun(id, decision, { step: o.step, reason: o.reason });
          printResult(g, run, () => describeRun(run));
        });
      });
  }
  pipelines
    .command('cancel <run>')
    .description('cancel a running run: steps not ended are cancelled, running commands stopped')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const run = await b.pipelines.cancelPipelineRun(id);
        printResult(g, run, () => describeRun(run));
      });
    });
  pipelines
    .command('retry <run>')
    .description('a new run of a failed or cancelled run: its succeeded steps are reused, the failed ones and what depends on them run again')
    .option('--detach', 'start it and return')
    .action(async (id: string, o: { detach?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const remote = (g.url ?? process.env.FLUXOPS_URL ?? '') !== '';
      let run: PipelineRun;
      if (remote || o.detach === true) {
        run = await withBackend(g, async (b) => {
          const r = await b.pipelines.retryPipelineRun(id);
          return o.detach === true ? r : follow(b.pipelines, r.id, g.json === true);
        });
      } else {
        run = await runLocally(g, (api) => api.retryPipelineRun(id), g.json === true);
      }
      printResult(g, run, () => describeRun(run));
      process.exitCode = EXIT_FOR[run.status];
    });
}
