/**
 * OpenTelemetry tracing of the real processes: a collector stand-in (a plain node:http server
 * taking OTLP/HTTP POSTs on /v1/traces, JSON or protobuf) receives the spans of a `fluxops
 * server` (predictions, one continuing a caller's traceparent; a pipeline step it runs) and of a
 * `fluxops worker`. Without the variables, or with OTEL_SDK_DISABLED, nothing is sent, and no
 * OpenTelemetry module is even loaded.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type protobufjs from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { assertBuilt, ROOT, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';

type Value = string | number | boolean;
interface SeenSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  /** 0 unset, 1 ok, 2 error */
  status: number;
  attributes: Record<string, Value>;
  resource: Record<string, Value>;
}

/** The part of opentelemetry-proto's trace schema the test reads (field numbers as upstream). */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { repeated Span spans = 2; }
message Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; repeated KeyValue attributes = 9; Status status = 15; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`;
let requestType: protobufjs.Type | undefined;

interface RawValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string | { toNumber(): number };
  doubleValue?: number;
}
interface RawKv {
  key: string;
  value?: RawValue;
}
interface RawRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: RawKv[] };
    scopeSpans?: Array<{ spans?: Array<{ traceId?: string | Uint8Array; spanId?: string | Uint8Array; parentSpanId?: string | Uint8Array; name: string; attributes?: RawKv[]; status?: { code?: number } }> }>;
  }>;
}

function valueOf(v: RawValue | undefined): Value {
  if (v === undefined) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  const i = v.intValue;
  return typeof i === 'object' && i !== null ? i.toNumber() : Number(i);
}
const attrs = (list: RawKv[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
const hex = (id: string | Uint8Array | undefined) => (id === undefined ? '' : typeof id === 'string' ? id : Buffer.from(id).toString('hex'));

/** OTLP/JSON (ids as hex, per the OTLP JSON mapping) or OTLP protobuf, to spans. */
function decode(body: Buffer, contentType: string): SeenSpan[] {
  let req: RawRequest;
  if (contentType.startsWith('application/json')) {
    req = JSON.parse(body.toString('utf8')) as RawRequest;
  } else {
    if (requestType === undefined) {
      const protobuf = createRequire(import.meta.url)('protobufjs') as typeof protobufjs;
      requestType = protobuf.parse(OTLP_TRACE_PROTO).root.lookupType('ExportTraceServiceRequest');
    }
    req = requestType.toObject(requestType.decode(body), { defaults: false });
  }
  const out: SeenSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({ name: s.name, traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), status: s.status?.code ?? 0, attributes: attrs(s.attributes), resource });
      }
    }
  }
  return out;
}

/** The collector stand-in: records every request, decodes POST /v1/traces. */
class Collector {
  readonly spans: SeenSpan[] = [];
  readonly requests: Array<{ method: string; url: string; contentType: string }> = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', contentType });
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      try {
        this.spans.push(...decode(Buffer.concat(chunks), contentType));
      } catch (e) {
        res.writeHead(400).end(String(e));
        return;
      }
      if (contentType.startsWith('application/json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });

  /** Listens on 127.0.0.1 (port 0: any free one); false when the port is taken. */
  listen(port = 0, host = '127.0.0.1'): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL' ? resolve(false) : reject(e)));
      this.server.listen(port, host, () => resolve(true));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  named(name: string): SeenSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Variables of the parent environment that would change what the child processes do. */
const CLEAN_OTEL = Object.fromEntries(
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_SDK_DISABLED', 'OTEL_TRACES_EXPORTER', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG'].map((k) => [k, '']),
);

describe('tracing: spans of predictions and pipeline steps, exported over OTLP/HTTP', () => {
  const home = freshHome('fluxops-tracing-');
  const collector = new Collector();
  let server: ChildProcess | undefined;
  let banner = '';
  let url = '';
  let predictKey = '';
  const rows: Array<Record<string, number>> = [];

  beforeAll(async () => {
    assertBuilt();
    await collector.listen();
    const csv = path.join(home, 'diabetes.csv');
    const text = generateDiabetesCsv(400, 3);
    fs.writeFileSync(csv, text);
    const lines = text.trim().split('\n');
    const head = lines[0]!.split(',');
    for (const l of lines.slice(1, 6)) {
      const cells = l.split(',');
      rows.push(Object.fromEntries(head.map((h, i) => [h, Number(cells[i])]).filter(([h]) => h !== 'PatientID' && h !== 'Diabetic')) as Record<string, number>);
    }
    const t = await runCli(['--home', home, 'train', '--data', csv, '--target', 'Diabetic', '--exclude', 'PatientID', '--register', 'diabetes', '--alias', 'production'], { timeoutMs: 120_000 });
    expect(t.code, t.stderr).toBe(0);
    const k = await runCli(['--home', home, '--json', 'keys', 'create', 'scorer', '--role', 'predict']);
    expect(k.code, k.stderr).toBe(0);
    predictKey = (JSON.parse(k.stdout) as { key: string }).key;
    const s = await startCli(['--home', home, 'server', '--port', '0'], /API docs: /, {
      env: {
        ...CLEAN_OTEL,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e',
      },
    });
    server = s.child;
    banner = s.stdout();
    url = /listening on (http:\/\/\S+)/.exec(banner)![1]!;
    const client = new FluxClient({ url });
    await client.createEndpoint({ name: 'diabetes-prod' });
    await client.deploy('diabetes-prod', { name: 'blue', model: 'diabetes@production' });
  }, 180_000);
  afterAll(async () => {
    if (server) await stop(server);
    await collector.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const predict = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/v1/endpoints/diabetes-prod/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${predictKey}`, ...headers }, body: JSON.stringify(body) });

  it('says where traces go', () => {
    expect(banner).toContain(`traces: OTLP http/json to ${collector.url}/v1/traces`);
  });

  it('exports a fluxops.predict span per request with its attributes, continuing a caller traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const plain = await predict({ inputs: rows.slice(0, 3) }, { 'x-request-id': 'plain-1' });
    expect(plain.status).toBe(200);
    const child = await predict({ inputs: rows.slice(0, 2) }, { traceparent: `00-${traceId}-${parentId}-01` });
    expect(child.status).toBe(200);
    const bad = await predict({ inputs: [{ nope: 1 }] });
    expect(bad.status).toBe(400);

    await expect.poll(() => collector.named('fluxops.predict').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const spans = collector.named('fluxops.predict');
    const continued = spans.find((s) => s.traceId === traceId);
    expect(continued, JSON.stringify(spans)).toBeDefined();
    expect(continued!.parentSpanId).toBe(parentId);
    expect(continued!.attributes).toMatchObject({ 'fluxops.endpoint.name': 'diabetes-prod', 'fluxops.deployment.name': 'blue', 'fluxops.model.name': 'diabetes', 'fluxops.model.version': '1', 'fluxops.predict.rows': 2, 'fluxops.predict.status': 200 });
    expect(continued!.status).not.toBe(2);

    const root = spans.find((s) => s.attributes['fluxops.predict.rows'] === 3)!;
    expect(root.parentSpanId).toBe('');
    expect(root.traceId).not.toBe(traceId);
    expect(root.attributes).toMatchObject({ 'fluxops.endpoint.name': 'diabetes-prod', 'fluxops.deployment.name': 'blue', 'fluxops.model.name': 'diabetes', 'fluxops.model.version': '1', 'fluxops.predict.status': 200 });
    expect(root.resource).toMatchObject({ 'service.name': 'fluxops', 'service.version': '0.1.0', 'deployment.environment.name': 'e2e', 'telemetry.sdk.language': 'nodejs' });

    const failed = spans.find((s) => s.attributes['fluxops.predict.status'] === 400);
    expect(failed, JSON.stringify(spans)).toBeDefined();
    expect(failed!.status).toBe(2);
    expect(failed!.attributes).toMatchObject({ 'fluxops.endpoint.name': 'diabetes-prod', 'fluxops.deployment.name': 'blue', 'fluxops.model.name': 'diabetes' });
    expect(failed!.attributes['fluxops.predict.rows']).toBeUndefined();
    expect(collector.requests.every((r) => r.method === 'POST' && r.url === '/v1/traces' && r.contentType.startsWith('application/json'))).toBe(true);
  });

  it('exports a fluxops.pipeline.step span for a step the server runs', async () => {
    const file = path.join(home, 'traced.yaml');
    fs.writeFileSync(file, 'name: traced\nsteps:\n  hello:\n    run: echo hi\n');
    const r = await runCli(['--url', url, '--json', 'pipelines', 'run', file], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout) as { id: string; status: string };
    expect(run.status).toBe('succeeded');
    await expect.poll(() => collector.named('fluxops.pipeline.step').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const step = collector.named('fluxops.pipeline.step').find((s) => s.attributes['fluxops.pipeline.run.id'] === run.id);
    expect(step, JSON.stringify(collector.named('fluxops.pipeline.step'))).toBeDefined();
    expect(step!.attributes).toEqual({
      'fluxops.pipeline.name': 'traced',
      'fluxops.pipeline.run.id': run.id,
      'fluxops.pipeline.step.name': 'hello',
      'fluxops.pipeline.step.type': 'run',
      'fluxops.pipeline.step.attempt': 1,
      'fluxops.pipeline.step.outcome': 'succeeded',
    });
    expect(step!.status).not.toBe(2);
    expect(step!.resource['service.name']).toBe('fluxops');
  });

  it('a fluxops worker exports its steps too, over OTLP protobuf by default, and flushes on SIGINT', async () => {
    const wHome = freshHome('fluxops-tracing-worker-');
    const wCollector = new Collector();
    await wCollector.listen();
    try {
      const file = path.join(wHome, 'failing.yaml');
      fs.writeFileSync(file, 'name: failing\nsteps:\n  boom:\n    run: exit 3\n');
      const q = await runCli(['--home', wHome, '--json', 'pipelines', 'run', file, '--detach']);
      expect(q.code, q.stderr).toBe(0);
      const runId = (JSON.parse(q.stdout) as { id: string }).id;
      // A long batch delay: the span is exported by the shutdown's flush, not by the timer.
      const w = await startCli(['--home', wHome, 'worker', '--lease', '2s'], /taking jobs/, {
        env: { ...CLEAN_OTEL, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${wCollector.url}/v1/traces`, OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_SERVICE_NAME: 'fluxops-worker' },
      });
      expect(w.stdout()).toContain(`traces: OTLP http/protobuf to ${wCollector.url}/v1/traces`);
      for (let i = 0; i < 200; i++) {
        const show = await runCli(['--home', wHome, '--json', 'pipelines', 'show', runId]);
        if (show.code === 0 && (JSON.parse(show.stdout) as { status: string }).status !== 'running') break;
        await sleep(250);
      }
      expect(wCollector.requests).toHaveLength(0);
      expect(await stop(w.child)).toBe(0);
      const step = wCollector.named('fluxops.pipeline.step');
      expect(step, JSON.stringify(wCollector.spans)).toHaveLength(1);
      expect(wCollector.requests[0]!.contentType).toBe('application/x-protobuf');
      expect(step[0]!.attributes).toMatchObject({ 'fluxops.pipeline.name': 'failing', 'fluxops.pipeline.run.id': runId, 'fluxops.pipeline.step.name': 'boom', 'fluxops.pipeline.step.type': 'run', 'fluxops.pipeline.step.attempt': 1, 'fluxops.pipeline.step.outcome': 'failed' });
      expect(step[0]!.status).toBe(2);
      expect(step[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(step[0]!.resource['service.name']).toBe('fluxops-worker');
    } finally {
      await wCollector.close();
      fs.rmSync(wHome, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('tracing off', () => {
  it('without the variables (or with OTEL_SDK_DISABLED=true) the server serves and sends nothing, even to the default OTLP port', async () => {
    assertBuilt();
    const home = freshHome('fluxops-tracing-off-');
    const explicit = new Collector();
    await explicit.listen();
    // The exporter's default endpoint is localhost:4318: listen there too when it is free, so a
    // tracer started by mistake with defaults would be caught.
    const fallback = new Collector();
    const onDefault = await fallback.listen(4318);
    if (!onDefault) console.log('tracing off test: 127.0.0.1:4318 is taken; checking the explicit collector only');
    try {
      const k = await runCli(['--home', home, '--json', 'keys', 'create', 'scorer', '--role', 'predict']);
      expect(k.code, k.stderr).toBe(0);
      for (const env of [CLEAN_OTEL, { ...CLEAN_OTEL, OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: explicit.url, OTEL_BSP_SCHEDULE_DELAY: '50' }]) {
        const s = await startCli(['--home', home, 'server', '--port', '0'], /API docs: /, { env });
        try {
          expect(s.stdout()).not.toContain('traces:');
          const url = /listening on (http:\/\/\S+)/.exec(s.stdout())![1]!;
          const res = await fetch(`${url}/api/health`);
          expect(res.status).toBe(200);
          const miss = await fetch(`${url}/api/v1/endpoints/none/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${(JSON.parse(k.stdout) as { key: string }).key}` }, body: '{"inputs":[]}' });
          expect(miss.status).toBe(404);
          await sleep(500);
        } finally {
          expect(await stop(s.child)).toBe(0);
        }
      }
      expect(explicit.requests).toHaveLength(0);
      expect(fallback.requests).toHaveLength(0);
    } finally {
      await explicit.close();
      if (onDefault) await fallback.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);

  it('loads no OpenTelemetry module at all when off; startTracing loads the SDK only when asked', () => {
    assertBuilt();
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/serving/index.js')).href)});
      const { startTracing } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/tracing/index.js')).href)});
      const handle = await startTracing();
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@opentelemetry'));
      await handle?.shutdown();
      process.stdout.write(JSON.stringify({ started: handle !== undefined, description: handle?.description, loaded }));
    `;
    const run = (env: Record<string, string>) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...CLEAN_OTEL, ...env } });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { started: boolean; description?: string; loaded: string[] };
    };
    const off = run({});
    expect(off).toEqual({ started: false, loaded: [] });
    expect(run({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' }).loaded).toEqual([]);
    expect(run({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_TRACES_EXPORTER: 'none' }).loaded).toEqual([]);
    const on = run({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(on.started).toBe(true);
    expect(on.description).toBe('OTLP http/json to http://127.0.0.1:9/v1/traces');
    expect(on.loaded.some((f) => f.includes('/sdk-trace-node/'))).toBe(true);
    expect(on.loaded.some((f) => f.includes('/exporter-trace-otlp-http/'))).toBe(true);
    expect(on.loaded.some((f) => f.includes('/exporter-trace-otlp-proto/'))).toBe(false);
  });

  it('refuses a setting it cannot honour, naming the variable', async () => {
    const home = freshHome('fluxops-tracing-bad-');
    try {
      const r = await runCli(['--home', home, 'server', '--port', '0'], { env: { ...CLEAN_OTEL, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, timeoutMs: 30_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json');
      const u = await runCli(['--home', home, 'worker'], { env: { ...CLEAN_OTEL, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' }, timeoutMs: 30_000 });
      expect(u.code).toBe(2);
      expect(u.stderr).toContain('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL');
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
