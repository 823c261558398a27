import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { FluxError, parseDuration, type Component } from '../core/index.js';
import type { ClaimedJob, JobContext, JobHandler, JobQueue } from '../jobs/index.js';
import type { Logger } from '../logging/index.js';
import { STEP_ATTR, STEP_SPAN, tracing, type Tracing } from '../tracing/index.js';
import { interpolate } from './expressions.js';
import type { PipelineStep } from './parse-pipeline.js';
import { APPROVAL_EXPIRY_JOB, STEP_JOB, type PipelineService } from './pipeline-service.js';
import { CACHEABLE, StepTypes, type StepType } from './spec.js';
import { EXECUTORS, runStep, type StepContext, type StepExecutor, type StepServices } from './step-types.js';
import type { LogLine, Outputs, PipelineRun, StepRun } from './types.js';

const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: true, coerceTypes: false });
const inputValidators = new Map<string, ValidateFunction>(Object.entries(StepTypes).map(([t, s]) => [t, ajv.compile(s)]));

/** Extra step kinds provided from outside this file (the sweep). */
export type ExtraExecutors = Record<string, StepExecutor>;

/**
 * Runs steps on a worker: the `pipeline.step` job handler. It takes the step (queued → running,
 * conditional, so a job delivered again after its step ended does nothing), fills its inputs,
 * reuses an earlier run's outputs when the cache key matches, runs it under its timeout with
 * its output kept as the step's log, records the outcome, and advances the run. A failed attempt
 * is retried by the queue while retries remain; the last one fails the step.
 */
export class StepRunner {
  private readonly executors: Record<string, StepExecutor>;

  constructor(
    private readonly pipelines: PipelineService,
    private readonly services: StepServices,
    extra: ExtraExecutors = {},
    private readonly log?: Pick<Logger, 'warn' | 'error'>,
  ) {
    this.executors = { ...EXECUTORS, ...extra };
  }

  handlers(): Map<string, JobHandler> {
    return new Map<string, JobHandler>([
      [STEP_JOB, (job, ctx) => (tracing === undefined ? this.run(job, ctx) : this.traced(tracing, job, ctx))],
      [
        APPROVAL_EXPIRY_JOB,
        async (job) => {
          await this.pipelines.expireApproval(String(job.data['run']), String(job.data['step']));
          return {};
        },
      ],
    ]);
  }

