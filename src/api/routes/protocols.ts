import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ok } from '../schemas.js';
import { FluxError } from '../../core/index.js';
import { toErrorResponse, type RouteDeps } from '../../http/index.js';
import { ProtocolError, endpointTarget, mlflowScoringAnswer, mlflowScoringBody, modelTarget, oipAnswer, oipBody, oipMetadata, pinHeaders, type EndpointRouter, type ModelServer, type Target } from '../../serving/index.js';

const MlflowPredictions = Type.Object({ predictions: Type.Array(Type.Unsafe<number | string>({ type: ['number', 'string'] }), { description: 'one label (classifiers) or value (regressors) per row' }) });

/** The MLflow version this scoring protocol follows (`GET /version`). */
const MLFLOW_PROTOCOL_VERSION = '2.12.2';

/** The errors of a protocol scope in the protocol's shape; auth refusals included. */
function protocolErrors(scope: FastifyInstance, protocol: 'mlflow' | 'oip'): void {
  scope.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ProtocolError) {
      return reply.status(err.status).send(protocol === 'oip' ? { error: err.message } : { error_code: err.code, message: err.message });
    }
    const { status, body, internal } = toErrorResponse(err);
    if (internal) req.log.error({ err }, 'request failed');
    return reply.status(status).send(protocol === 'oip' ? { error: body.message } : status >= 400 && status < 500 && body.error_code === 'INVALID_PARAMETER_VALUE' ? { error_code: 'BAD_REQUEST', message: body.message } : body);
  });
}

/** MLflow's scoring server: `/invocations`, `/ping`, `/version`, and `/api/v1/endpoints/:name/invocations` (`/health` is the tracking server's). */
export const mlflowScoringRoutes: FastifyPluginAsync<RouteDeps> = async (app, { served, router, metrics }) => {
  protocolErrors(app, 'mlflow');
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 64 * 1024 * 1024 }, (_req, body, done) => done(null, body));
  const tags = ['mlflow scoring'];
  const invoke = async (target: Target, req: FastifyRequest) => {
    const native = mlflowScoringBody(req.headers['content-type'], req.body, target.features);
    const result = await target.predict(native, req.headers, req.id);
    metrics.countPredictions(result);
    return mlflowScoringAnswer(result);
  };
  const predictAuth = { permission: 'predict' as const, resource: () => served.resource(), from: 'url' as const };
  app.post('/invocations', { config: { auth: predictAuth }, schema: { tags, summary: "Predict, as MLflow's scoring server does (on the server's default endpoint or model)", response: ok(MlflowPredictions) } }, async (req) =>
    invoke(served.require(), req),
  );
  app.post(
    '/api/v1/endpoints/:name/invocations',
    {
      config: { auth: { permission: 'predict', resource: (req) => endpointResource(router, (req.params as { name: string }).name), from: 'url' } },
      schema: { tags, summary: "Predict through an endpoint, as MLflow's scoring server does", response: ok(MlflowPredictions) },
    },
    async (req) => {
      const name = (req.params as { name: string }).name;
      const t = endpointTarget(router, name);
      if (t === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${name}' does not exist`);
      return invoke(t, req);
    },
  );
  const health = async (_req: FastifyRequest, reply: FastifyReply) => {
    const ready = served.current()?.ready === true;
    return reply.status(ready ? 200 : 503).type('application/json').send('\n');
  };
  app.get('/ping', { config: { auth: 'public' }, schema: { tags, summary: 'Health: 200 once the model is loaded' } }, health);
  // `/health` is the tracking server's ("OK"); scoring clients use /ping.
  app.get('/version', { config: { auth: 'public' }, schema: { tags, summary: 'The MLflow scoring protocol version followed' } }, async (_req, reply) => reply.type('text/plain').send(MLFLOW_PROTOCOL_VERSION));
};

