import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Endpoint } from '../../endpoints/index.js';
import { callerOf, type RouteDeps } from '../../http/index.js';
import type { EndpointRouter } from '../../serving/index.js';
import { answerPrediction } from './serving.js';
import { created, Empty, EndpointPrediction, EndpointWithStatus, MirrorStats, ok } from '../schemas.js';

const Name = Type.Object({ name: Type.String() });
const NameDeployment = Type.Object({ name: Type.String(), deployment: Type.String() });
const Weights = Type.Record(Type.String(), Type.Integer({ minimum: 0, maximum: 100 }));
const BatchingIn = Type.Union([Type.Object({ maxBatch: Type.Integer({ minimum: 1 }), maxWaitMs: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), Type.Null()]);
const EndpointIn = Type.Object({
  name: Type.String(),
  environment: Type.Optional(Type.String({ description: 'a label such as staging or production (default production)' })),
  description: Type.Optional(Type.String()),
  predictRoles: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'roles that may predict (developer, predict, admin); null for all' })),
  stickyHeader: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'a header whose value keeps a caller on one deployment, such as X-User-Id' })),
  inferenceLog: Type.Optional(
    Type.Object(
      {
        sampleRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'share of requests logged to the inference table (default 1: every one)' })),
        retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'logged requests older than this are deleted (default 30)' })),
      },
      { additionalProperties: false },
    ),
  ),
});

/**
 * Native endpoints API: endpoints, deployments, traffic splits, mirrors, and predictions routed by
 * them. Every answer about an endpoint carries what this server serves of it now (`status`).
 */
export const endpointRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform, router, metrics, plane }) => {
  const e = platform.endpoints;
  const tags = ['endpoints'];
  // A change is answered once this server routes by it, so a caller may predict on what it just set.
  const applied = async (endpoint: Endpoint) => {
    await router.refresh();
    return withStatus(router, endpoint);
  };

  app.post('/endpoints', { config: { auth: 'write' }, schema: { response: created(EndpointWithStatus), tags, summary: 'Create an endpoint', body: EndpointIn } }, async (req, reply) => {
    const endpoint = await e.createEndpoint(req.body, callerOf(req));
    void reply.status(201);
    return applied(endpoint);
  });

  app.get('/endpoints', { config: { auth: 'read' }, schema: { response: ok(Type.Object({ endpoints: Type.Array(EndpointWithStatus) })), tags, summary: 'List endpoints' } }, async () => ({
    endpoints: (await e.listEndpoints()).map((x) => withStatus(router, x)),
  }));

  app.get('/endpoints/:name', { config: { auth: 'read' }, schema: { response: ok(EndpointWithStatus), tags, summary: 'An endpoint, its deployments and traffic', params: Name } }, async (req) =>
    withStatus(router, await e.getEndpoint(req.params.name)),
  );

  app.patch(
    '/endpoints/:name',
    { config: { auth: 'write' }, schema: { response: ok(EndpointWithStatus), tags, summary: 'Change an endpoint', params: Name, body: Type.Omit(Type.Partial(EndpointIn), ['name']) } },
    async (req) => applied(await e.updateEndpoint(req.params.name, req.body, callerOf(req))),
  );

  app.delete('/endpoints/:name', { config: { auth: 'write' }, schema: { response: ok(Empty), tags, summary: 'Delete an endpoint and its deployments', params: Name } }, async (req) => {
    await e.deleteEndpoint(req.params.name, callerOf(req));
    await router.refresh();
    return {};
  });

  app.put(
    '/endpoints/:name/deployments/:deployment',
    {
      config: { auth: 'write' },
      schema: {
        response: ok(EndpointWithStatus),
        tags,
        summary: 'Deploy a model (create a deployment, or point one at another model)',
        params: NameDeployment,
        body: Type.Object({
          model: Type.String({ description: 'diabetes/3 or diabetes@production' }),
          traffic: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: "this deployment's share afterwards; the others are scaled to fill the rest" })),
          batching: Type.Optional(BatchingIn),
        }),
      },
    },
    async (req) => applied(await e.deploy(req.params.name, { name: req.params.deployment, ...req.body }, callerOf(req))),
  );

  app.delete(
    '/endpoints/:name/deployments/:deployment',
    { config: { auth: 'write' }, schema: { response: ok(EndpointWithStatus), tags, summary: 'Remove a deployment that takes no traffic', params: NameDeployment } },
    async (req) => applied(await e.removeDeployment(req.params.name, req.params.deployment, callerOf(req))),
  );

  app.put(
    '/endpoints/:name/traffic',
    { config: { auth: 'write' }, schema: { response: ok(EndpointWithStatus), tags, summary: 'Set the traffic split (integer percents summing to 100)', params: Name, body: Type.Object({ traffic: Weights }) } },
    async (req) => applied(await e.setTraffic(req.params.name, req.body.traffic, callerOf(req))),
  );

  app.put(
    '/endpoints/:name/mirror',
    { config: { auth: 'write' }, schema: { response: ok(EndpointWithStatus), tags, summary: 'Set the share of live requests copied to deployments (those given; 0 stops one)', params: Name, body: Type.Object({ mirror: Weights }) } },
    async (req) => applied(await e.setMirror(req.params.name, req.body.mirror, callerOf(req))),
  );

  app.get(
    '/endpoints/:name/mirror',
    {
      config: { auth: 'read' },
      schema: {
        response: ok(Type.Object({ mirror: Type.Record(Type.String(), MirrorStats) })),
        tags,
        summary: 'How mirrored deployments answered the copies they got, against the live answers (since this server started)',
        params: Name,
      },
    },
    async (req) => {
      const endpoint = await e.getEndpoint(req.params.name);
      const stats = router.mirrorStats(endpoint.name);
      return { mirror: Object.fromEntries(Object.entries(stats).map(([d, st]) => [d, { ...st, percent: endpoint.mirror[d] ?? 0 }])) };
    },
  );

  plane.route(
    app,
    {
      method: 'POST',
      url: '/endpoints/:name/predict',
      // A key scoped to the endpoint, or to every model behind it, may predict; the endpoint's
      // predict roles, when set, narrow who may.
      auth: { permission: 'predict', resource: (req) => router.resourceOf((req.params as { name: string }).name), from: 'url' },
      handle: (call) => answerPrediction(router.predictNow(call.params.name!, call.body, call.headers, call.id), call, metrics),
    },
    { schema: { response: ok(EndpointPrediction), tags, summary: "Predict through the endpoint's traffic split (or the deployment x-fluxops-deployment names)", params: Name } },
  );
};

function withStatus(router: EndpointRouter, endpoint: Endpoint) {
  // A server that has not reloaded since the endpoint was made does not route it yet.
  const snapshot = router.find(endpoint.name);
  return {
    ...endpoint,
    status: endpoint.deployments.map((d) => {
      const runtime = snapshot?.deployments.get(d.name);
      const loaded = runtime?.ref === d.model ? runtime.server.model : undefined;
      return {
        name: d.name,
        model: d.model,
        version: loaded?.version ?? null,
        error: loaded !== undefined ? null : (runtime?.server.error ?? 'not loaded on this server yet'),
        traffic: endpoint.traffic[d.name] ?? 0,
        mirror: endpoint.mirror[d.name] ?? 0,
        batched: runtime?.ref === d.model && runtime.server.batcher !== undefined ? { batches: runtime.server.batcher.batches, rows: runtime.server.batcher.batchedRows } : null,
      };
    }),
  };
}