  private async run(job: ClaimedJob, jctx: JobContext): Promise<Outputs> {
    const runId = String(job.data['run']);
    const stepName = String(job.data['step']);
    const store = this.pipelines.records;
    const run = await this.pipelines.get(runId);
    const s = run.steps.find((x) => x.step === stepName);
    if (s === undefined || (s.status !== 'queued' && s.status !== 'running') || s.jobId !== job.id) return { ignored: s?.status ?? 'no such step' };
    const now = Date.now();
    if (!(await store.moveStep(runId, stepName, ['queued', 'running'], { status: 'running', attempt: job.attempt, startedAt: s.startedAt ?? now }, undefined, { runActive: true }))) return { ignored: 'moved meanwhile' };
    // Every record from here on is this attempt's only: a worker that lost the job to a later attempt writes nothing.
    const mine = { attempt: job.attempt };
    const pipeline = await this.pipelines.pipelineOf(run);
    const def = pipeline.steps.find((x) => x.name === stepName)!;
    tracing?.annotate({ [STEP_ATTR.pipeline]: run.pipeline, [STEP_ATTR.type]: def.kind });
    const logs = new LogBuffer((lines) => store.appendLogs(runId, lines), stepName);
    const timeout = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let timeoutMs: number | undefined;
    const lineage: Partial<Pick<StepRun, 'trackingRunId' | 'modelName' | 'modelVersion'>> = {};
    if (job.attempt > 1) logs.add(`attempt ${job.attempt} of ${job.retryLimit + 1}`, 'system');
    try {
      const resolved = this.resolve(run, def);
      timeoutMs = def.def.timeout === undefined ? undefined : parseDuration(interpolate(def.def.timeout, this.pipelines.scopeOf(run)), `steps.${stepName}.timeout`);
      const baseDir = run.baseDir ?? process.cwd();
      const cacheKey = CACHEABLE.has(def.kind) && def.def.cache !== false ? cacheKeyOf(def, resolved, baseDir) : null;
      if (cacheKey !== null && !run.noCache) {
        const hit = await store.findCached(cacheKey);
        if (hit !== undefined) {
          logs.add(`inputs unchanged: reusing the outputs of ${hit.runId}/${hit.step.step} (cache key ${cacheKey.slice(0, 12)}); run with --no-cache to run it again`, 'system');
          await store.moveStep(runId, stepName, ['running'], { status: 'succeeded', inputs: resolved, outputs: hit.step.outputs, cacheKey, cachedFrom: hit.step.cachedFrom ?? `${hit.runId}/${hit.step.step}`, trackingRunId: hit.step.trackingRunId, modelName: hit.step.modelName, modelVersion: hit.step.modelVersion, error: null, finishedAt: Date.now() }, undefined, mine);
          await this.finish(logs, runId);
          return { cached: true };
        }
      }
      if (timeoutMs !== undefined) timer = setTimeout(() => timeout.abort(new Error(`timed out after ${def.def.timeout}`)), timeoutMs);
      const signal = AbortSignal.any([jctx.signal, timeout.signal]);
      const ctx: StepContext = {
        services: this.services,
        pipeline: run.pipeline,
        runId,
        step: stepName,
        baseDir,
        signal,
        timeoutMs,
        log: (text, stream = 'system') => logs.add(text, stream),
        lineage: (l) => Object.assign(lineage, l),
        releaseSlot: () => jctx.releaseSlot(),
      };
      const outputs = await this.execute(def, resolved, ctx);
      if (timeout.signal.aborted) throw timeout.signal.reason as Error;
      if (jctx.signal.aborted) throw jctx.signal.reason instanceof Error ? jctx.signal.reason : new Error('the job was lost');
      await store.moveStep(runId, stepName, ['running'], { status: 'succeeded', inputs: resolved, outputs, cacheKey, error: null, finishedAt: Date.now(), ...lineage }, undefined, mine);
      await this.finish(logs, runId);
      return { status: 'succeeded' };
    } catch (e) {
      clearTimeout(timer);
      if (jctx.signal.aborted) {
        // Cancelled (the step says so already) or the lease went to another worker: not ours to record.
        await logs.flush().catch(() => undefined);
        throw e;
      }
      const message = timeout.signal.aborted ? `timed out after ${def.def.timeout}` : e instanceof Error ? e.message : String(e);
      // A refusal (bad inputs, a missing file) would fail the same way again: no retry.
      const permanent = e instanceof FluxError && e.httpStatus < 500;
      const last = permanent || job.attempt > job.retryLimit;
      logs.add(`${last ? 'failed' : `attempt ${job.attempt} failed, retrying`}: ${message}`, 'system');
      if (!last) {
        await store.moveStep(runId, stepName, ['running'], { error: message, ...lineage }, undefined, mine);
        await logs.flush().catch(() => undefined);
        throw e instanceof Error ? e : new Error(message);
      }
      await store.moveStep(runId, stepName, ['running'], { status: 'failed', error: message, finishedAt: Date.now(), ...lineage }, undefined, mine);
      await this.finish(logs, runId);
      return { status: 'failed', error: message };
    } finally {
      clearTimeout(timer);
    }
  }

  /** `run` inside a `fluxops.pipeline.step` span (tracing on only): one span per attempt, with its outcome. */
  private traced(t: Tracing, job: ClaimedJob, jctx: JobContext): Promise<Outputs> {
    const attributes = { [STEP_ATTR.runId]: String(job.data['run']), [STEP_ATTR.step]: String(job.data['step']), [STEP_ATTR.attempt]: job.attempt };
    return t.inSpan(STEP_SPAN, attributes, async (span) => {
      try {
        const out = await this.run(job, jctx);
        const outcome = out['ignored'] !== undefined ? 'ignored' : out['cached'] === true ? 'cached' : String(out['status']);
        span.setAttribute(STEP_ATTR.outcome, outcome);
        if (outcome === 'failed') t.fail(span, String(out['error']));
        return out;
      } catch (e) {
        span.setAttribute(STEP_ATTR.outcome, jctx.signal.aborted ? 'aborted' : 'retrying');
        throw e;
      }
    });
  }

  private async finish(logs: LogBuffer, runId: string): Promise<void> {
    await logs.flush();
    await this.pipelines.advance(runId);
  }

