export { FluxClient, type ClientOptions } from './http-client.js';
export { RunLogger, type StartRunOptions } from './run-logger.js';
export type { WebhooksApi, WebhookInput, PipelinesApi, PipelineSummaryView, MonitorsApi, InferencesApi, AlertsApi, AlertView, SilenceView } from './api-types.js';
export type { TrackingApi, RegistryApi, KeysApi, AuditApi, EventsApi, EndpointsApi, RolloutsApi, RolloutView, SchedulesApi, ScheduleInput, KeyValue, LogBatch, MetricPoint } from './api-types.js';
