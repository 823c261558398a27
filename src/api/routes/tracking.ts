import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf, WRITES_RUN_IN_PATH, type RouteDeps } from '../../http/index.js';
import { created, Empty, Experiment, Metric, ok, Page, Run } from '../schemas.js';

const KV = Type.Object({ key: Type.String(), value: Type.String() });
const RunId = Type.Object({ runId: Type.String({ description: '32 hex characters' }) });
const ExperimentId = Type.Object({ experimentId: Type.String() });
const MetricIn = Type.Object({
  key: Type.String(),
  value: Type.Union([Type.Number(), Type.String({ description: 'NaN, Infinity or -Infinity' })]),
  timestamp: Type.Optional(Type.Integer({ minimum: 0 })),
  step: Type.Optional(Type.Integer()),
});
const ViewType = Type.Union([Type.Literal('ACTIVE_ONLY'), Type.Literal('DELETED_ONLY'), Type.Literal('ALL')]);

/** Native tracking API: experiments, runs, params, metrics, tags, inputs, search. */
export const trackingRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const t = platform.tracking;
  const tags = ['tracking'];

  app.post('/experiments', { config: { auth: 'write' }, schema: { response: created(Experiment), tags, body: Type.Object({ name: Type.String(), artifactLocation: Type.Optional(Type.String()), tags: Type.Optional(Type.Array(KV)) }) } }, async (req, reply) => {
    const id = await t.createExperiment(req.body, callerOf(req));
    void reply.status(201);
    return t.getExperiment(id);
  });
  app.get(
    '/experiments',
    { config: { auth: 'read' }, schema: { response: ok(Page(Experiment)), tags, querystring: Type.Object({ viewType: Type.Optional(ViewType), maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 50000 })), pageToken: Type.Optional(Type.String()), nameLike: Type.Optional(Type.String()) }) } },
    async (req) => {
      return t.searchExperiments(req.query);
    },
  );
  app.get('/experiments/by-name/:name', { config: { auth: 'read' }, schema: { response: ok(Experiment), tags, params: Type.Object({ name: Type.String() }) } }, async (req) => t.getExperimentByName(req.params.name));
  app.get('/experiments/:experimentId', { config: { auth: 'read' }, schema: { response: ok(Experiment), tags, params: ExperimentId } }, async (req) => t.getExperiment(req.params.experimentId));
  app.patch('/experiments/:experimentId', { config: { auth: 'write' }, schema: { response: ok(Experiment), tags, params: ExperimentId, body: Type.Object({ name: Type.String() }) } }, async (req) => {
    await t.renameExperiment(req.params.experimentId, req.body.name);
    return t.getExperiment(req.params.experimentId);
  });
  app.delete('/experiments/:experimentId', { config: { auth: 'write' }, schema: { response: ok(Empty), tags, params: ExperimentId } }, async (req) => {
    await t.deleteExperiment(req.params.experimentId);
    return {};
  });
  app.post('/experiments/:experimentId/restore', { config: { auth: 'write' }, schema: { response: ok(Experiment), tags, params: ExperimentId } }, async (req) => {
    await t.restoreExperiment(req.params.experimentId);
    return t.getExperiment(req.params.experimentId);
  });
  app.put('/experiments/:experimentId/tags', { config: { auth: 'write' }, schema: { response: ok(Empty), tags, params: ExperimentId, body: KV } }, async (req) => {
    await t.setExperimentTag(req.params.experimentId, req.body.key, req.body.value);
    return {};
  });

  app.post(
    '/runs',
    { config: { auth: 'write' },
      schema: {
        response: created(Run),
        tags,
        body: Type.Object({
          experimentId: Type.Optional(Type.String()),
          runName: Type.Optional(Type.String()),
          userId: Type.Optional(Type.String()),
          startTime: Type.Optional(Type.Integer({ minimum: 0 })),
          tags: Type.Optional(Type.Record(Type.String(), Type.String())),
          sourceName: Type.Optional(Type.String()),
          sourceVersion: Type.Optional(Type.String()),
        }),
      },
    },
    async (req, reply) => {
      // A key's name is the run's user, as MLflow's auth records the user who logged in.
      const run = await t.createRun({ ...req.body, experimentId: req.body.experimentId ?? '0', userId: req.principal.name ?? req.body.userId }, callerOf(req));
      void reply.status(201);
      return run;
    },
  );
  app.post(
    '/runs/search',
    { config: { auth: 'read' },
      schema: {
        response: ok(Page(Run)),
        tags,
        body: Type.Object({
          experimentIds: Type.Array(Type.String(), { minItems: 1 }),
          filter: Type.Optional(Type.String()),
          orderBy: Type.Optional(Type.Array(Type.String())),
          viewType: Type.Optional(ViewType),
          maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 50000 })),
          pageToken: Type.Optional(Type.String()),
        }),
      },
    },
    async (req) => {
      return t.searchRuns(req.body);
    },
  );
  app.get('/runs/:runId', { config: { auth: 'read' }, schema: { response: ok(Run), tags, params: RunId } }, async (req) => t.getRun(req.params.runId));
  app.patch(
    '/runs/:runId',
    { config: { auth: WRITES_RUN_IN_PATH },
      schema: {
        response: ok(Run),
        tags,
        params: RunId,
        body: Type.Object({
          status: Type.Optional(Type.String()),
          endTime: Type.Optional(Type.Integer({ minimum: 0 })),
          runName: Type.Optional(Type.String()),
        }),
      },
    },
    async (req) => t.updateRun(req.params.runId, req.body, callerOf(req)),
  );
  app.delete('/runs/:runId', { config: { auth: WRITES_RUN_IN_PATH }, schema: { response: ok(Empty), tags, params: RunId } }, async (req) => {
    await t.deleteRun(req.params.runId, callerOf(req));
    return {};
  });
  app.post('/runs/:runId/restore', { config: { auth: WRITES_RUN_IN_PATH }, schema: { response: ok(Run), tags, params: RunId } }, async (req) => {
    await t.restoreRun(req.params.runId, callerOf(req));
    return t.getRun(req.params.runId);
  });
  app.post('/runs/:runId/metrics', { config: { auth: WRITES_RUN_IN_PATH }, schema: { response: ok(Empty), tags, params: RunId, body: MetricIn } }, async (req) => {
    await t.logMetric(req.params.runId, req.body);
    return {};
  });
  app.post('/runs/:runId/params', { config: { auth: WRITES_RUN_IN_PATH }, schema: { response: ok(Empty), tags, params: RunId, body: KV } }, async (req) => {
    await t.logParam(req.params.runId, req.body.key, req.body.value);
    return {};
  });
  app.put('/runs/:runId/tags', { config: { auth: WRITES_RUN_IN_PATH }, schema: { response: ok(Empty), tags, params: RunId, body: KV } }, async (req) => {
    await t.setTag(req.params.runId, req.body.key, req.body.value);
    return {};
  });
  app.delete('/runs/:runId/tags/:key', { config: { auth: WRITES_RUN_IN_PATH }, schema: { response: ok(Empty), tags, params: Type.Object({ runId: Type.String(), key: Type.String() }) } }, async (req) => {
    await t.deleteTag(req.params.runId, req.params.key);
    return {};
  });
  app.post(
    '/runs/:runId/batch',
    { config: { auth: WRITES_RUN_IN_PATH },
      schema: {
        response: ok(Empty),
        tags,
        summary: 'Log many metrics, params and tags in one transaction',
        params: RunId,
        body: Type.Object({
          metrics: Type.Optional(Type.Array(MetricIn, { maxItems: 1000 })),
          params: Type.Optional(Type.Array(KV, { maxItems: 100 })),
          tags: Type.Optional(Type.Array(KV, { maxItems: 100 })),
        }),
      },
    },
    async (req) => {
      await t.logBatch(req.params.runId, req.body);
      return {};
    },
  );
  app.post(
    '/runs/:runId/inputs',
    { config: { auth: WRITES_RUN_IN_PATH },
      schema: {
        response: ok(Empty),
        tags,
        params: RunId,
        body: Type.Object({
          datasets: Type.Array(
            Type.Object({
              name: Type.String(),
              digest: Type.String(),
              sourceType: Type.String(),
              source: Type.String(),
              schema: Type.Optional(Type.String()),
              profile: Type.Optional(Type.String()),
              context: Type.Optional(Type.String()),
              /** MLflow's input tags, in order; `mlflow.data.context` among them is the context. */
              tags: Type.Optional(Type.Array(Type.Object({ key: Type.String(), value: Type.String() }), { maxItems: 100 })),
            }),
            { maxItems: 100 },
          ),
        }),
      },
    },
    async (req) => {
      await t.logInputs(
        req.params.runId,
        req.body.datasets.map((d) => ({ schema: '', profile: '', context: '', tags: [], ...d })),
      );
      return {};
    },
  );
  app.get(
    '/runs/:runId/metrics/:key/history',
    { config: { auth: 'read' },
      schema: {
        response: ok(Page(Metric)),
        tags,
        params: Type.Object({ runId: Type.String(), key: Type.String() }),
        querystring: Type.Object({ maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 25000 })), pageToken: Type.Optional(Type.String()) }),
      },
    },
    async (req) => {
      return t.getMetricHistory(req.params.runId, req.params.key, req.query);
    },
  );
};
