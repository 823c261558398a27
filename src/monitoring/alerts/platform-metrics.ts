import { parseDuration } from '../../core/index.js';
import type { EndpointService } from '../../endpoints/index.js';
import type { InferenceStore, LatencyHistogram } from '../inferences/index.js';
import type { MonitorService } from '../monitors/index.js';
import type { MetricSelector, MetricSource } from './alert-rule.js';
import type { AlertStore } from './alert-store.js';
import type { Slo } from './slo.js';


/**
 * The values alert rules and SLOs read, as every server sees them: request figures from the
 * inference table (so they cover the traffic of every replica; an endpoint logging a sample is
 * scaled by its sample rate for the request rate, while ratios and percentiles are estimated from
 * the sample), drift and estimated performance from the monitors' latest results, and synthetic
 * checks' consecutive failures.
 */
export class PlatformMetricSource implements MetricSource {
  constructor(
    private readonly inferences: InferenceStore,
    private readonly monitors: MonitorService,
    private readonly alerts: AlertStore,
    private readonly endpoints: EndpointService,
  ) {}

  async value(s: MetricSelector, now: Date): Promise<number | undefined> {
    const t = now.getTime();
    switch (s.kind) {
      case 'error_rate': {
        const a = await this.inferences.aggregate(s.endpoint, t - parseDuration(s.window, 'window'), t + 1);
        return a.count === 0 ? undefined : a.errors / a.count;
      }
      case 'latency': {
        const h = await this.inferences.latencyHistogram(s.endpoint, t - parseDuration(s.window, 'window'), t + 1);
        return histogramQuantile(h, s.quantile);
      }
      case 'request_rate': {
        const ms = parseDuration(s.window, 'window');
        const a = await this.inferences.aggregate(s.endpoint, t - ms, t + 1);
        const rate = (await this.endpoints.getEndpoint(s.endpoint).catch(() => undefined))?.inferenceLog.sampleRate ?? 1;
        return rate === 0 ? undefined : a.count / rate / (ms / 1000);
      }
      case 'drift_share':
      case 'dataset_drift':
      case 'drift_score': {
        const [r] = await this.monitors.results(s.monitor, { limit: 1 }).catch(() => []);
        if (r === undefined || r.dataset === null) return undefined;
        if (s.kind === 'drift_share') return r.dataset.driftedShare;
        if (s.kind === 'dataset_drift') return r.dataset.drifted ? 1 : 0;
        const col = s.column === undefined ? undefined : r.columns[s.column];
        return col === undefined ? Math.max(...Object.values(r.columns).map((c) => c.statistic)) : col.statistic;
      }
      case 'estimated_performance': {
        const [r] = await this.monitors.results(s.monitor, { limit: 1 }).catch(() => []);
        const e = r?.performance?.estimated;
        if (e == null) return undefined;
        return s.metric === 'roc_auc' ? e.rocAuc : e[s.metric];
      }
      case 'synthetic_failures':
        return (await this.alerts.getCheck(s.check))?.consecutiveFailures;
    }
  }

  /** The SLO's bad ratio over a window: failed requests (availability) or requests slower than its threshold (latency). */
  async badRatio(slo: Slo, window: string, now: Date): Promise<number | undefined> {
    const t = now.getTime();
    const slower = slo.kind === 'latency' ? (slo.latencyThresholdSeconds ?? 0) * 1000 : undefined;
    const a = await this.inferences.aggregate(slo.endpoint, t - parseDuration(window, 'window'), t + 1, slower);
    if (a.count === 0) return undefined;
    return (slo.kind === 'latency' ? a.slow : a.errors) / a.count;
  }
}

/**
 * The q-quantile of a latency histogram in seconds, as Prometheus's histogram_quantile reads one:
 * linear within the bucket it falls in (the lowest bucket from 0; above the last bound, the last
 * bound). Undefined for an empty histogram.
 */
export function histogramQuantile(h: LatencyHistogram, q: number): number | undefined {
  const total = h.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (seen + c >= rank && c > 0) {
      if (i >= h.boundsMs.length) return h.boundsMs.at(-1)! / 1000;
      const lo = i === 0 ? 0 : h.boundsMs[i - 1]!;
      return (lo + ((h.boundsMs[i]! - lo) * (rank - seen)) / c) / 1000;
    }
    seen += c;
  }
  return h.boundsMs.at(-1)! / 1000;
}
