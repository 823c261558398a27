export { buildApp, type App, type AppOptions } from './build-app.js';
export type { RouteDeps } from '../http/index.js';
export { toErrorResponse } from '../http/index.js';
export { openapiDocument, openapiText } from './openapi-document.js';
export { uiBanner, uiBuilt } from './routes/ui.js';
