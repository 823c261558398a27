export { openPlatform, type Platform } from './platform.js';
export { buildApp, type App, type AppOptions } from './api/index.js';
export { FluxClient, type ClientOptions } from './client/index.js';
export { FluxError, type ErrorCode, ERROR_CODES } from './core/index.js';
export { trainAndTrack } from './workflows/index.js';
