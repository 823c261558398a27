export { buildApp, type App, type AppOptions, type RouteDeps } from './build-app.js';
export { toErrorResponse } from './errors.js';
