export { FluxClient, type ClientOptions } from './http-client.js';
export { RunLogger, type StartRunOptions } from './run-logger.js';
export type { TrackingApi, RegistryApi, KeysApi, AuditApi, EventsApi, EndpointsApi, RolloutsApi, RolloutView, KeyValue, LogBatch, MetricPoint } from './api-types.js';
