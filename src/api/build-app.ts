import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import path from 'node:path';
import { createLogger, type Logger } from '../logging/index.js';
import { InferenceLog, offThreadSqliteWriter } from '../monitoring/index.js';
import type { Platform } from '../platform.js';
import { DefaultTarget, EndpointRouter, ModelServer, RolloutController, TIMEOUT_HEADER } from '../serving/index.js';
import { DataPlane, parseJsonBody, clientErrorHandler, installErrorHandling, installRouteAuth, setScopeRouteAuth, toErrorResponse, HttpMetrics, type AuthMode, type RouteEntry } from '../http/index.js';
import { schemaValidatorCompiler } from './validators.js';
import { openapiOptions } from './openapi.js';
import { registryRoutes } from './routes/registry.js';
import { servingRoutes } from './routes/serving.js';
import { trackingRoutes } from './routes/tracking.js';
import { keyRoutes } from './routes/keys.js';
import { artifactRoutes } from './routes/artifacts.js';
import { eventRoutes } from './routes/events.js';
import { endpointRoutes } from './routes/endpoints.js';
import { rolloutRoutes } from './routes/rollouts.js';
import { endpointLiveRoutes } from './routes/endpoint-live.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { sweepRoutes } from './routes/sweeps.js';
import { webhookRoutes } from './routes/webhooks.js';
import { scheduleRoutes } from './routes/schedules.js';
import { inferenceRoutes } from './routes/inferences.js';
import { monitorRoutes } from './routes/monitors.js';
import { alertRoutes } from './routes/alerts.js';
import { mlflowScoringRoutes, oipRoutes } from './routes/protocols.js';
import { uiRoutes } from './routes/ui.js';
import { sessionRoutes } from './routes/session.js';
import { mlflowRoutes } from '../mlflow/index.js';

export interface AppOptions {
  platform: Platform;
  /** Model reference served by /api/predict (`name@alias`, `name/3`); none serves tracking only. */
  model?: string | undefined;
  /** An endpoint served by /api/predict, /api/model-info and /invocations instead (through its traffic split); not with `model`. */
  endpoint?: string | undefined;
  logger?: Logger | undefined;
  /** Largest accepted request body in bytes (default 8 MiB). */
  bodyLimit?: number | undefined;
  /** How often the served alias is re-resolved without an event, in ms (a fallback; default 2 s). */
  aliasPollMs?: number | undefined;
  /**
   * Longest a client may take to send one whole request, in ms (default 300 s, Node's own
   * default, which Fastify turns off). Without it a client that declares a body and then stalls
   * holds its connection and request forever; 0 disables the limit.
   */
  requestTimeoutMs?: number | undefined;
  /**
   * `required` (the default): every route but the public ones needs a key. `off`: tracking and
   * registry are open, as on a loopback-only server; keys and predictions still need a key.
   */
  auth?: AuthMode | undefined;
  /** How long close() lets requests in flight finish before cutting their connections (default 5 s). */
  drainMs?: number | undefined;
  /** Aliases and stages only admin keys (and approved gates) may move (default: `production`). */
  protectedAliases?: readonly string[] | undefined;
  /** In a serving worker of `--workers N`: named on every response (`x-fluxops-worker`). */
  workerId?: string | undefined;
}

export type App = FastifyInstance & { modelServer: ModelServer | undefined; router: EndpointRouter; httpMetrics: HttpMetrics; routeTable: readonly RouteEntry[]; authMode: AuthMode };

/** Aliases only admin keys (and approved gates) may move unless the server is told otherwise. */
export const DEFAULT_PROTECTED_ALIASES = ['production'] as const;

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** A request's id: the caller's X-Request-Id when it is a sane token, else a new UUID. */
function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The embedded store's file (whose disk the inference log watches), or undefined on Postgres. */
function embeddedStoreFile(p: Platform): string | undefined {
  if (p.db.dialect !== 'sqlite') return undefined;
  const file = p.db.location.replace(/^sqlite:/, '');
  return file === ':memory:' || file === '' ? undefined : path.resolve(file);
}