/** The Open Inference Protocol v2 over endpoints (by name) and the server's own model. */
export const oipRoutes: FastifyPluginAsync<RouteDeps> = async (app, { modelServer, router, metrics }) => {
  protocolErrors(app, 'oip');
  const tags = ['open inference protocol'];
  const target = (name: string): Target => {
    const t = endpointTarget(router, name) ?? (modelServer !== undefined && modelServer.modelName === name ? modelTarget(modelServer) : undefined);
    if (t === undefined) throw new ProtocolError(404, `model '${name}' is not served here (endpoints: ${router.list().map((s) => s.endpoint.name).join(', ') || 'none'}${modelServer ? `; model ${modelServer.modelName}` : ''})`, 'oip');
    return t;
  };
  /** A version names the deployment (of an endpoint) serving it. */
  const pinFor = (name: string, version: string | undefined): string | undefined => {
    if (version === undefined) return undefined;
    const s = router.find(name);
    if (s === undefined) {
      if (modelServer?.model?.version === version) return undefined;
      throw new ProtocolError(404, `model '${name}' version ${version} is not served here`, 'oip');
    }
    const d = [...s.deployments.values()].find((x) => x.server.model?.version === version);
    if (d === undefined) throw new ProtocolError(404, `model '${name}' version ${version} is not served here (versions: ${[...new Set([...s.deployments.values()].flatMap((x) => (x.server.model ? [x.server.model.version] : [])))].join(', ') || 'none'})`, 'oip');
    return d.name;
  };
  const auth = { permission: 'predict' as const, resource: (req: FastifyRequest) => endpointResource(router, (req.params as { name: string }).name, modelServer), from: 'url' as const };
  type P = { name: string; version?: string };

  app.get('/v2', { config: { auth: 'public' }, schema: { tags, summary: 'Server metadata' } }, async () => ({ name: 'fluxops', version: '0.1.0', extensions: [] }));
  app.get('/v2/health/live', { config: { auth: 'public' }, schema: { tags, summary: 'Liveness' } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { config: { auth: 'public' }, schema: { tags, summary: 'Readiness: every served model loaded' } }, async (_req, reply) => {
    const loaded = router.list().every((s) => [...s.deployments.values()].every((d) => d.server.model !== undefined)) && (modelServer === undefined || modelServer.model !== undefined);
    return reply.status(loaded ? 200 : 503).send({ ready: loaded });
  });
  for (const path of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(path, { config: { auth }, schema: { tags, summary: 'Model metadata: inputs and outputs' } }, async (req) => {
      const p = req.params as P;
      const t = target(p.name);
      pinFor(p.name, p.version);
      return oipMetadata(p.name, t.versions, t.features, t.classes);
    });
    app.get(`${path}/ready`, { config: { auth: 'public' }, schema: { tags, summary: 'Whether the model is ready' } }, async (req, reply) => {
      const p = req.params as P;
      const t = target(p.name);
      const ready = p.version === undefined ? t.versions.length > 0 : t.versions.includes(p.version);
      return reply.status(ready ? 200 : 503).send({ name: p.name, ready });
    });
    app.post(`${path}/infer`, { config: { auth }, schema: { tags, summary: 'Inference on typed tensors' } }, async (req) => {
      const p = req.params as P;
      const t = target(p.name);
      const pin = pinFor(p.name, p.version);
      const { native, request } = oipBody(req.body, t.features);
      // The OIP request's own id, when it gives one, is what the request is logged under.
      const result = await t.predict(native, pinHeaders(pin), typeof request.id === 'string' && request.id !== '' ? request.id : req.id);
      metrics.countPredictions(result);
      return oipAnswer(result, request, p.name);
    });
  }
};

/** The predict resource of a protocol route on an endpoint name (or the server's model). */
function endpointResource(router: EndpointRouter, name: string, modelServer?: ModelServer) {
  if (router.find(name) === undefined && modelServer !== undefined && modelServer.modelName === name) return { model: name };
  return router.resourceOf(name);
}
