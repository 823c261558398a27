import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
