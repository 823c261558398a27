export { EndpointService, type CreateEndpointInput, type DeployInput } from './endpoint-service.js';
export { KyselyEndpointStore } from './kysely-endpoint-store.js';
export type { EndpointStore, EndpointChange } from './endpoint-store.js';
export * from './types.js';
