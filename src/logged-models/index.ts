export { LoggedModelService, LOGGED_MODEL_SEARCH } from './logged-model-service.js';
export { KyselyLoggedModelStore } from './kysely-logged-model-store.js';
export type { LoggedModelStore, SearchLoggedModelsQuery } from './logged-model-store.js';
export * from './types.js';
