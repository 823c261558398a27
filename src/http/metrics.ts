import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Rollout } from '../rollouts/index.js';
import type { ServingMetricsSink } from '../serving/index.js';

/** Prometheus metrics of one app instance, on a registry of its own (tests run several apps). */
export class HttpMetrics implements ServingMetricsSink {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly predictions: Counter<'model' | 'version' | 'class'>;
  readonly endpointRequests: Counter<'endpoint' | 'deployment' | 'outcome'>;
  readonly endpointDuration: Histogram<'endpoint' | 'deployment'>;
  readonly mirrorRequests: Counter<'endpoint' | 'deployment' | 'outcome'>;
  readonly mirrorRows: Counter<'endpoint' | 'deployment' | 'agreed'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'fluxops_' });
    this.requests = new Counter({
      name: 'fluxops_http_requests_total',
      help: 'HTTP requests by route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'fluxops_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.predictions = new Counter({
      name: 'fluxops_predictions_total',
      help: 'Predictions served, by model, version and predicted class',
      labelNames: ['model', 'version', 'class'],
      registers: [this.registry],
    });
    this.endpointRequests = new Counter({
      name: 'fluxops_endpoint_requests_total',
      help: 'Predictions answered through endpoints, by deployment and outcome (ok, or error: failed on the server side)',
      labelNames: ['endpoint', 'deployment', 'outcome'],
      registers: [this.registry],
    });
    this.endpointDuration = new Histogram({
      name: 'fluxops_endpoint_predict_duration_seconds',
      help: 'Time to predict through an endpoint, by deployment (routing and model, not HTTP)',
      labelNames: ['endpoint', 'deployment'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
    this.mirrorRequests = new Counter({
      name: 'fluxops_mirror_requests_total',
      help: 'Copies of live requests sent to mirrored deployments, by outcome',
      labelNames: ['endpoint', 'deployment', 'outcome'],
      registers: [this.registry],
    });
    this.mirrorRows = new Counter({
      name: 'fluxops_mirror_rows_total',
      help: 'Rows a mirrored deployment predicted, by whether it agreed with the live answer',
      labelNames: ['endpoint', 'deployment', 'agreed'],
      registers: [this.registry],
    });
  }

  /**
   * Rollout metrics, read from the store at each scrape (so every replica reports the same):
   * the active rollouts' step and weight, and rollbacks by endpoint and the gate that failed
   * (a gate metric, `smoke`, `inconclusive` or `operator`: a bounded label).
   */
  watchRollouts(source: { active: () => Promise<Rollout[]>; ended: () => Promise<Rollout[]> }): void {
    new Gauge({
      name: 'fluxops_rollout_step',
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
    if (result.predictions.length === 1) {
      this.predictions.inc({ model: result.model, version: result.version, class: String(result.predictions[0]) });
      return;
    }
    const counts = new Map<string, number>();
    for (const p of result.predictions) counts.set(String(p), (counts.get(String(p)) ?? 0) + 1);
    for (const [cls, n] of counts) this.predictions.inc({ model: result.model, version: result.version, class: cls }, n);
  }

  request(endpoint: string, deployment: string, ok: boolean, seconds: number): void {
    this.endpointRequests.inc({ endpoint, deployment, outcome: ok ? 'ok' : 'error' });
    this.endpointDuration.observe({ endpoint, deployment }, seconds);
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
