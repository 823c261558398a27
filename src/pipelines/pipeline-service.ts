import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../storage/db/index.js';
import { FluxError, parseDuration } from '../core/index.js';
import type { NewEvent, WriteContext } from '../events/index.js';
import type { JobQueue } from '../jobs/index.js';
import { evaluate, interpolate, truthy, type Scope } from './expressions.js';
import { parsePipeline, type Pipeline, type PipelineStep } from './parse-pipeline.js';
import type { PipelineStore } from './pipeline-store.js';
import { TERMINAL_STEP, type LogLine, type PipelineRun, type PipelineRunStatus, type StepRun } from './types.js';

/** The job that runs one step on a worker, and the one that expires an approval. */
export const STEP_JOB = 'pipeline.step';
export const APPROVAL_EXPIRY_JOB = 'pipeline.approval-expiry';

export const RUN_ID_PATTERN = /^pr-[0-9a-f]{12}$/;
/** Moves onward happen only while the run runs. */
const ACTIVE = { runActive: true } as const;
const OPEN_STEP = ['pending', 'queued', 'running', 'waiting'] as const;
const DEFAULT_APPROVAL_TIMEOUT = '24h';

export interface StartInput {
  /** The pipeline file's text, and what to call it in messages. */
  text: string;
  source?: string | undefined;
  params?: Record<string, unknown> | undefined;
  /** Relative paths in the file are resolved against it (the file's folder). */
  baseDir?: string | undefined;
  noCache?: boolean | undefined;
  /** `manual` (default), `schedule:<name>`, `event:<type>`. */
  trigger?: string | undefined;
  /**
   * Makes the start idempotent: the run's id is derived from it, so a second start with the same
   * key (a scheduler taking over a slot, an event delivered twice) returns the first run.
   */
  key?: string | undefined;
}

export interface Decision {
  step?: string | undefined;
  reason?: string | undefined;
}

/**
 * Pipeline runs: start, advance through the DAG, approvals, cancel, retry. `advance` is the one
 * place that moves a run on, and is safe to call from anywhere at any time (after a run starts,
 * when a step ends, after an approval, from the reconciler): every move is a conditional update
 * of the step (pending → queued/waiting/skipped), and a step's job id is chosen in that update
 * and the job enqueued after it, so a repeat only re-enqueues the same id (a no-op).
 */
export class PipelineService {
  /** Parsed pipelines by hash; a few hundred at most (the oldest goes first). */
  private readonly specs = new Map<string, Pipeline>();

  constructor(
    private readonly store: PipelineStore,
    private readonly jobs: () => Promise<JobQueue>,
    /** Called after a job is queued, so a worker in this process looks at once. */
    private readonly onQueued: () => void = () => undefined,
  ) {}

  validate(text: string, source?: string): Pipeline {
    return parsePipeline(text, source);
  }

