/*
 * Optional OpenTelemetry tracing. Off unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set; then
 * startTracing loads the SDK (dynamically) and `tracing` holds the span helpers. Nothing here
 * loads OpenTelemetry code at import time: a hot path pays one `tracing !== undefined` check.
 */
export { tracingConfig, type TracingConfig } from './config.js';
export { PREDICT_ATTR, PREDICT_SPAN, STEP_ATTR, STEP_SPAN } from './conventions.js';
export { startTracing, type TracingHandle } from './start-tracing.js';
export { inSpan, tracer, tracing, type Headers, type Tracing, type TracingLog } from './tracing.js';
