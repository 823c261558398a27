import { randomUUID } from 'node:crypto';
import { FluxError, SerialJob, type Component } from '../core/index.js';
import { mainDeployment, type Batching, type Deployment, type Endpoint, type EndpointService } from '../endpoints/index.js';
import type { EventBus, EventType } from '../events/index.js';
import type { Logger } from '../logging/index.js';
import { parseModelRefName, type RegistryService } from '../registry/index.js';
import { DeploymentStats, MirrorTally, type MirrorStats } from './deployment-stats.js';
import { ModelServer, type PredictResult } from './model-server.js';
import type { PendingInference } from '../monitoring/index.js';
import { tracing, type Tracing } from '../tracing/index.js';

/** The header that pins a request to one deployment (for testing a deployment in isolation). */
export const PIN_HEADER = 'x-fluxops-deployment';
/** The header that bounds how long a caller waits for an answer, in ms (default DEFAULT_DEADLINE_MS). */
export const TIMEOUT_HEADER = 'x-fluxops-timeout-ms';
const MAX_TIMEOUT_MS = 300_000;

/** The deadline a request's timeout header sets (a performance.now() time), or undefined for the default. */
export function deadlineOf(headers: Record<string, string | string[] | undefined>): number | undefined {
  const v = headerValue(headers[TIMEOUT_HEADER]);
  if (v === undefined) return undefined;
  const ms = Number(v);
  if (!/^\d+$/.test(v) || ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${TIMEOUT_HEADER} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got '${v}'`, { field: TIMEOUT_HEADER });
  }
  return performance.now() + ms;
}

/** One deployment as served: its model follower and the numbers its gates and metrics read. */
export interface DeploymentRuntime {
  readonly endpoint: string;
  readonly name: string;
  readonly ref: string;
  readonly server: ModelServer;
  /** Its live traffic as this server saw it (gates read windows of it). */
  readonly stats: DeploymentStats;
  /** Its Prometheus series. */
  readonly meter: DeploymentMeter;
}

/** An endpoint as routed: an immutable snapshot, replaced whole when anything about it changes. */
export interface EndpointSnapshot {
  readonly endpoint: Endpoint;
  readonly deployments: ReadonlyMap<string, DeploymentRuntime>;
  /** Cumulative traffic bounds: a draw r in [0, 100) goes to the first entry with r < upTo. */
  readonly table: ReadonlyArray<{ upTo: number; deployment: DeploymentRuntime }>;
  /** Deployments that get a copy of `percent` % of live requests. */
  readonly mirrors: ReadonlyArray<{ percent: number; deployment: DeploymentRuntime }>;
  /** The deployment with the most traffic (else the first): whose signature the protocols decode against. */
  readonly main: DeploymentRuntime | undefined;
  /** What a predict call on it is checked against: its name, the models behind it, its predict roles. */
  readonly resource: { endpoint: string; models: readonly string[]; roles: readonly string[] | undefined };
}

/** One deployment's series: taken once when the deployment is loaded, updated per request. */
export interface DeploymentMeter {
  answered(result: PredictResult, seconds: number): void;
  /** A request it failed (5xx) or refused (4xx), by the status answered. */
  failed(status: number, seconds: number): void;
}

const NO_METER: DeploymentMeter = { answered() {}, failed() {} };

/** Where served requests and mirror comparisons are counted (the Prometheus metrics). */
export interface ServingMetricsSink {
  deployment(endpoint: string, deployment: string): DeploymentMeter;
  mirror(endpoint: string, deployment: string, outcome: { ok: false } | { ok: true; rows: number; agreed: number; seconds: number }): void;
}

export interface RoutedResult extends PredictResult {
  endpoint: string;
  deployment: string;
}

export interface EndpointRouterOptions {
  /** Reloads every endpoint this often, in ms, as a fallback to the events (default 5 s). */
  pollMs?: number | undefined;
  /** Re-resolves each deployment's alias this often, in ms (default 2 s; see ModelServer). */
  aliasPollMs?: number | undefined;
  events?: EventBus | undefined;
  metrics?: ServingMetricsSink | undefined;
  /** Where requests are logged (the inference table), at each endpoint's sample rate. */
  inferences?: InferenceSink | undefined;
}

/** The inference log as the router sees it (see monitoring's InferenceLog). */
export interface InferenceSink {
  record(p: PendingInference, sampleRate: number): void;
}

const ENDPOINT_EVENTS: EventType[] = ['endpoint.created', 'endpoint.updated', 'endpoint.deleted', 'deployment.created', 'deployment.updated', 'deployment.deleted', 'traffic.changed'];

/**
 * Serves every endpoint of the store: one ModelServer per deployment (which follows its alias
 * with hot swap), and per endpoint a snapshot of its routing table. A change (an event from this
 * process or any replica, or the fallback poll) rebuilds the endpoint's snapshot beside the old
 * one: new deployments are loaded first, then the snapshot is swapped in one assignment, so a
 * request is routed by one consistent table, and traffic never goes to a model not yet loaded.
 */
export class EndpointRouter implements Component {
  readonly name = 'endpoint-router';
  private snapshots = new Map<string, EndpointSnapshot>();
  private servers = new Map<string, DeploymentRuntime>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly refresher = new SerialJob(() => this.reload(), () => !this.stopped);
  private stopped = false;
  private readonly tallies = new Map<string, MirrorTally>();

  constructor(
    private readonly endpoints: EndpointService,
    private readonly registry: RegistryService,
    private readonly log?: Pick<Logger, 'info' | 'warn'>,
    private readonly opts: EndpointRouterOptions = {},
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = this.opts.events?.subscribe(ENDPOINT_EVENTS, () => void this.refresh());
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.pollMs ?? 5000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.refresher.idle();
    await Promise.all([...this.servers.values()].map((d) => d.server.stop()));
    this.servers.clear();
  }

  /** The endpoint's current snapshot, or a 404 naming it. */
  snapshot(name: string): EndpointSnapshot {
    const s = this.snapshots.get(name);
    if (s === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${name}' does not exist`);
    return s;
  }

  list(): EndpointSnapshot[] {
    return [...this.snapshots.values()];
  }

  /** The endpoint's current snapshot, or undefined. */
  find(name: string): EndpointSnapshot | undefined {
    return this.snapshots.get(name);
  }

  /** The resource a predict call on `name` is checked against (the name alone for an endpoint not served here). */
  resourceOf(name: string): { endpoint: string; models?: readonly string[]; roles?: readonly string[] | undefined } {
    return this.snapshots.get(name)?.resource ?? { endpoint: name };
  }

  /**
   * The deployment a request goes to: the one the pin header names; else, when the endpoint has a
   * sticky header and the request carries it, the one its value hashes to; else a weighted draw.
   */
  pick(s: EndpointSnapshot, headers: Record<string, string | string[] | undefined>): DeploymentRuntime {
    const pinned = headerValue(headers[PIN_HEADER]);
    if (pinned !== undefined) {
      const d = s.deployments.get(pinned);
      if (d === undefined) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `endpoint '${s.endpoint.name}' has no deployment '${pinned}' (deployments: ${[...s.deployments.keys()].join(', ') || 'none'})`, { field: PIN_HEADER });
      }
      return d;
    }
    if (s.table.length === 0) throw new FluxError('TEMPORARILY_UNAVAILABLE', `endpoint '${s.endpoint.name}' has no deployment taking traffic`);
    const sticky = s.endpoint.stickyHeader === null ? undefined : headerValue(headers[s.endpoint.stickyHeader]);
    const r = sticky !== undefined ? fnv1a(sticky) % 100 : Math.random() * 100;
    for (const e of s.table) if (r < e.upTo) return e.deployment;
    return s.table.at(-1)!.deployment;
  }

  /**
   * Routes one predict request and answers it with the deployment and version that did. Its
   * latency and outcome are recorded for the deployment (a refusal of bad input is the caller's,
   * not the model's, and is not); mirrors get their copy after the answer, never delaying it.
   */
  async predict(endpoint: string, body: unknown, headers: Record<string, string | string[] | undefined>, requestId?: string): Promise<RoutedResult> {
    return this.predictNow(endpoint, body, headers, requestId);
  }

  /**
   * `predict`, answered without a promise when the deployment's model computes on this thread (see
   * ModelServer.predictNow). `requestId` is what the request is logged under (else its
   * X-Request-Id, else a new one).
   */
  predictNow(endpoint: string, body: unknown, headers: Record<string, string | string[] | undefined>, requestId?: string): RoutedResult | Promise<RoutedResult> {
    if (tracing !== undefined) return this.predictTraced(tracing, endpoint, body, headers, requestId); // tracing: the one check when off
    const s = this.snapshot(endpoint);
    return this.run(s, this.routed(s, body, headers, requestId), body, headers, requestId);
  }

  /** Predicts on the deployment chosen, recording (and logging) how it went. */
  private run(s: EndpointSnapshot, d: DeploymentRuntime, body: unknown, headers: Record<string, string | string[] | undefined>, requestId: string | undefined): RoutedResult | Promise<RoutedResult> {
    const deadline = deadlineOf(headers);
    const t0 = performance.now();
    let out: PredictResult | Promise<PredictResult>;
    try {
      out = d.server.predictNow(body, deadline);
    } catch (e) {
      return this.failed(s, d, t0, e, body, headers, requestId);
    }
    if (out instanceof Promise) return out.then((r) => this.answered(s, d, body, r, t0, headers, requestId), (e: unknown) => this.failed(s, d, t0, e, body, headers, requestId));
    return this.answered(s, d, body, out, t0, headers, requestId);
  }

  // --- tracing (src/tracing): taken only while tracing is on ---------------------------------
  /** predictNow inside a `fluxops.predict` span that continues the caller's W3C trace, ended by whichever way it ends. */
  private predictTraced(t: Tracing, endpoint: string, body: unknown, headers: Record<string, string | string[] | undefined>, requestId: string | undefined): RoutedResult | Promise<RoutedResult> {
    const span = t.startPredict(endpoint, headers);
    try {
      const s = this.snapshot(endpoint);
      const d = this.routed(s, body, headers, requestId);
      t.predictRouted(span, d.name, d.server.model);
      const out = this.run(s, d, body, headers, requestId);
      if (out instanceof Promise) return out.then((r) => t.predictAnswered(span, r), (e: unknown) => t.predictFailed(span, e));
      return t.predictAnswered(span, out);
    } catch (e) {
      return t.predictFailed(span, e);
    }
  }
  // --- end of tracing --------------------------------------------------------------------------

  private answered(
    s: EndpointSnapshot,
    d: DeploymentRuntime,
    body: unknown,
    result: PredictResult,
    t0: number,
    headers: Record<string, string | string[] | undefined>,
    requestId: string | undefined,
  ): RoutedResult {
    const ms = performance.now() - t0;
    const endpoint = s.endpoint.name;
    d.stats.record(ms, true, result.predictions);
    d.meter.answered(result, ms / 1000);
    if (this.opts.inferences !== undefined) this.logRequest(s, d.name, result.model, result.version, 200, ms, body, result, null, headers, requestId);
    for (const m of s.mirrors) {
      if (m.deployment !== d && Math.random() * 100 < m.percent) this.shadow(endpoint, m.deployment, body, result, ms);
    }
    // Built field by field: an object spread of results of several shapes (classifier, regressor)
    // is a slow generic copy on every request.
    return { model: result.model, version: result.version, classes: result.classes, predictions: result.predictions, probabilities: result.probabilities, endpoint, deployment: d.name };
  }

  /** Counts (and logs) a failed prediction for its deployment and rethrows it. */
  private failed(s: EndpointSnapshot, d: DeploymentRuntime, t0: number, e: unknown, body: unknown, headers: Record<string, string | string[] | undefined>, requestId: string | undefined): never {
    const ms = performance.now() - t0;
    const status = e instanceof FluxError ? e.httpStatus : 500;
    // A refusal of bad input is the caller's, not the model's: counted, but not against its gates.
    if (status >= 500) d.stats.record(ms, false, undefined);
    d.meter.failed(status, ms / 1000);
    if (this.opts.inferences !== undefined) this.logRequest(s, d.name, d.server.model?.name ?? null, d.server.model?.version ?? null, status, ms, body, undefined, e, headers, requestId);
    throw e;
  }

  /** The deployment that takes the request; a refusal (no deployment takes traffic: 503; a bad pin header: 400) is logged, since the endpoint's caller saw it. */
  private routed(s: EndpointSnapshot, body: unknown, headers: Record<string, string | string[] | undefined>, requestId: string | undefined): DeploymentRuntime {
    try {
      return this.pick(s, headers);
    } catch (e) {
      if (this.opts.inferences !== undefined) this.logRequest(s, '', null, null, e instanceof FluxError ? e.httpStatus : 500, 0, body, undefined, e, headers, requestId);
      throw e;
    }
  }

  /** Hands one request to the inference log, under its request id (the route's, else its X-Request-Id, else a new one). */
  private logRequest(
    s: EndpointSnapshot,
    deployment: string,
    model: string | null,
    version: string | null,
    status: number,
    latencyMs: number,
    body: unknown,
    result: PredictResult | undefined,
    error: unknown,
    headers: Record<string, string | string[] | undefined>,
    requestId: string | undefined,
  ): void {
    this.opts.inferences!.record(
      {
        endpoint: s.endpoint.name,
        deployment,
        requestId: requestId ?? headerValue(headers['x-request-id']) ?? randomUUID(),
        time: Date.now(),
        model,
        version,
        status,
        latencyMs,
        body,
        result,
        error: error === null ? null : error instanceof Error ? error.message : `${error as string}`,
      },
      s.endpoint.inferenceLog.sampleRate,
    );
  }

  /** Every mirror tally of this server, for the metrics. */
  allMirrorStats(): Array<{ endpoint: string; deployment: string; stats: MirrorStats }> {
    return [...this.tallies].map(([key, t]) => {
      const [endpoint, deployment] = key.split('\u0000') as [string, string];
      return { endpoint, deployment, stats: t.stats() };
    });
  }

  /** How each mirrored deployment of the endpoint has compared with the live answers, on this server. */
  mirrorStats(endpoint: string): Record<string, MirrorStats> {
    const out: Record<string, MirrorStats> = {};
    for (const [key, t] of this.tallies) {
      const [e, d] = key.split('\u0000') as [string, string];
      if (e === endpoint) out[d] = t.stats();
    }
    return out;
  }

  private shadow(endpoint: string, m: DeploymentRuntime, body: unknown, live: PredictResult, liveMs: number): void {
    const key = `${endpoint}\u0000${m.name}`;
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = new MirrorTally();
      this.tallies.set(key, tally);
    }
    const t = tally;
    setImmediate(() => {
      const t0 = performance.now();
      m.server.predict(body).then(
        (r) => {
          const ms = performance.now() - t0;
          const { rows, agreed, diffSum } = compare(live, r);
          t.compared(rows, agreed, diffSum, ms, liveMs);
          this.opts.metrics?.mirror(endpoint, m.name, { ok: true, rows, agreed, seconds: ms / 1000 });
        },
        () => {
          t.failed();
          this.opts.metrics?.mirror(endpoint, m.name, { ok: false });
        },
      );
    });
  }

  /** Reloads every endpoint from the store; never throws. A call during a reload runs one more after it. */
  refresh(): Promise<void> {
    return this.refresher.run();
  }

  private async reload(): Promise<void> {
    let all: Endpoint[];
    try {
      all = await this.endpoints.listEndpoints();
    } catch (e) {
      this.log?.warn({ err: (e as Error).message }, 'endpoints not reloaded');
      return;
    }
    if (this.stopped) return;
    const wanted = new Map<string, { endpoint: string; name: string; ref: string; batching: Batching | null }>();
    for (const e of all) for (const d of e.deployments) wanted.set(runtimeKey(e.name, d), { endpoint: e.name, name: d.name, ref: d.model, batching: d.batching });
    // New deployments (or new models of one) are loaded before any snapshot routes to them.
    const added: DeploymentRuntime[] = [];
    for (const [key, w] of wanted) {
      if (this.servers.has(key)) continue;
      const server = new ModelServer(this.registry, w.ref, this.log, { pollMs: this.opts.aliasPollMs, events: this.opts.events, batching: w.batching });
      const runtime: DeploymentRuntime = { endpoint: w.endpoint, name: w.name, ref: w.ref, server, stats: new DeploymentStats(), meter: this.opts.metrics?.deployment(w.endpoint, w.name) ?? NO_METER };
      await server.start();
      this.servers.set(key, runtime);
      added.push(runtime);
    }
    const next = new Map<string, EndpointSnapshot>();
    for (const e of all) {
      const current = this.snapshots.get(e.name);
      if (current !== undefined && current.endpoint.generation === e.generation && added.every((a) => a.endpoint !== e.name)) {
        next.set(e.name, current);
        continue;
      }
      const deployments = new Map(e.deployments.map((d) => [d.name, this.servers.get(runtimeKey(e.name, d))!]));
      const table: Array<{ upTo: number; deployment: DeploymentRuntime }> = [];
      let upTo = 0;
      for (const d of e.deployments) {
        const w = e.traffic[d.name] ?? 0;
        if (w <= 0) continue;
        upTo += w;
        table.push({ upTo, deployment: deployments.get(d.name)! });
      }
      const mirrors = Object.entries(e.mirror)
        .filter(([name, p]) => p > 0 && deployments.has(name))
        .map(([name, percent]) => ({ percent, deployment: deployments.get(name)! }));
      const models = [...new Set(e.deployments.map((d) => parseModelRefName(d.model)))];
      const main = deployments.get(mainDeployment(e.traffic) ?? '') ?? [...deployments.values()][0];
      next.set(e.name, { endpoint: e, deployments, table, mirrors, main, resource: { endpoint: e.name, models, roles: e.predictRoles ?? undefined } });
      if (current?.endpoint.generation !== e.generation) this.log?.info({ endpoint: e.name, generation: e.generation, traffic: e.traffic }, current === undefined ? 'endpoint loaded' : 'endpoint updated');
    }
    this.snapshots = next;
    // Deployments no longer wanted stop following their model; requests in flight keep the model they hold.
    for (const [key, d] of this.servers) {
      if (!wanted.has(key)) {
        this.servers.delete(key);
        void d.server.stop();
      }
    }
  }
}


