import { grafanaDashboardJson } from './grafana-dashboard.js';
import { prometheusRulesYaml } from './prometheus-rules.js';

/** Where the generated monitoring files live in the repository, relative to its root. */
export const MONITORING_FILES = {
  rules: 'monitoring/prometheus/fluxops-rules.yml',
  dashboard: 'monitoring/grafana/fluxops-dashboard.json',
} as const;

/**
 * The generated files with their text, at the defaults: what tools/generate-monitoring.js writes
 * and test/monitoring/export.test.ts compares the committed copies with.
 */
export function monitoringFiles(): Array<{ path: string; text: string }> {
  return [
    { path: MONITORING_FILES.rules, text: prometheusRulesYaml() },
    { path: MONITORING_FILES.dashboard, text: grafanaDashboardJson() },
  ];
}
