import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one app instance, on a registry of its own (tests run several apps). */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly predictions: Counter<'model' | 'version' | 'class'>;

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
  }
}
