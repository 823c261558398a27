import { parseDuration } from '../../core/index.js';
import type { EndpointService } from '../../endpoints/index.js';
import type { InferenceStore } from '../inferences/index.js';
import type { MonitorService } from '../monitors/index.js';
import type { MetricSelector, MetricSource } from './alert-rule.js';
import type { AlertStore } from './alert-store.js';
import type { Slo } from './slo.js';

const MAX_LATENCIES = 100_000;

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
        const l = await this.inferences.latencies(s.endpoint, t - parseDuration(s.window, 'window'), t + 1, MAX_LATENCIES);
        return l.length === 0 ? undefined : quantile(l, s.quantile) / 1000;
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

/** The q-quantile of the values (linear between order statistics, as numpy's default). */
export function quantile(values: number[], q: number): number {
  const s = Float64Array.from(values).sort();
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo]! + (h - lo) * (s[lo + 1]! - s[lo]!) : s[lo]!;
}
