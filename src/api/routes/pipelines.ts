import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf, type RouteDeps } from '../../http/index.js';
import { PIPELINE_RUN_STATUSES, summarizePipeline, type PipelineRunStatus } from '../../pipelines/index.js';
import { Empty, LogPage, PipelineRun, PipelineRunList, PipelineSummary, PipelineTriggerList, created, ok } from '../schemas.js';

const RunId = Type.Object({ id: Type.String() });
const SpecBody = {
  spec: Type.String({ description: 'the pipeline file (YAML or JSON)', maxLength: 1_000_000 }),
  source: Type.Optional(Type.String({ description: 'its name in error messages (the file name)' })),
};

/**
 * Pipelines: validate a file, start runs, read runs and their logs, approve or reject an
 * approval step (approver keys), cancel and retry. The steps run on job workers.
 */
export const pipelineRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const pipelines = platform.pipelines;
  const tags = ['pipelines'];
  app.post(
    '/pipelines/validate',
    { config: { auth: 'read' }, schema: { tags, summary: 'Validate a pipeline file (errors give line and column)', body: Type.Object(SpecBody), response: ok(PipelineSummary) } },
    async (req) => summarizePipeline(pipelines.validate(req.body.spec, req.body.source)),
  );
  app.post(
    '/pipelines',
    {
      config: { auth: 'write' },
      schema: {
        tags,
        summary: "Register a pipeline's event triggers (its on: list), replacing what it had",
        body: Type.Object({ ...SpecBody, base_dir: Type.Optional(Type.String()) }),
        response: created(PipelineTriggerList),
      },
    },
    async (req, reply) => {
      void reply.status(201);
      return { triggers: await platform.pipelineTriggers.register(req.body.spec, req.body.source ?? 'pipeline.yaml', req.body.base_dir, callerOf(req)) };
    },
  );
  app.get('/pipelines/triggers', { config: { auth: 'read' }, schema: { tags, summary: 'Registered event triggers', response: ok(PipelineTriggerList) } }, async () => ({ triggers: await platform.pipelineTriggers.list() }));
  app.delete('/pipelines/:name', { config: { auth: 'write' }, schema: { tags, summary: "Remove a registered pipeline's triggers", params: Type.Object({ name: Type.String() }), response: ok(Empty) } }, async (req) => {
    await platform.pipelineTriggers.unregister(req.params.name);
    return {};
  });
  app.post(
    '/pipeline-runs',
    {
      config: { auth: 'write' },
      schema: {
        tags,
        summary: 'Start a pipeline run',
        body: Type.Object({
          ...SpecBody,
          params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
          base_dir: Type.Optional(Type.String({ description: "the folder the file's relative paths resolve against, as the workers see it" })),
          no_cache: Type.Optional(Type.Boolean({ description: 'run every step even when an earlier run had the same inputs' })),
        }),
        response: created(PipelineRun),
      },
    },
    async (req, reply) => {
      void reply.status(201);
      const b = req.body;
      return pipelines.start({ text: b.spec, source: b.source, params: b.params, baseDir: b.base_dir, noCache: b.no_cache }, callerOf(req));
    },
  );
  app.get(
    '/pipeline-runs',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Pipeline runs, newest first',
        querystring: Type.Object({
          pipeline: Type.Optional(Type.String()),
          status: Type.Optional(Type.Union(PIPELINE_RUN_STATUSES.map((s) => Type.Literal(s)))),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: ok(PipelineRunList),
      },
    },
    async (req) => ({ runs: await pipelines.list({ pipeline: req.query.pipeline, statuses: req.query.status ? [req.query.status as PipelineRunStatus] : undefined, limit: req.query.limit }) }),
  );
  app.get('/pipeline-runs/:id', { config: { auth: 'read' }, schema: { tags, summary: 'A pipeline run and its steps', params: RunId, response: ok(PipelineRun) } }, async (req) => pipelines.get(req.params.id));
  app.get(
    '/pipeline-runs/:id/pipeline',
    { config: { auth: 'read' }, schema: { tags, summary: "The pipeline a run runs: its steps with what each needs (the DAG), params and description", params: RunId, response: ok(PipelineSummary) } },
    async (req) => summarizePipeline(await pipelines.pipelineOf(await pipelines.get(req.params.id))),
  );
  app.get(
    '/pipeline-runs/:id/logs',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: "A run's log lines after a cursor",
        params: RunId,
        querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })), step: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })) }),
        response: ok(LogPage),
      },
    },
    async (req) => {
      const lines = await pipelines.logs(req.params.id, req.query);
      const run = await pipelines.get(req.params.id);
      return { lines, next_after: lines.at(-1)?.id ?? req.query.after ?? 0, status: run.status };
    },
  );
  const Decision = Type.Object({ step: Type.Optional(Type.String({ description: 'the waiting step (needed when several wait)' })), reason: Type.Optional(Type.String({ maxLength: 2000 })) });
  app.post('/pipeline-runs/:id/approve', { config: { auth: 'approve' }, schema: { tags, summary: 'Approve the waiting approval step', params: RunId, body: Decision, response: ok(PipelineRun) } }, async (req) =>
    pipelines.approve(req.params.id, req.body, callerOf(req)),
  );
  app.post('/pipeline-runs/:id/reject', { config: { auth: 'approve' }, schema: { tags, summary: 'Reject the waiting approval step (the run fails)', params: RunId, body: Decision, response: ok(PipelineRun) } }, async (req) =>
    pipelines.reject(req.params.id, req.body, callerOf(req)),
  );
  app.post('/pipeline-runs/:id/cancel', { config: { auth: 'write' }, schema: { tags, summary: 'Cancel a run; running commands are stopped', params: RunId, response: ok(PipelineRun) } }, async (req) =>
    pipelines.cancel(req.params.id, callerOf(req)),
  );
  app.post('/pipeline-runs/:id/retry', { config: { auth: 'write' }, schema: { tags, summary: 'Run the failed steps of a run again, and what depends on them', params: RunId, response: created(PipelineRun) } }, async (req, reply) => {
    void reply.status(201);
    return pipelines.retry(req.params.id, callerOf(req));
  });
};
