import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FluxError, parseDuration } from '../core/index.js';
import type { JobHandler, JobQueue } from '../jobs/index.js';
import { trainOffThread } from '../training/index.js';
import { trainAndTrack } from '../workflows/index.js';
import { interpolate } from './expressions.js';
import type { StepInputs } from './spec.js';
import { runStep, type StepContext, type StepExecutor, type StepServices } from './step-types.js';
import {
  createSampler,
  parseEarlyTermination,
  parseSearchSpace,
  shouldTerminate,
  type Direction,
  type EarlyTerminationPolicy,
  type SamplerKind,
  type TrialRecord,
} from './sweep/index.js';
import type { SweepRecord, SweepStore, TrialRow } from './sweep/sweep-store.js';
import type { Outputs } from './types.js';

export const TRIAL_JOB = 'sweep.trial';

/** A sweep's settings, as kept with it (so a trial on any worker, or a resumed sweep, reads the same). */
interface SweepSpec {
  inputs: StepInputs<'sweep'>;
  pipeline: string;
  pipelineRun: string;
  baseDir: string;
  metric: string;
  direction: Direction;
  sampling: SamplerKind;
  maxTrials: number;
  maxConcurrent: number;
  timeoutMs: number | null;
  trialTimeoutMs: number | null;
  seed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sweep's id for a step of a pipeline run: the same whenever the step's job runs. */
function sweepIdOf(pipelineRun: string, step: string): string {
  return `sw-${createHash('sha256').update(`${pipelineRun}/${step}`).digest('hex').slice(0, 12)}`;
}

function bar(done: number, total: number, width = 20): string {
  const full = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/**
 * The `sweep` step: a hyperparameter search whose trials are jobs (any worker runs them, up to
 * `max_concurrent_trials` at once) and child runs of the sweep's run. The step's job suggests
 * trials (grid, random or TPE over the trials so far), watches them — early termination stops
 * a trial whose logged objective falls behind, by cancelling its job —, and ends with the best
 * trial, registered when asked. Its state is in the store: if its worker dies, the step's next
 * attempt finds the sweep by its id and goes on without repeating a finished trial.
 */
export function sweepExecutor(store: SweepStore, jobs: () => Promise<JobQueue>, wake: () => void): StepExecutor {
  return async (raw, ctx) => {
    const w = raw as StepInputs<'sweep'>;
    const space = parseSearchSpace(w.search_space, `steps.${ctx.step}.with.search_space`);
    const policy: EarlyTerminationPolicy | undefined = w.early_termination === undefined ? undefined : parseEarlyTermination(w.early_termination, `steps.${ctx.step}.with.early_termination`);
    if (w.command === undefined && (w.data === undefined || w.target === undefined)) throw new FluxError('INVALID_PARAMETER_VALUE', `steps.${ctx.step}.with needs data and target (built-in trials) or a command`, { field: `steps.${ctx.step}.with` });
    const id = sweepIdOf(ctx.runId, ctx.step);
    // The sweep waits on its trials, which need worker slots: it must not hold one meanwhile.
    ctx.releaseSlot?.();
    const spec: SweepSpec = {
      inputs: w,
      pipeline: ctx.pipeline,
      pipelineRun: ctx.runId,
      baseDir: ctx.baseDir,
      metric: w.objective?.metric ?? 'f1',
      direction: w.objective?.goal ?? 'maximize',
      sampling: (w.sampling ?? 'random') as SamplerKind,
      maxTrials: Number(w.max_trials ?? 20),
      maxConcurrent: Number(w.max_concurrent_trials ?? 4),
      timeoutMs: w.timeout === undefined ? null : parseDuration(w.timeout, 'with.timeout'),
      trialTimeoutMs: w.trial_timeout === undefined ? null : parseDuration(w.trial_timeout, 'with.trial_timeout'),
      seed: Number(w.seed ?? parseInt(id.slice(3, 11), 16)),
    };
    let sweep = await store.get(id);
    if (sweep === undefined) {
      const experimentId = await ctx.services.tracking.ensureExperiment(w.experiment ?? ctx.pipeline);
      const parent = await ctx.services.tracking.createRun({ experimentId, runName: `${ctx.pipeline}/${ctx.step} sweep`, tags: { 'fluxops.sweep': id, 'fluxops.pipeline_run': ctx.runId, 'fluxops.sweep.sampling': spec.sampling } });
      const now = Date.now();
      const record: SweepRecord = { id, pipelineRun: ctx.runId, step: ctx.step, runId: parent.info.runId, spec: spec as unknown as Record<string, unknown>, status: 'running', bestTrial: null, bestValue: null, createdAt: now, updatedAt: now, finishedAt: null };
      await store.create(record, { type: 'sweep.started', payload: { sweep: id, run_id: parent.info.runId, max_trials: spec.maxTrials, sampler: spec.sampling }, actor: null });
      sweep = (await store.get(id))!;
      ctx.log(`sweep ${id}: ${spec.maxTrials} trials, ${spec.maxConcurrent} at a time, ${spec.sampling} sampling, ${spec.direction} ${spec.metric}${policy ? `, ${policy.policy}` : ''}`, 'system');
    } else {
      ctx.log(`sweep ${id} resumes: ${(await store.trials(id)).filter((t) => t.status !== 'running').length} trials had finished`, 'system');
    }
    ctx.lineage({ trackingRunId: sweep.runId });
    const sampler = createSampler(spec.sampling, space, { direction: spec.direction, seed: spec.seed });
    const q = await jobs();
    const deadline = spec.timeoutMs === null ? Infinity : sweep.createdAt + spec.timeoutMs;
    let exhausted = false;
    let last = '';
    for (;;) {
      if (ctx.signal.aborted) {
        // The run was cancelled: so are its trials and the sweep. A lost lease leaves them to the next attempt.
        if ((await ctx.services.runStatus(ctx.runId).catch(() => 'unknown')) === 'cancelled') await cancelSweep(store, q, id);
        throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('stopped');
      }
      const trials = await store.trials(id);
      for (const t of trials.filter((x) => x.status === 'running')) await watchTrial(store, q, ctx.services, id, spec, policy, t, trials);
      const now = await store.trials(id);
      const running = now.filter((t) => t.status === 'running');
      if (Date.now() > deadline) {
        for (const t of running) await endTrial(store, q, id, t, 'failed', null, 'the sweep reached its timeout');
        ctx.log(`sweep ${id} reached its timeout of ${w.timeout}`, 'system');
        break;
      }
      let started = now.length;
      while (!exhausted && running.length + (started - now.length) < spec.maxConcurrent && started < spec.maxTrials) {
        const history: TrialRecord[] = (await store.trials(id)).map((t) => ({ number: t.number, params: t.params, status: t.status, value: t.value, intermediate: t.intermediate }));
        const params = sampler.suggest(history);
        if (params === null) {
          exhausted = true;
          break;
        }
        const number = started + 1;
        const jobId = randomUUID();
        if (await store.addTrial(id, { number, params, status: 'running', value: null, intermediate: [], jobId, runId: null, error: null, startedAt: Date.now(), finishedAt: null })) {
          await q.enqueue({ kind: TRIAL_JOB, id: jobId, data: { sweep: id, trial: number }, retryLimit: 1 });
          wake();
        }
        started++;
      }
      const after = await store.trials(id);
      const count = (s: string) => after.filter((t) => t.status === s).length;
      const best = bestOf(after, spec.direction);
      const line = `${bar(after.length - count('running'), spec.maxTrials)} ${after.length - count('running')}/${spec.maxTrials} done, ${count('running')} running, ${count('pruned')} pruned, ${count('failed')} failed${best ? `, best ${spec.metric} ${best.value!.toFixed(4)} (trial ${best.number})` : ''}`;
      if (line !== last) ctx.log(line, 'system');
      last = line;
      if (count('running') === 0 && (after.length >= spec.maxTrials || exhausted)) break;
      await sleep(250);
    }
    return finishSweep(store, ctx, id, spec);
  };
}

async function finishSweep(store: SweepStore, ctx: StepContext, id: string, spec: SweepSpec): Promise<Outputs> {
  const trials = await store.trials(id);
  const best = bestOf(trials, spec.direction);
  const sweep = (await store.get(id))!;
  const status = best === undefined ? 'failed' : 'completed';
  // False when an earlier attempt ended the sweep already (and registered its best): not again.
  const ending = await store.finish(id, status, { trial: best?.number ?? null, value: best?.value ?? null }, { type: 'sweep.completed', payload: { sweep: id, run_id: sweep.runId, status, best_trial: best?.number ?? null, best_value: best?.value ?? null }, actor: null });
  const { tracking, registry } = ctx.services;
  const now = Date.now();
  if (best !== undefined) {
    await tracking.logBatch(sweep.runId, {
      metrics: [{ key: `best_${spec.metric}`, value: best.value!, timestamp: now, step: 0 }],
      params: Object.entries(best.params).map(([key, value]) => ({ key: `best.${key}`, value: String(value) })),
      tags: [{ key: 'fluxops.sweep.best_trial', value: String(best.number) }, ...(best.runId ? [{ key: 'fluxops.sweep.best_run', value: best.runId }] : [])],
    });
  }
  await tracking.endRun(sweep.runId, best === undefined ? 'FAILED' : 'FINISHED').catch(() => undefined);
  if (best === undefined) throw new Error(`sweep ${id}: no trial completed (${trials.map((t) => `${t.number}: ${t.status}${t.error ? ` ${t.error}` : ''}`).slice(0, 3).join('; ')})`);
  const counts = Object.fromEntries(['completed', 'failed', 'pruned'].map((s) => [s, trials.filter((t) => t.status === s).length]));
  ctx.log(`best trial ${best.number}: ${spec.metric} ${best.value!.toFixed(4)} with ${JSON.stringify(best.params)}`, 'system');
  const out: Outputs = { sweep: id, run_id: sweep.runId, best_trial: best.number, best_value: best.value, best_params: best.params, best_run_id: best.runId, trials: counts };
  const reg = spec.inputs.register;
  if (reg !== undefined && best.runId !== null && ending) {
    let mv = await registry.registerModel({ name: reg.model, source: `runs:/${best.runId}/model`, runId: best.runId });
    for (const alias of reg.aliases ?? []) mv = await registry.setAlias(mv.name, alias, mv.version);
    ctx.lineage({ modelName: mv.name, modelVersion: mv.version });
    ctx.log(`registered the best trial as ${mv.name} v${mv.version}`, 'system');
    Object.assign(out, { model: mv.name, version: mv.version });
  }
  return out;
}

async function cancelSweep(store: SweepStore, q: JobQueue, id: string): Promise<void> {
  for (const t of (await store.trials(id)).filter((x) => x.status === 'running')) await endTrial(store, q, id, t, 'failed', null, 'the pipeline run was cancelled');
  const sweep = await store.get(id);
  await store.finish(id, 'cancelled', { trial: null, value: null }, { type: 'sweep.completed', payload: { sweep: id, run_id: sweep?.runId ?? '', status: 'cancelled', best_trial: null, best_value: null }, actor: null });
}

function bestOf(trials: TrialRow[], direction: Direction): TrialRow | undefined {
  let best: TrialRow | undefined;
  for (const t of trials) {
    if (t.status !== 'completed' || t.value === null || !Number.isFinite(t.value)) continue;
    if (best === undefined || (direction === 'maximize' ? t.value > best.value! : t.value < best.value!)) best = t;
  }
  return best;
}

async function endTrial(store: SweepStore, q: JobQueue, id: string, t: TrialRow, status: 'failed' | 'pruned', value: number | null, error: string): Promise<void> {
  const sweep = await store.get(id);
  if (t.jobId !== null) await q.cancel(t.jobId, error);
  await store.moveTrial(id, t.number, { status, error, finishedAt: Date.now() }, { type: 'sweep.trial.finished', payload: { sweep: id, run_id: sweep?.runId ?? '', trial: t.number, status, value }, actor: null });
}

/** A running trial: lost (its job failed for good) or, with a policy, stopped when it falls behind. */
async function watchTrial(store: SweepStore, q: JobQueue, services: StepServices, id: string, spec: SweepSpec, policy: EarlyTerminationPolicy | undefined, t: TrialRow, all: TrialRow[]): Promise<void> {
  if (t.jobId !== null) {
    const job = await q.get(t.jobId);
    if (job === undefined || job.state === 'failed' || job.state === 'cancelled') {
      await endTrial(store, q, id, t, 'failed', null, job === undefined ? 'its job was lost' : `its job ${job.state}: ${job.error ?? ''}`);
      return;
    }
  }
  if (policy === undefined || t.runId === null) return;
  const history = await services.tracking.getMetricHistory(t.runId, spec.metric, { maxResults: 10_000 });
  const intermediate = history.items.map((m) => ({ step: m.step, value: m.value }));
  if (intermediate.length === 0) return;
  await store.moveTrial(id, t.number, { intermediate });
  const records: TrialRecord[] = all.map((x) => ({ number: x.number, params: x.params, status: x.status, value: x.value, intermediate: x.number === t.number ? intermediate : x.intermediate }));
  const verdict = shouldTerminate(policy, records.find((r) => r.number === t.number)!, records, spec.direction);
  if (verdict.stop) await endTrial(store, q, id, t, 'pruned', intermediate.at(-1)!.value, verdict.reason);
}

/** The `sweep.trial` job: trains (or runs the command of) one trial as a child run of the sweep's run. */
export function trialHandler(store: SweepStore, services: StepServices): JobHandler {
  return async (job, jctx) => {
    const id = String(job.data['sweep']);
    const number = Number(job.data['trial']);
    const sweep = await store.get(id);
    const t = await store.trial(id, number);
    if (sweep === undefined || t?.status !== 'running') return { ignored: t?.status ?? 'no such trial' };
    const spec = sweep.spec as unknown as SweepSpec;
    const w = spec.inputs;
    const timeout = spec.trialTimeoutMs === null ? undefined : AbortSignal.timeout(spec.trialTimeoutMs);
    const signal = timeout === undefined ? jctx.signal : AbortSignal.any([jctx.signal, timeout]);
    const tags = { 'mlflow.parentRunId': sweep.runId, 'fluxops.sweep': id, 'fluxops.sweep.trial': String(number) };
    let runId: string;
    let value: number | undefined;
    if (w.command !== undefined) {
      const command = String(interpolate(w.command, { trial: t.params, params: t.params }));
      const env = Object.fromEntries(Object.entries(t.params).map(([k, v]) => [`FLUXOPS_TRIAL_${k.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`, String(v)]));
      const ctx: StepContext = {
        services,
        pipeline: spec.pipeline,
        runId: spec.pipelineRun,
        step: `trial-${number}`,
        baseDir: spec.baseDir,
        signal,
        timeoutMs: spec.trialTimeoutMs ?? undefined,
        log: () => undefined,
        lineage: (l) => {
          if (l.trackingRunId !== undefined) void store.moveTrial(id, number, { runId: l.trackingRunId }).catch(() => undefined);
        },
      };
      const out = await runStep(command, { ...env, FLUXOPS_SWEEP: id, FLUXOPS_TRIAL: String(number) }, undefined, ctx, tags);
      runId = String(out['run_id']);
      const run = await services.tracking.getRun(runId);
      value = run.data.metrics.find((m) => m.key === spec.metric)?.value;
    } else {
      const file = path.resolve(spec.baseDir, w.data!);
      const result = await trainAndTrack(services.tracking, services.registry, {
        csvText: fs.readFileSync(file, 'utf8'),
        dataSource: file,
        target: w.target!,
        exclude: w.exclude,
        algo: w.algo,
        categorical: w.categorical,
        params: Object.fromEntries(Object.entries(t.params).map(([k, v]): [string, string | number] => [k, typeof v === 'boolean' ? String(v) : v])),
        experiment: w.experiment ?? spec.pipeline,
        runName: `${spec.pipeline} sweep trial ${number}`,
        tags,
        train: (i) => trainOffThread(i, signal),
      });
      runId = result.run.info.runId;
      value = result.training.metrics[spec.metric];
    }
    if (value === undefined || !Number.isFinite(value)) throw new Error(`trial ${number} logged no ${spec.metric}`);
    await store.moveTrial(id, number, { status: 'completed', value, runId, finishedAt: Date.now() }, { type: 'sweep.trial.finished', payload: { sweep: id, run_id: sweep.runId, trial: number, status: 'completed', value }, actor: null });
    return { value, run_id: runId };
  };
}

