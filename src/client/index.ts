export { FluxClient, type ClientOptions } from './http-client.js';
export type { TrackingApi, RegistryApi, KeysApi } from './api-types.js';
