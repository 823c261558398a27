import type { InferenceLogStats, MonitorResult } from '../monitoring/index.js';
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Rollout } from '../rollouts/index.js';
import type { DeploymentMeter, MirrorStats, ServingMetricsSink } from '../serving/index.js';
import { CounterFamily, HistogramFamily, type CounterSeries } from './series.js';

/** Latency buckets of HTTP requests, in seconds. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Latency buckets of predictions through an endpoint (routing and model, not HTTP), in seconds. */
const PREDICT_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Score buckets: a classifier's probabilities lie in [0, 1]. */
const SCORE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Distinct predicted classes counted per model or deployment; more would be an unbounded label. */
const MAX_CLASS_SERIES = 100;

/** The series of one route: requests by status and the latency histogram. */
export interface RouteMeter {
  done(status: number, seconds: number): void;
}

/**
 * Prometheus metrics of one app instance, on a registry of its own (tests run several apps). The
 * series updated on every request (HTTP requests, endpoint predictions) are taken once per route
 * and per deployment and then updated as plain numbers (see series.ts).
 */
export class HttpMetrics implements ServingMetricsSink {
  readonly registry = new Registry();
  readonly requests: CounterFamily<'method' | 'route' | 'status'>;
  readonly duration: HistogramFamily<'method' | 'route'>;
  readonly predictions: CounterFamily<'model' | 'version' | 'class'>;
  readonly endpointRequests: CounterFamily<'endpoint' | 'deployment' | 'status'>;
  readonly endpointDuration: HistogramFamily<'endpoint' | 'deployment'>;
  readonly endpointPredictions: CounterFamily<'endpoint' | 'deployment' | 'class'>;
  readonly endpointScores: HistogramFamily<'endpoint' | 'deployment'>;
  readonly mirrorRequests: Counter<'endpoint' | 'deployment' | 'outcome'>;
  readonly mirrorRows: Counter<'endpoint' | 'deployment' | 'agreed'>;
  private readonly routes = new Map<string, RouteMeter>();
  private inCluster = false;
  private requestSeq = 0;
  private readonly pending = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
  private readonly models = new Map<string, SeriesBy<number | string>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'fluxops_' });
    const registers = [this.registry];
    this.requests = new CounterFamily({ name: 'fluxops_http_requests_total', help: 'HTTP requests by route pattern and status code', labelNames: ['method', 'route', 'status'], registers });
    this.duration = new HistogramFamily({ name: 'fluxops_http_request_duration_seconds', help: 'HTTP request latency by route pattern', labelNames: ['method', 'route'], buckets: HTTP_BUCKETS, registers });
    this.predictions = new CounterFamily({ name: 'fluxops_predictions_total', help: 'Predictions served, by model, version and predicted class', labelNames: ['model', 'version', 'class'], registers });
    this.endpointRequests = new CounterFamily({
      name: 'fluxops_endpoint_requests_total',
      help: 'Predictions through endpoints, by the deployment that took them and the status it answered (refusals of a bad request included)',
      labelNames: ['endpoint', 'deployment', 'status'],
      registers,
    });
    this.endpointDuration = new HistogramFamily({
      name: 'fluxops_endpoint_predict_duration_seconds',
      help: 'Time to predict through an endpoint, by deployment (routing and model, not HTTP)',
      labelNames: ['endpoint', 'deployment'],
      buckets: PREDICT_BUCKETS,
      registers,
    });
    this.endpointPredictions = new CounterFamily({
      name: 'fluxops_endpoint_predictions_total',
      help: 'Rows predicted through endpoints, by deployment and predicted class (classifiers)',
      labelNames: ['endpoint', 'deployment', 'class'],
      registers,
    });
    this.endpointScores = new HistogramFamily({
      name: 'fluxops_endpoint_prediction_score',
      help: "Scores predicted through endpoints, by deployment: a binary classifier's probability of its second (positive) class, else the probability of the predicted class",
      labelNames: ['endpoint', 'deployment'],
      buckets: SCORE_BUCKETS,
      registers,
    });
    this.mirrorRequests = new Counter({
      name: 'fluxops_mirror_requests_total',
      help: 'Copies of live requests sent to mirrored deployments, by outcome',
      labelNames: ['endpoint', 'deployment', 'outcome'],
      registers,
    });
    this.mirrorRows = new Counter({
      name: 'fluxops_mirror_rows_total',
      help: 'Rows a mirrored deployment predicted, by whether it agreed with the live answer',
      labelNames: ['endpoint', 'deployment', 'agreed'],
      registers,
    });
  }

  /**
   * In a serving worker of `fluxops server --workers N`: lets the primary collect this worker's
   * metrics, so that a scrape of any worker (`text()`) answers for all of them.
   */
  shareWithPrimary(): void {
    this.inCluster = true;
    // Constructing one installs prom-client's worker-side listener; it reports this registry.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([this.registry]);
    process.on('message', (m: { fluxops?: string; id?: number; text?: string; error?: string }) => {
      if (m?.fluxops !== 'metrics-reply' || m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.text !== undefined) p.resolve(m.text);
      else p.reject(new Error(m.error ?? 'the primary sent no metrics'));
    });
  }

  /** The exposition text: this process's metrics, or in a worker every worker's, added up by the primary. */
  async text(): Promise<string> {
    if (!this.inCluster || process.send === undefined) return this.registry.metrics();
    const id = ++this.requestSeq;
    const reply = new Promise<string>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error('the primary did not answer within 5 s'));
      }, 5000).unref();
    });
    process.send({ fluxops: 'metrics', id });
    return reply;
  }

  /** The series of one route (taken once per route and method). */
  route(method: string, route: string): RouteMeter {
    const key = `${method} ${route}`;
    let m = this.routes.get(key);
    if (m === undefined) {
      const latency = this.duration.with({ method, route });
      const statuses = new SeriesBy<number>((status) => this.requests.with({ method, route, status }));
      m = {
        done(status, seconds) {
          statuses.inc(status);
          latency.observe(seconds);
        },
      };
      this.routes.set(key, m);
    }
    return m;
  }

  /**
   * Rollout metrics, read from the store at each scrape (so every replica reports the same):
   * the active rollouts' step and weight, and rollbacks by endpoint and the gate that failed
   * (a gate metric, `smoke`, `inconclusive` or `operator`: a bounded label).
   */
  watchRollouts(source: { active: () => Promise<Rollout[]>; ended: () => Promise<Rollout[]> }): void {
    new Gauge({
      name: 'fluxops_rollout_step',
      // Read from the store: every worker reports the same value, so a cluster scrape takes one.
      aggregator: 'first',
      help: 'The step an active rollout is at (0-based), by endpoint, target deployment and state',
      labelNames: ['endpoint', 'target', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const r of await source.active()) this.set({ endpoint: r.endpoint, target: r.target, state: r.state }, r.step);
      },
    });
    new Gauge({
      name: 'fluxops_rollout_target_weight',
      aggregator: 'first',
      help: "The traffic percent an active rollout's current step gives the target deployment (paused steps: the previous step's)",
      labelNames: ['endpoint', 'target'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const r of await source.active()) {
          const weights = r.spec.steps.slice(0, r.step + 1).flatMap((s) => (s.kind === 'weight' ? [s.weight] : []));
          this.set({ endpoint: r.endpoint, target: r.target }, weights.at(-1) ?? 0);
        }
      },
    });
    new Counter({
      name: 'fluxops_rollout_rollbacks_total',
      aggregator: 'first',
      help: 'Rollouts sent back to their stable deployment, by endpoint and what failed',
      labelNames: ['endpoint', 'gate'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const r of await source.ended()) {
          if (r.state !== 'rolled_back' && r.state !== 'aborted') continue;
          this.inc({ endpoint: r.endpoint, gate: failedGate(r) });
        }
      },
    });
  }

  /** Predictions of one answer, by class; a regressor's values would be an unbounded label, so only classifiers count. */
  countPredictions(result: { model: string; version: string; classes?: unknown; predictions: ReadonlyArray<number | string> }): void {
    if (result.classes === undefined) return;
    const key = `${result.model}\u0000${result.version}`;
    let c = this.models.get(key);
    if (c === undefined) {
      const { model, version } = result;
      c = new SeriesBy<number | string>((cls) => this.predictions.with({ model, version, class: cls }), MAX_CLASS_SERIES);
      this.models.set(key, c);
    }
    c.incEach(result.predictions);
  }

  deployment(endpoint: string, deployment: string): DeploymentMeter {
    const labels = { endpoint, deployment };
    const latency = this.endpointDuration.with(labels);
    const scores = this.endpointScores.with(labels);
    const statuses = new SeriesBy<number>((status) => this.endpointRequests.with({ endpoint, deployment, status }));
    const classes = new SeriesBy<number | string>((cls) => this.endpointPredictions.with({ endpoint, deployment, class: cls }), MAX_CLASS_SERIES);
    return {
      answered(result, seconds) {
        statuses.inc(200);
        latency.observe(seconds);
        if (result.classes === undefined) return;
        classes.incEach(result.predictions);
        const probs = result.probabilities;
        if (probs === undefined) return;
        const binary = result.classes.length === 2;
        for (let i = 0; i < probs.length; i++) {
          const row = probs[i]!;
          if (binary) scores.observe(row[1]!);
          else {
            let top = 0;
            for (const p of row) if (p > top) top = p;
            scores.observe(top);
          }
        }
      },
      failed(code, seconds) {
        statuses.inc(code);
        latency.observe(seconds);
      },
    };
  }

  /** How mirrored deployments agree with the live answers, read from the router at each scrape. */
  watchMirrors(source: () => Array<{ endpoint: string; deployment: string; stats: MirrorStats }>): void {
    new Gauge({
      name: 'fluxops_mirror_agreement_ratio',
      aggregator: 'average',
      help: 'Share of rows where a mirrored deployment predicted what the live deployment did, since this server started',
      labelNames: ['endpoint', 'deployment'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of source()) if (m.stats.rows > 0) this.set({ endpoint: m.endpoint, deployment: m.deployment }, m.stats.agreement);
      },
    });
    new Gauge({
      name: 'fluxops_mirror_score_difference',
      aggregator: 'average',
      help: "Mean difference per row between a mirrored deployment's answer and the live one (total variation distance of the probabilities, or |difference| of a regressor's values)",
      labelNames: ['endpoint', 'deployment'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of source()) if (m.stats.rows > 0) this.set({ endpoint: m.endpoint, deployment: m.deployment }, m.stats.meanAbsScoreDiff);
      },
    });
  }

  /**
   * Monitor results: the newest of every monitor, read from the store at each scrape (every
   * replica reports the same values, so a cluster scrape takes one).
   */
  watchMonitors(latest: () => Promise<MonitorResult[]>): void {
    let cached: { at: number; value: Promise<MonitorResult[]> } | undefined;
    // One read per scrape, shared by the gauges.
    const read = (): Promise<MonitorResult[]> => {
      if (cached === undefined || Date.now() - cached.at > 1000) cached = { at: Date.now(), value: latest().catch(() => []) };
      return cached.value;
    };
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, r: MonitorResult) => void): void => {
      new Gauge({
        name,
        help,
        labelNames,
        aggregator: 'first',
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const r of await read()) fill(this, r);
        },
      });
    };
    gauge('fluxops_monitor_dataset_drift', "1 when the monitor's last check found the dataset drifted, else 0", ['monitor', 'endpoint'], (g, r) => {
      if (r.dataset !== null) g.set({ monitor: r.monitor, endpoint: r.endpoint }, r.dataset.drifted ? 1 : 0);
    });
    gauge('fluxops_monitor_drift_share', 'Share of columns that drifted in the last check', ['monitor', 'endpoint'], (g, r) => {
      if (r.dataset !== null) g.set({ monitor: r.monitor, endpoint: r.endpoint }, r.dataset.driftedShare);
    });
    gauge('fluxops_monitor_drift_score', "A column's drift statistic in the last check (KS D, normalised Wasserstein, chi-squared, Jensen-Shannon or PSI: see the method label)", ['monitor', 'column', 'method'], (g, r) => {
      for (const [column, c] of Object.entries(r.columns)) if (Number.isFinite(c.statistic)) g.set({ monitor: r.monitor, column, method: c.method }, c.statistic);
    });
    gauge('fluxops_monitor_column_drift', '1 when the column drifted in the last check, else 0', ['monitor', 'column'], (g, r) => {
      for (const [column, c] of Object.entries(r.columns)) g.set({ monitor: r.monitor, column }, c.drifted ? 1 : 0);
    });
    gauge('fluxops_monitor_prediction_drift', '1 when the predicted class or score distribution drifted in the last check, else 0', ['monitor', 'endpoint'], (g, r) => {
      if (r.status === 'ok' || r.status === 'drift') g.set({ monitor: r.monitor, endpoint: r.endpoint }, r.predictionDrift ? 1 : 0);
    });
    gauge('fluxops_monitor_window_rows', 'Logged rows in the last check\'s window', ['monitor', 'endpoint'], (g, r) => g.set({ monitor: r.monitor, endpoint: r.endpoint }, r.rows));
    gauge('fluxops_monitor_last_check_timestamp_seconds', 'When the monitor was last checked', ['monitor', 'status'], (g, r) => g.set({ monitor: r.monitor, status: r.status }, r.time / 1000));
    for (const metric of ['accuracy', 'f1', 'roc_auc'] as const) {
      const key = metric === 'roc_auc' ? 'rocAuc' : metric;
      gauge(`fluxops_monitor_estimated_${metric}`, `${metric} estimated without labels (CBPE) on the last window`, ['monitor', 'endpoint'], (g, r) => {
        const e = r.performance?.estimated;
        if (e != null) g.set({ monitor: r.monitor, endpoint: r.endpoint }, e[key]);
      });
      gauge(`fluxops_monitor_realised_${metric}`, `${metric} on the rows of the last window that have labels`, ['monitor', 'endpoint'], (g, r) => {
        const e = r.performance?.realised;
        if (e != null) g.set({ monitor: r.monitor, endpoint: r.endpoint }, e[key]);
      });
    }
  }

  /** Synthetic checks and alert states, read from the store at each scrape. */
  watchAlerts(source: { checks: () => Promise<Array<{ name: string; endpoint: string; consecutiveFailures: number; lastMs: number | null }>>; alerts: () => Promise<Array<{ alert: string; rule: string; severity: string; status: string }>> }): void {
    new Gauge({
      name: 'fluxops_synthetic_check_consecutive_failures',
      aggregator: 'first',
      help: 'Failures of a synthetic check since its last success',
      labelNames: ['check', 'endpoint'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of await source.checks().catch(() => [])) this.set({ check: c.name, endpoint: c.endpoint }, c.consecutiveFailures);
      },
    });
    new Gauge({
      name: 'fluxops_alert_firing',
      aggregator: 'first',
      help: '1 for an alert that is firing, 0 for one pending or inactive (rules and SLO burn-rate pairs FluxOps evaluates itself)',
      labelNames: ['alert', 'rule', 'severity'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const a of await source.alerts().catch(() => [])) this.set({ alert: a.alert, rule: a.rule, severity: a.severity }, a.status === 'firing' ? 1 : 0);
      },
    });
  }

  /** The inference log's counters, read at each scrape (the serving path touches no series for it). */
  watchInferenceLog(source: () => InferenceLogStats): void {
    new Counter({
      name: 'fluxops_inference_log_records_total',
      help: 'Requests written to the inference table, by endpoint',
      labelNames: ['endpoint'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [endpoint, n] of source().written) this.inc({ endpoint }, n);
      },
    });
    new Counter({
      name: 'fluxops_inference_log_dropped_total',
      help: "Requests the endpoint's sample rate would have logged that were not: backpressure (writing fell behind and sampling dropped), queue_full, disk_full, write_error",
      labelNames: ['endpoint', 'reason'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [key, n] of source().dropped) {
          const [endpoint, reason] = key.split('\u0000') as [string, string];
          this.inc({ endpoint, reason }, n);
        }
      },
    });
    new Gauge({
      name: 'fluxops_inference_log_queue_records',
      help: 'Requests waiting to be written to the inference table',
      registers: [this.registry],
      collect() {
        this.set(source().queued);
      },
    });
    new Gauge({
      name: 'fluxops_inference_log_sampling_factor',
      aggregator: 'min',
      help: "What back-pressure multiplies every endpoint's sample rate by now (1: none; 0: the disk is nearly full)",
      registers: [this.registry],
      collect() {
        this.set(source().pressure);
      },
    });
  }

  mirror(endpoint: string, deployment: string, outcome: { ok: false } | { ok: true; rows: number; agreed: number; seconds: number }): void {
    this.mirrorRequests.inc({ endpoint, deployment, outcome: outcome.ok ? 'ok' : 'error' });
    if (!outcome.ok) return;
    if (outcome.agreed > 0) this.mirrorRows.inc({ endpoint, deployment, agreed: 'true' }, outcome.agreed);
    if (outcome.rows > outcome.agreed) this.mirrorRows.inc({ endpoint, deployment, agreed: 'false' }, outcome.rows - outcome.agreed);
  }
}

/** What made a rollout roll back, as a bounded label. */
function failedGate(r: Rollout): string {
  const reason = r.reason ?? '';
  const gate = /^gate ([a-z0-9_]+)/.exec(reason);
  if (gate !== null) return reason.includes(' inconclusive') ? 'inconclusive' : gate[1]!;
  if (reason.startsWith('smoke')) return 'smoke';
  return 'operator';
}

/** Counter series made on first sight of a value (a status code, a predicted class), at most `max` distinct ones. */
class SeriesBy<K extends number | string> {
  private readonly series = new Map<K, CounterSeries>();
  constructor(
    private readonly make: (value: string) => CounterSeries,
    private readonly max = Infinity,
  ) {}

  inc(value: K): void {
    let c = this.series.get(value);
    if (c === undefined) {
      if (this.series.size >= this.max) return;
      c = this.make(String(value));
      this.series.set(value, c);
    }
    c.value++;
  }

  incEach(values: ReadonlyArray<K>): void {
    for (let i = 0; i < values.length; i++) this.inc(values[i]!);
  }
}
