/**
 * Exportable monitoring configuration: FluxOps' Prometheus rules (SLO recording rules and alerts)
 * and its Grafana dashboard, as objects or as the text of the files under monitoring/ that
 * tools/generate-monitoring.js writes.
 */
export {
  BURN_RATE_WINDOWS,
  EXPORT_DEFAULTS,
  FLUXOPS_METRICS,
  PREDICT_LATENCY_BUCKETS,
  SLO_RATIO_WINDOWS,
  errorRatioRecord,
  latencyBadRatioRecord,
  resolveExportOptions,
  type BurnRateWindow,
  type MonitoringExportOptions,
  type ResolvedExportOptions,
  type SloRatioWindow,
} from './export-options.js';
export {
  RULE_GROUP_NAMES,
  prometheusRules,
  prometheusRulesYaml,
  type AlertingRule,
  type PrometheusRulesFile,
  type RecordingRule,
  type RuleGroup,
} from './prometheus-rules.js';
export { grafanaDashboard, grafanaDashboardJson, type GrafanaDashboardOptions, type GrafanaPanel, type GrafanaTarget } from './grafana-dashboard.js';
export { MONITORING_FILES, monitoringFiles } from './monitoring-files.js';
