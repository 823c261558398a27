export { RegistryService, type Lineage, type ModelInspection, type ModelInspector } from './registry-service.js';
export { KyselyRegistryStore } from './kysely-registry-store.js';
export type { RegistryStore } from './registry-store.js';
export { LOGGED_MODEL_ID, type LoggedModelLookup, type LoggedModelRef } from './model-source.js';
export * from './types.js';
export { parseModelRefName, resolveModelRef, type ModelRefResolver } from './model-ref.js';
