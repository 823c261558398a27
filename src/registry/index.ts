export { RegistryService, type Lineage, type ModelInspection, type ModelInspector } from './registry-service.js';
export { KyselyRegistryStore } from './kysely-registry-store.js';
export type { RegistryStore } from './registry-store.js';
export * from './types.js';
