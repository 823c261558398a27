import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { Logger } from '../logging/index.js';

/** Request headers as Node gives them (lower-case names). */
export type Headers = Record<string, string | string[] | undefined>;

/** Where the OpenTelemetry SDK's own diagnostics go (export failures and the like). */
export type TracingLog = Pick<Logger, 'error' | 'warn' | 'info' | 'debug'>;

/**
 * The span helpers while tracing is on. They are built by the SDK module, which only
 * startTracing loads (with a dynamic import): with tracing off no OpenTelemetry code is loaded.
 */
export interface Tracing {
  readonly tracer: Tracer;
  /** Runs `fn` in a new active span; a throw or rejection records the error on it. */
  inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T>;
  /** Adds attributes to the active span, if any. */
  annotate(attributes: Attributes): void;
  /** Sets the span's status to error. */
  fail(span: Span, message: string): void;
  /** Starts a `fluxops.predict` span, continuing the caller's W3C trace (`traceparent`) when the headers carry one. */
  startPredict(endpoint: string, headers: Headers): Span;
  /** The deployment the request was routed to and the model it holds. */
  predictRouted(span: Span, deployment: string, model: { name: string; version: string } | undefined): void;
  /** Ends the span with what answered; returns the result. */
  predictAnswered<R extends { model: string; version: string; predictions: readonly unknown[] }>(span: Span, result: R): R;
  /** Ends the span as failed (the error's status, error status) and rethrows. */
  predictFailed(span: Span, error: unknown): never;
}

/**
 * The hot paths' one check: undefined while tracing is off (the default), the helpers once
 * startTracing has started the SDK. An ES module live binding, so readers see it change.
 */
export let tracing: Tracing | undefined;

export function setTracing(t: Tracing | undefined): void {
  tracing = t;
}

/** This process's tracer while tracing is on, else undefined. */
export function tracer(): Tracer | undefined {
  return tracing?.tracer;
}

/** Runs `fn` in a span named `name` while tracing is on; otherwise just runs it (with no span). */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  return tracing === undefined ? fn(undefined) : tracing.inSpan(name, attributes, fn);
}
