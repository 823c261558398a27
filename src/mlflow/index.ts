import type { FastifyPluginAsync } from 'fastify';
import type { RouteDeps } from '../http/index.js';
import { mlflowArtifactRoutes } from './artifact-routes.js';
import { mlflowLoggedModelRoutes } from './logged-model-routes.js';
import { mlflowRegistryRoutes } from './registry-routes.js';
import { keepRawJsonBodies } from './raw-json-body.js';
import { mlflowTrackingRoutes } from './tracking-routes.js';
import { mlflowUiArtifactRoutes } from './ui-artifact-routes.js';
import { mlflowUiTrackingRoutes } from './ui-tracking-routes.js';

/** Options every MLflow route module receives: the services, and whether to hide it from OpenAPI. */
export interface MlflowRouteDeps extends RouteDeps {
  /** True for the `/ajax-api` copy, which the OpenAPI document leaves out. */
  hidden: boolean;
}

/**
 * The MLflow REST API 2.0 as a thin adapter over the same services as the native API: paths under
 * `/api/2.0/mlflow/` (and `/ajax-api/2.0/mlflow/`, which MLflow's UI uses), the proxied artifact
 * API under `/api/2.0/mlflow-artifacts/`, the UI's file downloads (`/get-artifact`,
 * `/model-versions/get-artifact`), and `/health`. Unimplemented MLflow routes answer 501
 * with MLflow's error shape, so the client does not retry them as it retries other 5xx.
 */
export const mlflowRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  for (const [root, hidden] of [
    ['/api/2.0', false],
    ['/ajax-api/2.0', true],
  ] as const) {
    await app.register(
      async (scope) => {
        const d: MlflowRouteDeps = { ...deps, hidden };
        keepRawJsonBodies(scope);
        await scope.register(mlflowTrackingRoutes, d);
        await scope.register(mlflowRegistryRoutes, d);
        await scope.register(mlflowLoggedModelRoutes, d);
        // MLflow serves its UI's own routes under /ajax-api only.
        if (root === '/ajax-api/2.0') await scope.register(mlflowUiTrackingRoutes, d);
        scope.setNotFoundHandler((req, reply) => {
          void reply.status(501).send({ error_code: 'NOT_IMPLEMENTED', message: `FluxOps does not implement ${req.method} ${req.url.split('?')[0]}` });
        });
      },
      { prefix: `${root}/mlflow` },
    );
    await app.register(mlflowArtifactRoutes, { ...deps, hidden, prefix: `${root}/mlflow-artifacts` });
  }
  // The download routes of MLflow's web UI, at the root as MLflow serves them.
  await app.register(mlflowUiArtifactRoutes, { ...deps, hidden: true });
  // MLflow's server answers its health check with plain "OK".
  app.get('/health', { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) => {
    void reply.type('text/plain');
    return 'OK';
  });
};
