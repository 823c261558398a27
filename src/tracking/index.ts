export { TrackingService, LOGGED_MODELS_TAG, type SearchRunsInput } from './tracking-service.js';
export { KyselyTrackingStore } from './kysely-tracking-store.js';
export type { TrackingStore, KeyValue, SearchRunsQuery } from './tracking-store.js';
export { LIMITS } from './validation.js';
export * from './types.js';
