/**
 * The HTTP transport kit shared by the native API (`api/`) and the MLflow adapter (`mlflow/`): the
 * error shape and its mapping, the dependencies every route module receives, the HTTP metrics, and
 * the per-route auth declaration with its check. Neither transport imports the other.
 */
export { clientErrorHandler, installErrorHandling, toErrorResponse, type ErrorBody } from './errors.js';
export type { RouteDeps } from './route-deps.js';
export { HttpMetrics } from './metrics.js';
export {
  anonymousGrants,
  callerOf,
  CSRF_COOKIE,
  CSRF_HEADER,
  SESSION_COOKIE,
  credentialsOf,
  installRouteAuth,
  permissionOf,
  setScopeRouteAuth,
  WRITES_RUN_IN_BODY,
  WRITES_RUN_IN_PATH,
  type AuthMode,
  type AuthPolicy,
  type ResourceRef,
  type RouteAuth,
  type RouteEntry,
} from './route-auth.js';
export { DataPlane, type HotCall, type HotRoute } from './data-plane.js';
export { parseJsonBody } from './json-body.js';
