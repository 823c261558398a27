import { invalid } from '../../core/index.js';

/**
 * What the exported Prometheus rules and Grafana dashboard are built from: the metric names the
 * server exports (src/http/metrics.ts) or that the monitors will export, the SLO targets, and the
 * burn-rate table of the Google SRE workbook (chapter 5, "Alerting on SLOs").
 */

/** The metrics the rules and the dashboard read, exactly as the server names them. */
export const FLUXOPS_METRICS = {
  endpointRequests: 'fluxops_endpoint_requests_total',
  endpointLatencyBucket: 'fluxops_endpoint_predict_duration_seconds_bucket',
  endpointPredictions: 'fluxops_endpoint_predictions_total',
  datasetDrift: 'fluxops_monitor_dataset_drift',
  driftShare: 'fluxops_monitor_drift_share',
  estimatedAccuracy: 'fluxops_monitor_estimated_accuracy',
  syntheticFailures: 'fluxops_synthetic_check_consecutive_failures',
  inferenceLogDropped: 'fluxops_inference_log_dropped_total',
} as const;

/**
 * The `le` bounds of `fluxops_endpoint_predict_duration_seconds` (PREDICT_BUCKETS in
 * src/http/metrics.ts; test/monitoring/export.test.ts checks the two agree). A latency SLO
 * threshold must be one of them: a matcher on any other `le` selects nothing, and the SLO would
 * silently never alert.
 */
export const PREDICT_LATENCY_BUCKETS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** The windows the error and latency ratios are recorded over (every window the burn-rate alerts use). */
export const SLO_RATIO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type SloRatioWindow = (typeof SLO_RATIO_WINDOWS)[number];

export interface BurnRateWindow {
  /** `page` wakes someone up; `ticket` is for working hours. */
  kind: 'page' | 'ticket';
  long: SloRatioWindow;
  short: SloRatioWindow;
  /** How many times faster than "exactly spend the budget in 30 days" the budget is burning. */
  burnRate: number;
  /** Share of a 30-day budget spent over the long window at that burn rate. */
  budgetSpent: number;
}

/** The SRE workbook's recommended multi-window, multi-burn-rate alerts for a 30-day SLO. */
export const BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
  { kind: 'page', long: '1h', short: '5m', burnRate: 14.4, budgetSpent: 0.02 },
  { kind: 'page', long: '6h', short: '30m', burnRate: 6, budgetSpent: 0.05 },
  { kind: 'ticket', long: '1d', short: '2h', burnRate: 3, budgetSpent: 0.1 },
  { kind: 'ticket', long: '3d', short: '6h', burnRate: 1, budgetSpent: 0.1 },
];

/** Alertmanager severities: a page is `critical`, a ticket `warning`, an early hint `info`. */
export const SEVERITY = { page: 'critical', ticket: 'warning', info: 'info' } as const;

export interface MonitoringExportOptions {
  /** Share of endpoint requests that must not fail with a 5xx, over 30 days (default 0.999). */
  availabilityTarget?: number;
  /** The latency SLO's threshold in seconds, one of PREDICT_LATENCY_BUCKETS (default 0.5). */
  latencyThresholdSeconds?: number;
  /** Share of predictions that must be faster than the threshold, over 30 days (default 0.95: P95). */
  latencyTarget?: number;
  /** FluxOpsEndpointErrorRateHigh fires above this 5xx share over 5m, held for 5m (default 0.05). */
  errorRateThreshold?: number;
  /** FluxOpsEndpointRequestVolumeDrop fires when the last 15m carry less than this share of the same 15m a day earlier (default 0.5). */
  volumeDropRatio?: number;
  /** …and only when that day-earlier window had at least this many requests, so a quiet endpoint does not flap (default 100). */
  volumeDropMinRequests?: number;
  /** FluxOpsMonitorDriftShareHigh fires above this share of drifted columns (default 0.3; Evidently calls a dataset drifted at 0.5). */
  driftShareThreshold?: number;
  /** FluxOpsMonitorEstimatedAccuracyDrop fires when estimated accuracy is this far below its 7-day best (default 0.05, five points). */
  estimatedAccuracyDrop?: number;
  /** FluxOpsSyntheticCheckFailing fires at this many consecutive failures of a check (default 3). */
  syntheticFailureThreshold?: number;
}