  async start(input: StartInput, ctx?: WriteContext): Promise<PipelineRun> {
    const pipeline = parsePipeline(input.text, input.source);
    const params = resolveParams(pipeline, input.params ?? {});
    const now = Date.now();
    const id = input.key === undefined ? `pr-${randomBytes(6).toString('hex')}` : `pr-${createHash('sha256').update(input.key).digest('hex').slice(0, 12)}`;
    if (input.key !== undefined) {
      const existing = await this.store.getRun(id);
      if (existing !== undefined) return existing;
    }
    const run: Omit<PipelineRun, 'steps'> = {
      id,
      pipeline: pipeline.name,
      specHash: pipeline.hash,
      params,
      status: 'running',
      trigger: input.trigger ?? 'manual',
      startedBy: ctx?.actor ?? null,
      baseDir: input.baseDir ?? null,
      noCache: input.noCache === true,
      retryOf: null,
      reason: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    try {
      await this.store.createRun(run, pipeline.text, pipeline.steps.map((s, i) => pendingStep(s, i, now)), startedEvent(run, ctx));
    } catch (e) {
      // The same key started by another server at the same moment: its run is the one.
      const existing = input.key !== undefined && isUniqueViolation(e) ? await this.store.getRun(id) : undefined;
      if (existing === undefined) throw e;
      return existing;
    }
    return this.advance(id);
  }

  async get(id: string): Promise<PipelineRun> {
    if (!RUN_ID_PATTERN.test(id)) throw new FluxError('INVALID_PARAMETER_VALUE', `'${id}' is not a pipeline run id (pr- and 12 hex digits)`, { field: 'id' });
    const run = await this.store.getRun(id);
    if (run === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `no pipeline run ${id}`);
    return run;
  }

  list(q: { pipeline?: string | undefined; statuses?: readonly PipelineRunStatus[] | undefined; limit?: number | undefined } = {}): Promise<PipelineRun[]> {
    return this.store.listRuns({ ...q, limit: Math.min(Math.max(q.limit ?? 50, 1), 1000) });
  }

  async logs(id: string, q: { after?: number | undefined; step?: string | undefined; limit?: number | undefined } = {}): Promise<LogLine[]> {
    await this.get(id);
    return this.store.readLogs(id, { after: q.after ?? 0, step: q.step, limit: Math.min(Math.max(q.limit ?? 1000, 1), 10_000) });
  }

  /** The parsed pipeline of a run (cached by its hash). */
  async pipelineOf(run: PipelineRun): Promise<Pipeline> {
    const cached = this.specs.get(run.specHash);
    if (cached !== undefined) return cached;
    const text = await this.store.getSpec(run.id);
    if (text === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `no pipeline run ${run.id}`);
    const p = parsePipeline(text, run.pipeline);
    if (this.specs.size >= 256) this.specs.delete(this.specs.keys().next().value!);
    this.specs.set(run.specHash, p);
    return p;
  }

  /** What expressions of this run can read now. */
  scopeOf(run: PipelineRun): Scope {
    return {
      params: run.params,
      steps: Object.fromEntries(run.steps.map((s) => [s.step, { status: s.status, outputs: s.outputs ?? {} }])),
      run: { id: run.id, trigger: run.trigger, started_by: run.startedBy },
      pipeline: { name: run.pipeline },
    };
  }

  /** Moves the run on as far as it can go now; returns it as it then is. */
  async advance(id: string): Promise<PipelineRun> {
    for (let round = 0; round < 1000; round++) {
      const run = await this.get(id);
      if (run.status !== 'running') return run;
      const pipeline = await this.pipelineOf(run);
      const byName = new Map(run.steps.map((s) => [s.step, s]));
      let moved = false;
      for (const def of pipeline.steps) {
        const s = byName.get(def.name)!;
        if (s.status === 'queued' && s.jobId !== null) await this.enqueueStep(run, def, s.jobId); // repeat after a crash: same id, no-op
        if (s.status !== 'pending') continue;
        const needs = def.needs.map((n) => byName.get(n)!);
        if (!needs.every((n) => TERMINAL_STEP.has(n.status))) continue;
        try {
          moved = (await this.ready(run, pipeline, def, needs)) || moved;
        } catch (e) {
          // A value known only now that does not do (a retry delay or timeout from a param): the step fails, the run goes on.
          if (!(e instanceof FluxError && e.httpStatus < 500)) throw e;
          moved = (await this.store.moveStep(id, def.name, ['pending'], { status: 'failed', error: e.message, finishedAt: Date.now() }, undefined, ACTIVE)) || moved;
        }
      }
      if (moved) continue;
      if (run.steps.every((s) => TERMINAL_STEP.has(s.status))) {
        const failed = run.steps.find((s) => s.status === 'failed' || s.status === 'cancelled');
        const event: NewEvent = failed
          ? { type: 'pipeline.run.failed', payload: { pipeline_run: id, pipeline: run.pipeline, step: failed.step, reason: failed.error ?? 'failed' }, actor: null }
          : { type: 'pipeline.run.succeeded', payload: { pipeline_run: id, pipeline: run.pipeline }, actor: null };
        await this.store.finishRun(id, failed ? 'failed' : 'succeeded', failed ? `step ${failed.step} failed: ${failed.error ?? ''}` : null, event);
        return this.get(id);
      }
      return run;
    }
    throw new Error(`pipeline run ${id} did not settle`);
  }

  /** A step whose needs have ended: skipped, waiting for approval, or queued. True when it moved. */
  private async ready(run: PipelineRun, pipeline: Pipeline, def: PipelineStep, needs: StepRun[]): Promise<boolean> {
    const now = Date.now();
    const unmet = needs.find((n) => n.status !== 'succeeded');
    if (unmet !== undefined) {
      return this.store.moveStep(run.id, def.name, ['pending'], { status: 'skipped', error: `needs ${unmet.step}, which ${unmet.status === 'failed' ? 'failed' : `was ${unmet.status}`}`, finishedAt: now }, undefined, ACTIVE);
    }
    if (def.condition !== undefined) {
      const value = evaluate(def.condition, this.scopeOf(run));
      if (!truthy(value)) return this.store.moveStep(run.id, def.name, ['pending'], { status: 'skipped', error: `if: ${def.def.if} was false`, finishedAt: now }, undefined, ACTIVE);
    }
    if (def.kind === 'approve') {
      const inputs = interpolate(def.def.with ?? {}, this.scopeOf(run)) as Record<string, unknown>;
      const timeoutMs = parseDuration(inputs['timeout'] ?? DEFAULT_APPROVAL_TIMEOUT, `steps.${def.name}.with.timeout`);
      const expiresAt = now + timeoutMs;
      const moved = await this.store.moveStep(run.id, def.name, ['pending'], { status: 'waiting', inputs, expiresAt, startedAt: now }, {
        type: 'approval.requested',
        payload: { pipeline_run: run.id, pipeline: run.pipeline, step: def.name, expires_at: expiresAt },
        actor: null,
      }, ACTIVE);
      if (moved) {
        const q = await this.jobs();
        await q.enqueue({ kind: APPROVAL_EXPIRY_JOB, data: { run: run.id, step: def.name }, startAfter: expiresAt });
      }
      return moved;
    }
    const jobId = randomUUID();
    const moved = await this.store.moveStep(run.id, def.name, ['pending'], { status: 'queued', jobId }, undefined, ACTIVE);
    if (moved) await this.enqueueStep(run, def, jobId);
    return moved;
  }

  private async enqueueStep(run: PipelineRun, def: PipelineStep, jobId: string): Promise<void> {
    const q = await this.jobs();
    await q.enqueue({
      kind: STEP_JOB,
      id: jobId,
      data: { run: run.id, step: def.name },
      // A sweep keeps its state in the store: a new attempt after its worker died resumes it.
      retryLimit: def.def.retries ?? (def.kind === 'sweep' ? 2 : 0),
      retryDelayMs: def.def.retry_delay === undefined ? 0 : parseDuration(interpolate(def.def.retry_delay, this.scopeOf(run)), `steps.${def.name}.retry_delay`),
      retryBackoff: def.def.retry_backoff === true,
    });
    this.onQueued();
  }

  approve(id: string, d: Decision, ctx?: WriteContext): Promise<PipelineRun> {
    return this.decide(id, d, true, ctx);
  }

  reject(id: string, d: Decision, ctx?: WriteContext): Promise<PipelineRun> {
    return this.decide(id, d, false, ctx);
  }

  private async decide(id: string, d: Decision, approved: boolean, ctx?: WriteContext): Promise<PipelineRun> {
    const run = await this.get(id);
    const waiting = run.steps.filter((s) => s.status === 'waiting' && (d.step === undefined || s.step === d.step));
    if (waiting.length === 0) {
      const named = d.step !== undefined ? run.steps.find((s) => s.step === d.step) : undefined;
      if (d.step !== undefined && named === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `pipeline run ${id} has no step ${d.step}`);
      throw new FluxError('INVALID_STATE', named ? `step ${named.step} of ${id} is ${named.status}, not waiting for approval` : `pipeline run ${id} (${run.status}) has no step waiting for approval`);
    }
    if (waiting.length > 1) throw new FluxError('INVALID_PARAMETER_VALUE', `pipeline run ${id} has ${waiting.length} steps waiting (${waiting.map((s) => s.step).join(', ')}): name one with --step`, { field: 'step' });
    const step = waiting[0]!;
    const by = ctx?.actor ?? null;
    if (step.inputs?.['distinct_approver'] === true && run.startedBy !== null && by === run.startedBy) {
      throw new FluxError('PERMISSION_DENIED', `step ${step.step} needs an approver other than ${by}, who started the run`);
    }
    const reason = (d.reason ?? '').trim() || (approved ? 'approved' : 'rejected');
    const now = Date.now();
    const moved = await this.store.moveStep(
      id,
      step.step,
      ['waiting'],
      approved
        ? { status: 'succeeded', outputs: { approved: true, by, reason }, decidedBy: by, decisionReason: reason, finishedAt: now }
        : { status: 'failed', outputs: { approved: false, by, reason }, error: `rejected by ${by ?? 'a local user'}: ${reason}`, decidedBy: by, decisionReason: reason, finishedAt: now },
      { type: approved ? 'approval.granted' : 'approval.rejected', payload: { pipeline_run: id, pipeline: run.pipeline, step: step.step, by, reason }, actor: by },
    );
    if (!moved) throw new FluxError('INVALID_STATE', `step ${step.step} of ${id} was decided or cancelled meanwhile`);
    return this.advance(id);
  }

  /** Fails an approval whose time ran out (the expiry job); nothing when it was decided meanwhile. */
  async expireApproval(id: string, step: string): Promise<void> {
    const run = await this.get(id);
    const s = run.steps.find((x) => x.step === step);
    if (s?.status !== 'waiting' || (s.expiresAt ?? 0) > Date.now() + 1000) return;
    const reason = `no approver decided within the step's timeout (it expired at ${new Date(s.expiresAt ?? 0).toISOString()})`;
    const moved = await this.store.moveStep(id, step, ['waiting'], { status: 'failed', error: reason, decisionReason: reason, finishedAt: Date.now() }, {
      type: 'approval.rejected',
      payload: { pipeline_run: id, pipeline: run.pipeline, step, by: null, reason },
      actor: null,
    });
    if (moved) await this.advance(id);
  }

  /**
   * Cancels a running run: the run ends first (so no step moves on from now: every move of a
   * step onward is conditional on its run running), then every step not ended is cancelled, and
   * its job too — a running command is killed by its worker at its next heartbeat.
   */
  async cancel(id: string, ctx?: WriteContext): Promise<PipelineRun> {
    const run = await this.get(id);
    const by = `cancelled by ${ctx?.actor ?? 'a local user'}`;
    if (!(await this.store.finishRun(id, 'cancelled', by, { type: 'pipeline.run.cancelled', payload: { pipeline_run: id, pipeline: run.pipeline }, actor: ctx?.actor ?? null }))) {
      throw new FluxError('INVALID_STATE', `pipeline run ${id} is ${(await this.get(id)).status} already`);
    }
    const q = await this.jobs();
    const now = Date.now();
    for (const s of (await this.get(id)).steps) {
      if (TERMINAL_STEP.has(s.status)) continue;
      if (await this.store.moveStep(id, s.step, OPEN_STEP, { status: 'cancelled', error: by, finishedAt: now })) {
        if (s.jobId !== null) await q.cancel(s.jobId, 'the pipeline run was cancelled');
      }
    }
    return this.get(id);
  }

  /**
   * A new run of a failed or cancelled run's pipeline with the same params, in which the steps
   * that succeeded keep their outputs (reused, not run again) and only the others — the failed
   * ones and what depends on them — run.
   */
  async retry(id: string, ctx?: WriteContext): Promise<PipelineRun> {
    const old = await this.get(id);
    if (old.status === 'running' || old.status === 'succeeded') throw new FluxError('INVALID_STATE', `pipeline run ${id} is ${old.status}: only a failed or cancelled run is retried`);
    const pipeline = await this.pipelineOf(old);
    const now = Date.now();
    const newId = `pr-${randomBytes(6).toString('hex')}`;
    const rerun = new Set<string>();
    for (const def of pipeline.steps) {
      const s = old.steps.find((x) => x.step === def.name);
      if (s?.status !== 'succeeded' || def.needs.some((n) => rerun.has(n))) rerun.add(def.name);
    }
    const steps = pipeline.steps.map((def, i): StepRun => {
      const s = old.steps.find((x) => x.step === def.name)!;
      if (rerun.has(def.name)) return pendingStep(def, i, now);
      return { ...s, cachedFrom: s.cachedFrom ?? `${old.id}/${s.step}`, jobId: null, updatedAt: now };
    });
    const run: Omit<PipelineRun, 'steps'> = { ...old, id: newId, status: 'running', trigger: 'retry', startedBy: ctx?.actor ?? old.startedBy, retryOf: old.id, reason: null, createdAt: now, updatedAt: now, finishedAt: null };
    await this.store.createRun(run, pipeline.text, steps, startedEvent(run, ctx));
    return this.advance(newId);
  }

  /** The store, for the step runner (same context). */
  get records(): PipelineStore {
    return this.store;
  }
}

function pendingStep(s: PipelineStep, position: number, now: number): StepRun {
  return {
    step: s.name,
    kind: s.kind,
    status: 'pending',
    position,
    attempt: 0,
    jobId: null,
    cacheKey: null,
    cachedFrom: null,
    inputs: null,
    outputs: null,
    error: null,
    trackingRunId: null,
    modelName: null,
    modelVersion: null,
    expiresAt: null,
    decidedBy: null,
    decisionReason: null,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  };
}

function startedEvent(run: Omit<PipelineRun, 'steps'>, ctx?: WriteContext): NewEvent {
  return { type: 'pipeline.run.started', payload: { pipeline_run: run.id, pipeline: run.pipeline, trigger: run.trigger }, actor: ctx?.actor ?? null };
}

/** The run's params: the declared defaults, overridden by what was given, each of its declared type. */
export function resolveParams(p: Pipeline, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in p.params)) throw new FluxError('INVALID_PARAMETER_VALUE', `pipeline ${p.name} has no param '${name}' (params: ${Object.keys(p.params).join(', ') || 'none'})`, { field: `params.${name}` });
  }
  for (const [name, def] of Object.entries(p.params)) {
    const raw = name in given ? given[name] : def.default;
    if (raw === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `pipeline ${p.name} needs param '${name}' (it has no default): pass --param ${name}=…`, { field: `params.${name}` });
    out[name] = coerceParam(name, raw, def.type ?? (typeof def.default === 'number' ? 'number' : typeof def.default === 'boolean' ? 'boolean' : 'string'));
  }
  return out;
}

function coerceParam(name: string, raw: unknown, type: 'string' | 'number' | 'integer' | 'boolean'): unknown {
  const bad = () => new FluxError('INVALID_PARAMETER_VALUE', `param '${name}' must be ${type === 'integer' ? 'an integer' : `a ${type}`}; got ${JSON.stringify(raw)}`, { field: `params.${name}` });
  if (type === 'string') {
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw bad();
    return String(raw);
  }
  if (type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw bad();
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) throw bad();
  return n;
}