/**
 * Rows compared, rows where both predicted the same, and the summed difference per row: the total
 * variation distance between the probability rows when both have them over the same classes, else
 * the absolute difference of the predicted values (regressors), else 0 or 1 (classes differ).
 */
function compare(live: PredictResult, shadow: PredictResult): { rows: number; agreed: number; diffSum: number } {
  const rows = Math.min(live.predictions.length, shadow.predictions.length);
  const lc = live.classes ?? [];
  const sc = shadow.classes ?? [];
  const sameClasses = lc.length > 0 && lc.length === sc.length && lc.every((c, i) => c === sc[i]);
  let agreed = 0;
  let diffSum = 0;
  for (let i = 0; i < rows; i++) {
    const a = live.predictions[i]!;
    const b = shadow.predictions[i]!;
    if (a === b) agreed++;
    const pa = live.probabilities?.[i];
    const pb = shadow.probabilities?.[i];
    if (sameClasses && pa !== undefined && pb !== undefined) {
      let tv = 0;
      for (let c = 0; c < pa.length; c++) tv += Math.abs(pa[c]! - (pb[c] ?? 0));
      diffSum += tv / 2;
    } else if (typeof a === 'number' && typeof b === 'number') {
      diffSum += Math.abs(a - b);
    } else if (a !== b) {
      diffSum += 1;
    }
  }
  return { rows, agreed, diffSum };
}

/** A deployment's runtime is replaced (its model loaded anew) when its model reference or batching changes. */
function runtimeKey(endpoint: string, d: Deployment): string {
  return `${endpoint}\u0000${d.name}\u0000${d.model}\u0000${d.batching === null ? '' : `${d.batching.maxBatch}/${d.batching.maxWaitMs}`}`;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

/** FNV-1a, 32 bits: a stable hash of the sticky header's value. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