export type ResolvedExportOptions = Required<MonitoringExportOptions>;

export const EXPORT_DEFAULTS: ResolvedExportOptions = {
  availabilityTarget: 0.999,
  latencyThresholdSeconds: 0.5,
  latencyTarget: 0.95,
  errorRateThreshold: 0.05,
  volumeDropRatio: 0.5,
  volumeDropMinRequests: 100,
  driftShareThreshold: 0.3,
  estimatedAccuracyDrop: 0.05,
  syntheticFailureThreshold: 3,
};

/** The options with defaults filled in; a value out of range is refused with INVALID_PARAMETER_VALUE. */
export function resolveExportOptions(opts: MonitoringExportOptions = {}): ResolvedExportOptions {
  const o: ResolvedExportOptions = { ...EXPORT_DEFAULTS };
  for (const [k, v] of Object.entries(opts) as Array<[keyof MonitoringExportOptions, number | undefined]>) {
    if (v === undefined) continue;
    if (!(k in EXPORT_DEFAULTS)) throw invalid(`unknown monitoring export option ${JSON.stringify(k)}`, { field: k });
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${k} must be a finite number; got ${JSON.stringify(v)}`, { field: k });
    o[k] = v;
  }
  const share = (k: keyof MonitoringExportOptions, v: number): void => {
    if (!(v > 0 && v < 1)) throw invalid(`${k} must lie strictly between 0 and 1; got ${v}`, { field: k });
  };
  share('availabilityTarget', o.availabilityTarget);
  share('latencyTarget', o.latencyTarget);
  share('errorRateThreshold', o.errorRateThreshold);
  share('volumeDropRatio', o.volumeDropRatio);
  share('driftShareThreshold', o.driftShareThreshold);
  share('estimatedAccuracyDrop', o.estimatedAccuracyDrop);
  if (!PREDICT_LATENCY_BUCKETS.includes(o.latencyThresholdSeconds)) {
    throw invalid(`latencyThresholdSeconds must be a bucket bound of fluxops_endpoint_predict_duration_seconds (${PREDICT_LATENCY_BUCKETS.join(', ')}); got ${o.latencyThresholdSeconds}`, {
      field: 'latencyThresholdSeconds',
    });
  }
  if (!(o.volumeDropMinRequests >= 0)) throw invalid(`volumeDropMinRequests must be ≥ 0; got ${o.volumeDropMinRequests}`, { field: 'volumeDropMinRequests' });
  if (!(Number.isInteger(o.syntheticFailureThreshold) && o.syntheticFailureThreshold >= 1)) {
    throw invalid(`syntheticFailureThreshold must be a whole number ≥ 1; got ${o.syntheticFailureThreshold}`, { field: 'syntheticFailureThreshold' });
  }
  return o;
}

/** A number as PromQL and people read it: 1 - 0.999 is 0.001, not 0.0010000000000000009. */
export function num(v: number): string {
  return String(Number(v.toPrecision(12)));
}

/** The error budget of a target (1 − target), rounded off float noise. */
export function budgetOf(target: number): number {
  return Number((1 - target).toPrecision(12));
}

/** A share as a percentage for annotations: 0.999 → "99.9 %". */
export function pct(v: number): string {
  return `${num(v * 100)} %`;
}

export const errorRatioRecord = (w: SloRatioWindow): string => `fluxops:endpoint_error_ratio:rate${w}`;
export const latencyBadRatioRecord = (w: SloRatioWindow): string => `fluxops:endpoint_latency_bad_ratio:rate${w}`;

/**
 * The `le` matcher of a bucket bound. Prometheus 3 stores integral bounds as "1.0" where 2.x
 * scraping text kept "1", so a whole number matches both spellings.
 */
export function leMatcher(bound: number): string {
  const s = num(bound);
  return /^\d+$/.test(s) ? `le=~"${s}(\\\\.0)?"` : `le="${s}"`;
}