  /** The step's inputs with its expressions filled, checked against its type's schema (defaults applied). */
  private resolve(run: PipelineRun, def: PipelineStep): Record<string, unknown> {
    const scope = this.pipelines.scopeOf(run);
    if (def.kind === 'run') {
      const env = interpolate(def.def.env ?? {}, scope) as Record<string, unknown>;
      const cwd = def.def.working_directory === undefined ? null : String(interpolate(def.def.working_directory, scope));
      return { command: String(interpolate(def.def.run, scope)), env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])), working_directory: cwd };
    }
    // A sweep's trial templates (`${{ trial.C }}`) are filled per trial, not now.
    const inputs = interpolate(def.def.with ?? {}, scope, def.kind === 'sweep' ? 'trial' : undefined) as Record<string, unknown>;
    const validate = inputValidators.get(def.kind);
    if (validate !== undefined && !validate(inputs)) {
      const e = validate.errors?.[0];
      const where = `steps.${def.name}.with${(e?.instancePath ?? '').replace(/\//g, '.')}`;
      throw new FluxError('INVALID_PARAMETER_VALUE', `${where} ${e?.message ?? 'is not valid'} once its expressions were filled (got ${JSON.stringify(inputs).slice(0, 200)})`, { field: where });
    }
    return inputs;
  }

  private execute(def: PipelineStep, inputs: Record<string, unknown>, ctx: StepContext): Promise<Outputs> {
    if (def.kind === 'run') {
      return runStep(String(inputs['command']), inputs['env'] as Record<string, string>, (inputs['working_directory'] as string | null) ?? undefined, ctx);
    }
    const exec = this.executors[def.kind as StepType];
    if (exec === undefined) throw new FluxError('NOT_IMPLEMENTED', `step type ${def.kind} is not available in this worker`);
    return exec(inputs, ctx);
  }
}

/**
 * A step's cache key: its kind and filled inputs, and the content of the files it reads (the
 * data of train/evaluate/sweep, the `inputs:` of a run step), so an edited CSV is a new key.
 */
function cacheKeyOf(def: PipelineStep, inputs: Record<string, unknown>, baseDir: string): string {
  const files = def.kind === 'run' ? (def.def.inputs ?? []) : typeof inputs['data'] === 'string' ? [inputs['data']] : [];
  const h = createHash('sha256').update(JSON.stringify({ kind: def.kind, inputs, timeout: def.def.timeout ?? null }));
  for (const f of files) {
    const full = path.resolve(baseDir, f);
    h.update(`\0${f}\0`);
    h.update(fs.existsSync(full) && fs.statSync(full).isFile() ? fs.readFileSync(full) : 'missing');
  }
  return h.digest('hex');
}

/** A step's output lines, written in batches (every 250 ms and at the end). */
class LogBuffer {
  private pending: Array<Omit<LogLine, 'id'>> = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (lines: Array<Omit<LogLine, 'id'>>) => Promise<void>,
    private readonly step: string,
  ) {}

  add(text: string, stream: LogLine['stream']): void {
    this.pending.push({ step: this.step, stream, text: text.length > 65_536 ? `${text.slice(0, 65_536)}…` : text, time: Date.now() });
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), 250);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.pending;
    this.pending = [];
    // One failed write must not fail every later one.
    this.writing = this.writing.catch(() => undefined).then(() => (lines.length > 0 ? this.write(lines) : undefined));
    return this.writing;
  }
}

/**
 * Watches running pipeline runs for what no job will report (every `intervalMs`, on every
 * server and worker): a step whose job failed for good without its handler (its worker died on
 * the last attempt, the lease expired) or was lost, and approvals past their deadline; then
 * advances the run. Also re-enqueues a queued step whose enqueue a crash interrupted.
 */
export class PipelineReconciler implements Component {
  readonly name = 'pipeline reconciler';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pipelines: PipelineService,
    private readonly jobs: () => Promise<JobQueue>,
    private readonly intervalMs = 5000,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((e: unknown) => this.log?.warn({ err: e }, 'pipeline reconciliation failed'))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    const q = await this.jobs();
    for (const run of await this.pipelines.list({ statuses: ['running'], limit: 1000 })) {
      try {
        await this.reconcile(run, q);
      } catch (e) {
        // One run that cannot be moved on must not hold up the others.
        this.log?.warn({ err: e, pipelineRun: run.id }, 'pipeline run could not be reconciled');
      }
    }
  }

  private async reconcile(run: PipelineRun, q: JobQueue): Promise<void> {
    {
      for (const s of run.steps) {
        if (s.status === 'waiting' && s.expiresAt !== null && s.expiresAt < Date.now()) await this.pipelines.expireApproval(run.id, s.step);
        if ((s.status !== 'queued' && s.status !== 'running') || s.jobId === null) continue;
        const job = await q.get(s.jobId);
        if (job !== undefined && job.state !== 'failed' && job.state !== 'cancelled') continue;
        if (job === undefined && s.status === 'queued') continue; // advance enqueues it again
        const error = job === undefined ? 'its job was lost' : `its job ${job.state}: ${job.error ?? 'no reason given'}`;
        await this.pipelines.records.moveStep(run.id, s.step, ['queued', 'running'], { status: 'failed', error, finishedAt: Date.now() }, undefined, { attempt: s.attempt });
      }
      await this.pipelines.advance(run.id);
    }
  }
}
