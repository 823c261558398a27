import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createLogger, type Logger } from '../core/index.js';
import type { Platform } from '../platform.js';
import { ModelServer } from '../serving/index.js';
import { installErrorHandling } from './errors.js';
import { HttpMetrics } from './metrics.js';
import { registryRoutes } from './routes/registry.js';
import { servingRoutes } from './routes/serving.js';
import { trackingRoutes } from './routes/tracking.js';
import { keyRoutes } from './routes/keys.js';
import { artifactRoutes } from './routes/artifacts.js';

export interface AppOptions {
  platform: Platform;
  /** Model reference served by /api/predict (`name@alias`, `name/3`); none serves tracking only. */
  model?: string | undefined;
  logger?: Logger | undefined;
  /** Largest accepted request body in bytes (default 8 MiB). */
  bodyLimit?: number | undefined;
  /** How often the served alias is re-resolved, in ms. */
  aliasPollMs?: number | undefined;
}

export type App = FastifyInstance & { modelServer: ModelServer | undefined; httpMetrics: HttpMetrics };

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** Builds the HTTP app without listening; tests use `inject()`, the CLI calls `listen()`. */
export async function buildApp(opts: AppOptions): Promise<App> {
  const logger = opts.logger ?? createLogger();
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? 8 * 1024 * 1024,
    // One line per request is written by the onResponse hook below, at debug (errors at error).
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    routerOptions: { maxParamLength: 1000 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Only JSON is accepted on JSON routes; text/plain bodies get 415 rather than a confusing 400.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app);

  const metrics = new HttpMetrics();
  const modelServer = opts.model !== undefined ? new ModelServer(opts.platform.registry, opts.model, logger) : undefined;
  Object.assign(app, { modelServer, httpMetrics: metrics });

  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: req.method, route }, seconds);
    if (reply.statusCode >= 500) req.log.error({ route, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    else req.log.debug({ route, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    done();
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'FluxOps API', version: '0.1.0', description: 'Tracking, registry and serving API of FluxOps.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  const deps = { platform: opts.platform, modelServer, metrics };
  await app.register(servingRoutes, deps);
  await app.register(trackingRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(registryRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(keyRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(artifactRoutes, { ...deps, prefix: '/api/v1' });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  if (modelServer) {
    await modelServer.start(opts.aliasPollMs);
    app.addHook('onClose', (_i, done) => {
      modelServer.stop();
      done();
    });
  }
  return app as unknown as App;
}

export interface RouteDeps {
  platform: Platform;
  modelServer: ModelServer | undefined;
  metrics: HttpMetrics;
}