/** Builds the HTTP app without listening; tests use `inject()`, the CLI calls `listen()`. */
export async function buildApp(opts: AppOptions): Promise<App> {
  const logger: FastifyBaseLogger = opts.logger ?? createLogger();
  const requestTimeout = opts.requestTimeoutMs ?? 300_000;
  const bodyLimit = opts.bodyLimit ?? 8 * 1024 * 1024;
  // The prediction routes' data plane takes their common case before Fastify (see data-plane.ts).
  const plane = new DataPlane();
  const app = Fastify({
    serverFactory: (handler, options) => {
      const o = options as { http?: http.ServerOptions | null; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      const server = http.createServer(o.http ?? {}, (req, res) => {
        if (!plane.serve(req, res)) handler(req, res);
      });
      // What Fastify sets on a server it makes itself.
      server.keepAliveTimeout = o.keepAliveTimeout ?? 72_000;
      server.requestTimeout = o.requestTimeout ?? 0;
      server.setTimeout(o.connectionTimeout ?? 0);
      return server;
    },
    requestTimeout,
    // Node derives its headers timeout from the request timeout only at creation and skips the
    // request timeout while the headers timeout is the larger one, so both go in here; it also
    // looks for expired requests only every 30 s, too coarse for a short limit.
    http:
      requestTimeout > 0
        ? {
            requestTimeout,
            headersTimeout: Math.min(60_000, requestTimeout),
            connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(requestTimeout / 4))),
          }
        : null,
    loggerInstance: logger,
    bodyLimit,
    // One line per request is written by the onResponse hook below, at debug (errors at error).
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers),
    // Duplicate slashes are one (`//model-versions/get-artifact` is a path MLflow's own tests call).
    routerOptions: { maxParamLength: 1000, ignoreDuplicateSlashes: true },
    // Bad percent-encoding and over-long path parameters are refused by the router before any
    // handler runs; without these two they would get Fastify's own error body, not ours.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(err);
      void reply.status(status).send(body);
    },
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(schemaValidatorCompiler());
  // Only JSON is accepted on JSON routes; text/plain bodies get 415 rather than a confusing 400.
  app.removeContentTypeParser('text/plain');
  // JSON bodies are parsed as the data plane parses them (one function, one error message).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    let parsed: unknown;
    try {
      parsed = parseJsonBody(body as string);
    } catch (e) {
      return done(e as Error, undefined);
    }
    done(null, parsed);
  });
  installErrorHandling(app);
  // Graceful shutdown: requests that arrive while closing are answered with `Connection: close`, so
  // a keep-alive client's socket does not outlive its last request and hold close() up until its
  // idle timeout (one hook with the request id, not a second one on every response). Before the
  // auth hook, so refusals carry the request id too.
  let closing = false;
  const workerId = opts.workerId;
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    if (workerId !== undefined) void reply.header('x-fluxops-worker', workerId);
    if (closing) void reply.header('connection', 'close');
    done();
  });
  const authMode: AuthMode = opts.auth ?? 'required';
  const policy = { mode: authMode, protectedAliases: new Set((opts.protectedAliases ?? DEFAULT_PROTECTED_ALIASES).map((a) => a.toLowerCase())) };
  const routeTable = installRouteAuth(app, { keys: opts.platform.keys, audit: opts.platform.audit, policy });

  const metrics = new HttpMetrics();
  if (opts.workerId !== undefined) metrics.shareWithPrimary();
  const modelServer =
    opts.model !== undefined ? new ModelServer(opts.platform.registry, opts.model, logger, { pollMs: opts.aliasPollMs, events: opts.platform.events.bus }) : undefined;
  // Predictions through endpoints go to the inference table, written in batches off the request path.
  const storeFile = embeddedStoreFile(opts.platform);
  const inferenceLog = new InferenceLog(opts.platform.inferenceStore, {
    log: logger,
    diskPath: storeFile === undefined ? undefined : path.dirname(storeFile),
    // On the embedded store a thread of its own inserts the segments (on Postgres the insert is the driver's I/O).
    writer: storeFile === undefined ? undefined : offThreadSqliteWriter(storeFile),
  });
  metrics.watchInferenceLog(() => inferenceLog.stats());
  metrics.watchMonitors(() => opts.platform.monitors.latest());
  metrics.watchAlerts({ checks: () => opts.platform.alerts.listChecks(), alerts: () => opts.platform.alerts.listAlerts() });
  const router = new EndpointRouter(opts.platform.endpoints, opts.platform.registry, logger, { aliasPollMs: opts.aliasPollMs, events: opts.platform.events.bus, metrics, inferences: inferenceLog });
  const served = new DefaultTarget(router, modelServer, opts.endpoint);
  metrics.watchRollouts({
    active: () => opts.platform.rollouts.list({ active: true, limit: 1000 }),
    ended: () => opts.platform.rollouts.list({ states: ['rolled_back', 'aborted'], limit: 10_000 }),
  });
  metrics.watchMirrors(() => router.allMirrorStats());
  const rolloutController = new RolloutController(opts.platform.rollouts, opts.platform.endpoints, router, logger, { events: opts.platform.events.bus });
  Object.assign(app, { modelServer, router, httpMetrics: metrics, routeTable, authMode });

  // In-flight requests get a drain period; a connection still open after it (a client that never
  // finishes its request, or one Node does not count as idle) is cut, so close() always ends.
  const drainMs = opts.drainMs ?? 5000;
  app.addHook('preClose', (done) => {
    closing = true;
    setTimeout(() => app.server.closeAllConnections(), drainMs).unref();
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.route(req.method, route).done(reply.statusCode, seconds);
    if (reply.statusCode >= 500) req.log.error({ route, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    else req.log.debug({ route, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    done();
  });

  await app.register(swagger, openapiOptions(routeTable));
  // The API documents are public; they describe routes, never data.
  await app.register(async (docs) => {
    setScopeRouteAuth(docs, 'public');
    await docs.register(swaggerUi, { routePrefix: '/api/docs' });
  });

  const deps = { platform: opts.platform, modelServer, router, metrics, served, plane, rolloutController };
  await app.register(servingRoutes, deps);
  await app.register(trackingRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(registryRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(keyRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(sessionRoutes, { ...deps, authMode, prefix: '/api/v1' });
  await app.register(artifactRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(eventRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(endpointRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(rolloutRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(endpointLiveRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(pipelineRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(sweepRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(webhookRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(scheduleRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(inferenceRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(monitorRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(alertRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(mlflowRoutes, deps);
  // The web UI: its own scope, public pages (its data comes through the API routes above).
  await app.register(async (ui) => uiRoutes(ui));
  await app.register(mlflowScoringRoutes, deps);
  await app.register(oipRoutes, deps);

  plane.start({
    keys: opts.platform.keys,
    policy,
    metrics,
    log: logger,
    bodyLimit,
    requestId: requestIdOf,
    commonHeaders: () => {
      const h: Record<string, string> = {};
      if (workerId !== undefined) h['x-fluxops-worker'] = workerId;
      if (closing) h.connection = 'close';
      return h;
    },
  });

  app.get('/metrics', { schema: { hide: true }, config: { auth: 'read' } }, async (_req, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.text();
  });

  // The platform owns the background parts; the server adds its own and starts them all. After
  // close() has stopped taking requests and finished those in flight, they stop in reverse order
  // (model server poll, LISTEN client, dispatcher after a last flush); the caller then closes the store.
  if (modelServer) opts.platform.lifecycle.add(modelServer);
  // Before the router, so it stops after it: what the last requests logged is written.
  opts.platform.lifecycle.add(inferenceLog);
  opts.platform.lifecycle.add(opts.platform.inferences.retention(logger));
  opts.platform.lifecycle.add(router);
  // Servers evaluate alert rules and SLOs (one server takes each due rule) and run synthetic checks through their own router.
  opts.platform.lifecycle.add(
    opts.platform.alerts.component(opts.platform.config.monitorTickMs, async (endpoint, body, timeoutMs) => {
      try {
        await router.predict(endpoint, body, { [TIMEOUT_HEADER]: String(timeoutMs) }, `synthetic-${randomUUID().slice(0, 8)}`);
        return { status: 200, error: null };
      } catch (e) {
        return { status: toErrorResponse(e).status, error: (e as Error).message };
      }
    }),
  );
  // After the router (it routes the steps' traffic); stopped before it.
  opts.platform.lifecycle.add(rolloutController);
  app.addHook('onClose', async () => {
    await opts.platform.lifecycle.stop();
  });
  await opts.platform.start();
  return app as unknown as App;
}
