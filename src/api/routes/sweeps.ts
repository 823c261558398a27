import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FluxError } from '../../core/index.js';
import type { RouteDeps } from '../../http/index.js';
import type { SweepRecord, TrialRow } from '../../pipelines/index.js';
import { SweepDetail, SweepList, type Sweep, type SweepTrial, ok } from '../schemas.js';

const SweepId = Type.Object({ id: Type.String() });

/** A sweep as the API shows it: its record, with the objective and budget read from its spec. */
export function sweepView(s: SweepRecord, trialsDone: number): Static<typeof Sweep> {
  const spec = s.spec;
  return {
    id: s.id,
    pipelineRun: s.pipelineRun,
    step: s.step,
    runId: s.runId,
    status: s.status,
    bestTrial: s.bestTrial,
    bestValue: s.bestValue,
    metric: typeof spec.metric === 'string' ? spec.metric : 'f1',
    direction: spec.direction === 'minimize' ? 'minimize' : 'maximize',
    sampling: typeof spec.sampling === 'string' ? spec.sampling : 'random',
    maxTrials: typeof spec.maxTrials === 'number' && Number.isFinite(spec.maxTrials) ? Math.trunc(spec.maxTrials) : 0,
    trialsDone,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    finishedAt: s.finishedAt,
  };
}

function trialView(t: TrialRow): Static<typeof SweepTrial> {
  return { number: t.number, params: t.params, status: t.status, value: t.value, intermediate: t.intermediate, runId: t.runId, error: t.error, startedAt: t.startedAt, finishedAt: t.finishedAt };
}

/** Sweeps (hyperparameter searches run by `sweep` pipeline steps) and their trials: read only. */
export const sweepRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const sweeps = platform.sweeps;
  const tags = ['sweeps'];
  app.get(
    '/sweeps',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Sweeps, newest first',
        querystring: Type.Object({
          pipeline_run: Type.Optional(Type.String({ description: 'only the sweeps of this pipeline run' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'at most this many (default 100)' })),
        }),
        response: ok(SweepList),
      },
    },
    async (req) => {
      const list = await sweeps.list({ limit: req.query.limit ?? 100, pipelineRun: req.query.pipeline_run });
      const done = await sweeps.endedTrialCounts(list.map((s) => s.id));
      return { sweeps: list.map((s) => sweepView(s, done.get(s.id) ?? 0)) };
    },
  );
  app.get('/sweeps/:id', { config: { auth: 'read' }, schema: { tags, summary: 'A sweep and its trials', params: SweepId, response: ok(SweepDetail) } }, async (req) => {
    const s = await sweeps.get(req.params.id);
    if (s === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `no sweep ${req.params.id}`);
    const trials = await sweeps.trials(s.id);
    return { ...sweepView(s, trials.filter((t) => t.status !== 'running').length), trials: trials.map(trialView) };
  });
};
