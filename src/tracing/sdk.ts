/*
 * The OpenTelemetry SDK, loaded by startTracing with a dynamic import only when tracing is on:
 * nothing imports this module statically.
 */
import fs from 'node:fs';
import { context, diag, DiagLogLevel, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type DiagLogger, type Span } from '@opentelemetry/api';
import { defaultResource, detectResources, envDetector, hostDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { FluxError } from '../core/index.js';
import type { TracingConfig } from './config.js';
import { PREDICT_ATTR, PREDICT_SPAN } from './conventions.js';
import type { Headers, Tracing, TracingLog } from './tracing.js';

export interface Sdk {
  tracing: Tracing;
  /** Flushes the spans still queued and stops the exporter. */
  shutdown(): Promise<void>;
}

function packageVersion(): string | undefined {
  try {
    // dist/tracing/sdk.js (or src/tracing/sdk.ts) → the package's own package.json.
    return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** OTEL_LOG_LEVEL (NONE, ERROR, WARN, INFO, DEBUG, VERBOSE, ALL); default WARN, so a collector that cannot be reached is reported. */
function logLevel(): DiagLogLevel {
  const v = process.env.OTEL_LOG_LEVEL?.trim().toUpperCase();
  const level = v === undefined || v === '' ? undefined : (DiagLogLevel as unknown as Record<string, DiagLogLevel | undefined>)[v];
  return level ?? DiagLogLevel.WARN;
}

function diagLogger(log: TracingLog): DiagLogger {
  const write = (level: 'error' | 'warn' | 'info' | 'debug') => (message: string, ...args: unknown[]) =>
    log[level]({ otel: args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))) }, `opentelemetry: ${message}`);
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug'), verbose: write('debug') };
}

function failSpan(span: Span, e: unknown): void {
  if (e instanceof Error) span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
}

/**
 * A tracer provider exporting through OTLP/HTTP (protobuf or JSON, by the protocol) in batches,
 * registered globally with the W3C trace-context and baggage propagators and an AsyncLocalStorage
 * context manager. The provider reads OTEL_TRACES_SAMPLER(_ARG) and the exporter
 * OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS/TIMEOUT/COMPRESSION and the certificates; the batch
 * processor OTEL_BSP_*; the resource is service.name `fluxops` (and its version), the host, then
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME over them.
 */
export async function startSdk(config: TracingConfig, log?: TracingLog): Promise<Sdk> {
  if (log !== undefined) diag.setLogger(diagLogger(log), { logLevel: logLevel(), suppressOverrideMessage: true });
  const { OTLPTraceExporter } = config.protocol === 'http/json' ? await import('@opentelemetry/exporter-trace-otlp-http') : await import('@opentelemetry/exporter-trace-otlp-proto');
  const version = packageVersion();
  const own: Attributes = { [ATTR_SERVICE_NAME]: 'fluxops' };
  if (version !== undefined) own[ATTR_SERVICE_VERSION] = version;
  const resource = defaultResource()
    .merge(resourceFromAttributes(own))
    .merge(detectResources({ detectors: [hostDetector, envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  provider.register();
  const tracer = provider.getTracer('fluxops', version);

  const tracing: Tracing = {
    tracer,
    inSpan: (name, attributes, fn) =>
      tracer.startActiveSpan(name, { attributes }, async (span) => {
        try {
          return await fn(span);
        } catch (e) {
          failSpan(span, e);
          throw e;
        } finally {
          span.end();
        }
      }),
    annotate: (attributes) => void trace.getActiveSpan()?.setAttributes(attributes),
    fail: (span, message) => void span.setStatus({ code: SpanStatusCode.ERROR, message }),
    startPredict: (endpoint: string, headers: Headers) =>
      tracer.startSpan(PREDICT_SPAN, { kind: SpanKind.SERVER, attributes: { [PREDICT_ATTR.endpoint]: endpoint } }, propagation.extract(context.active(), headers)),
    predictRouted: (span, deployment, model) => {
      span.setAttribute(PREDICT_ATTR.deployment, deployment);
      if (model !== undefined) span.setAttributes({ [PREDICT_ATTR.model]: model.name, [PREDICT_ATTR.version]: model.version });
    },
    predictAnswered: (span, result) => {
      span.setAttributes({ [PREDICT_ATTR.model]: result.model, [PREDICT_ATTR.version]: result.version, [PREDICT_ATTR.rows]: result.predictions.length, [PREDICT_ATTR.status]: 200 });
      span.end();
      return result;
    },
    predictFailed: (span, e) => {
      span.setAttribute(PREDICT_ATTR.status, e instanceof FluxError ? e.httpStatus : 500);
      failSpan(span, e);
      span.end();
      throw e;
    },
  };

  return {
    tracing,
    shutdown: async () => {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
        diag.disable();
      }
    },
  };
}
