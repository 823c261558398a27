import { FluxError } from '../core/index.js';

/** How traces leave the process: the OTLP/HTTP encoding and where to. */
export interface TracingConfig {
  protocol: 'http/protobuf' | 'http/json';
  /** The URL spans are POSTed to (…/v1/traces), as the exporter will compute it. */
  url: string;
}

type Env = Record<string, string | undefined>;

/** A variable's value, with the empty string counting as unset (as the OpenTelemetry SDKs read them). */
function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function checkUrl(value: string, name: string): void {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${name} must be an http(s) URL such as http://127.0.0.1:4318, got '${value}'`, { field: name });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FluxError('INVALID_PARAMETER_VALUE', `${name} must be an http(s) URL (the OTLP/HTTP exporter), got '${value}'`, { field: name });
}

/**
 * Whether this process exports traces, read from the standard OpenTelemetry variables: on when
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set, unless
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. Only OTLP over HTTP is offered: a protocol
 * of grpc (or anything else) is refused in one sentence rather than silently sending nothing.
 * The rest (headers, timeout, compression, sampler, batch sizes, resource) the SDK reads itself.
 */
export function tracingConfig(env: Env = process.env): TracingConfig | undefined {
  if (read(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporters = read(env, 'OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporters === 'none') return undefined;
  const specific = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (specific === undefined && base === undefined) return undefined;
  if (exporters !== undefined && !exporters.split(',').some((e) => e.trim() === 'otlp')) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `OTEL_TRACES_EXPORTER must be otlp or none here, got '${exporters}'`, { field: 'OTEL_TRACES_EXPORTER' });
  }
  let url: string;
  if (specific !== undefined) {
    checkUrl(specific, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
    url = specific; // used as given, as the specification says
  } else {
    checkUrl(base!, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    url = `${base!.endsWith('/') ? base! : `${base!}/`}v1/traces`; // as the exporter appends it
  }
  const protocolVar = read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  // http/protobuf is the specification's default.
  const protocol = read(env, protocolVar) ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${protocolVar} must be http/protobuf or http/json (FluxOps exports OTLP over HTTP; point it at the collector's port 4318), got '${protocol}'`, { field: protocolVar });
  }
  return { protocol, url };
}
