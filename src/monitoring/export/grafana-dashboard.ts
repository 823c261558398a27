import {
  BURN_RATE_WINDOWS,
  FLUXOPS_METRICS as M,
  budgetOf,
  errorRatioRecord,
  latencyBadRatioRecord,
  num,
  resolveExportOptions,
  type MonitoringExportOptions,
  type SloRatioWindow,
} from './export-options.js';

/**
 * FluxOps' Grafana dashboard: endpoint traffic, errors, latency and SLO burn rates, predictions by
 * class, and the drift, accuracy, inference-log and synthetic-check metrics of the monitors.
 * `monitoring/grafana/fluxops-dashboard.json` is this, generated (tools/generate-monitoring.js).
 * The Prometheus data source is a dashboard variable (`${datasource}`), so the same file works
 * imported by hand and provisioned from disk; the burn-rate panels read the recording rules of
 * prometheus-rules.ts.
 */

export interface GrafanaDashboardOptions extends MonitoringExportOptions {
  title?: string;
  uid?: string;
}

export interface GrafanaTarget {
  refId: string;
  expr: string;
  legendFormat: string;
  datasource: typeof DATASOURCE;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  description?: string;
  datasource?: typeof DATASOURCE;
  targets?: GrafanaTarget[];
  fieldConfig?: unknown;
  options?: unknown;
  collapsed?: boolean;
  panels?: GrafanaPanel[];
}

/** Every panel and query names the data source through the dashboard's `datasource` variable. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;
const ENDPOINT = 'endpoint=~"$endpoint"';
const MONITOR = 'monitor=~"$monitor"';
const FULL = 24;
const HALF = 12;
const HEIGHT = 8;

interface PanelSpec {
  title: string;
  description: string;
  type?: 'timeseries' | 'stat';
  unit: string;
  targets: Array<[expr: string, legend: string]>;
  /** Threshold lines drawn on the graph (or colour steps of a stat), as [value, colour]. */
  thresholds?: Array<[number, string]>;
  min?: number;
  max?: number;
  mappings?: unknown[];
}

/** The dashboard as an object (JSON for Grafana's import, or a provisioning file). */
export function grafanaDashboard(opts: GrafanaDashboardOptions = {}): Record<string, unknown> {
  const { title = 'FluxOps', uid = 'fluxops-overview', ...slo } = opts;
  const o = resolveExportOptions(slo);
  const layout = new Layout();
  const rate = (metric: string, sel: string): string => `rate(${metric}{${sel}}[$__rate_interval])`;
  const quantile = (q: number): [string, string] => [
    `histogram_quantile(${q}, sum by (endpoint, le) (${rate(M.endpointLatencyBucket, ENDPOINT)}))`,
    `P${num(q * 100)} {{endpoint}}`,
  ];
  const burn = (record: (w: SloRatioWindow) => string, budget: number): Array<[string, string]> =>
    BURN_RATE_WINDOWS.map((w) => [`${record(w.long)}{${ENDPOINT}} / ${num(budget)}`, `{{endpoint}} ${w.long}`]);
  const burnThresholds: Array<[number, string]> = BURN_RATE_WINDOWS.map((w) => [w.burnRate, w.kind === 'page' ? 'red' : 'orange']);
  const ms = num(o.latencyThresholdSeconds * 1000);

  layout.row('Endpoints');
  layout.panel(HALF, {
    title: 'Request rate',
    description: 'Predictions through each endpoint per second, by deployment (failed and refused ones included).',
    unit: 'reqps',
    targets: [[`sum by (endpoint, deployment) (${rate(M.endpointRequests, ENDPOINT)})`, '{{endpoint}} / {{deployment}}']],
  });
  layout.panel(HALF, {
    title: 'Error rate (5xx)',
    description: 'Share of requests answered with a server error (status 5xx), by deployment.',
    unit: 'percentunit',
    min: 0,
    thresholds: [[o.errorRateThreshold, 'red']],
    targets: [
      [
        `sum by (endpoint, deployment) (${rate(M.endpointRequests, `${ENDPOINT}, status=~"5.."`)})\n/\nsum by (endpoint, deployment) (${rate(M.endpointRequests, ENDPOINT)})`,
        '{{endpoint}} / {{deployment}}',
      ],
    ],
  });
  layout.panel(HALF, {
    title: 'Prediction latency P50 / P95 / P99',
    description: `Time to predict through the endpoint (routing and model, not HTTP). The latency SLO wants ${num(o.latencyTarget * 100)} % under ${ms} ms.`,
    unit: 's',
    min: 0,
    thresholds: [[o.latencyThresholdSeconds, 'red']],
    targets: [quantile(0.5), quantile(0.95), quantile(0.99)],
  });
  layout.panel(HALF, {
    title: 'Predictions by class',
    description: 'Rows predicted per second, by predicted class (classifiers only).',
    unit: 'rowsps',
    targets: [[`sum by (endpoint, class) (${rate(M.endpointPredictions, ENDPOINT)})`, '{{endpoint}} {{class}}']],
  });

  layout.row('SLO burn rates');
  layout.panel(HALF, {
    title: `Availability burn rate (SLO ${num(o.availabilityTarget * 100)} %)`,
    description: 'How many times faster than the 30-day budget the 5xx errors spend it, over the long window of each alert (1 = exactly on budget). Lines: the page (red) and ticket (orange) thresholds. Needs the FluxOps recording rules.',
    unit: 'x',
    min: 0,
    thresholds: burnThresholds,
    targets: burn(errorRatioRecord, budgetOf(o.availabilityTarget)),
  });
  layout.panel(HALF, {
    title: `Latency burn rate (${num(o.latencyTarget * 100)} % under ${ms} ms)`,
    description: `How many times faster than the 30-day budget predictions slower than ${ms} ms spend it, over the long window of each alert. Needs the FluxOps recording rules.`,
    unit: 'x',
    min: 0,
    thresholds: burnThresholds,
    targets: burn(latencyBadRatioRecord, budgetOf(o.latencyTarget)),
  });

  layout.row('Model monitors');
  layout.panel(HALF, {
    title: 'Drift share',
    description: 'Share of the monitored columns whose live distribution drifted from the reference.',
    unit: 'percentunit',
    min: 0,
    max: 1,
    thresholds: [[o.driftShareThreshold, 'orange']],
    targets: [[`max by (monitor) (${M.driftShare}{${MONITOR}})`, '{{monitor}}']],
  });
  layout.panel(HALF, {
    title: 'Dataset drift',
    description: 'Whether each monitor calls its dataset drifted (enough columns drifted).',
    type: 'stat',
    unit: 'none',
    thresholds: [[1, 'red']],
    mappings: [{ type: 'value', options: { '0': { text: 'no drift', color: 'green', index: 0 }, '1': { text: 'drift', color: 'red', index: 1 } } }],
    targets: [[`max by (monitor) (${M.datasetDrift}{${MONITOR}})`, '{{monitor}}']],
  });
  layout.panel(HALF, {
    title: 'Estimated accuracy',
    description: 'Accuracy estimated on unlabelled live traffic from the model’s calibrated confidence.',
    unit: 'percentunit',
    max: 1,
    targets: [[`min by (monitor) (${M.estimatedAccuracy}{${MONITOR}})`, '{{monitor}}']],
  });
  layout.panel(HALF, {
    title: 'Inference-log drops',
    description: 'Inference-log records dropped per second, by reason: monitors then see only part of the traffic.',
    unit: 'short',
    min: 0,
    targets: [[`sum by (endpoint, reason) (${rate(M.inferenceLogDropped, ENDPOINT)})`, '{{endpoint}} {{reason}}']],
  });
  layout.panel(FULL, {
    title: 'Synthetic check consecutive failures',
    description: `Consecutive failed runs of each synthetic check; the alert fires at ${o.syntheticFailureThreshold}.`,
    unit: 'none',
    min: 0,
    thresholds: [[o.syntheticFailureThreshold, 'red']],
    targets: [[`max by (check) (${M.syntheticFailures})`, '{{check}}']],
  });

  return {
    title,
    uid,
    description: 'FluxOps endpoints (traffic, errors, latency, SLO burn rates) and model monitors (drift, estimated accuracy, synthetic checks). Generated by tools/generate-monitoring.js.',
    tags: ['fluxops', 'mlops'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [] },
        queryVariable('endpoint', 'Endpoint', `label_values(${M.endpointRequests}, endpoint)`),
        queryVariable('monitor', 'Monitor', `label_values(${M.driftShare}, monitor)`),
      ],
    },
    panels: layout.panels,
  };
}

/** The dashboard as the JSON text of monitoring/grafana/fluxops-dashboard.json. */
export function grafanaDashboardJson(opts?: GrafanaDashboardOptions): string {
  return `${JSON.stringify(grafanaDashboard(opts), null, 2)}\n`;
}

function queryVariable(name: string, label: string, query: string): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition: query,
    query: { query, refId: `${name}-values` },
    refresh: 2,
    includeAll: true,
    allValue: '.*',
    multi: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
    options: [],
    regex: '',
  };
}

/** Places panels left to right in rows of 24 columns, a row header before each group. */
class Layout {
  readonly panels: GrafanaPanel[] = [];
  private nextId = 1;
  private x = 0;
  private y = 0;

  row(title: string): void {
    this.newLine();
    this.panels.push({ id: this.nextId++, type: 'row', title, collapsed: false, panels: [], gridPos: { x: 0, y: this.y, w: FULL, h: 1 } });
    this.y += 1;
  }

  panel(w: number, p: PanelSpec): void {
    if (this.x + w > FULL) this.newLine();
    const steps = [{ color: 'green', value: null as number | null }, ...(p.thresholds ?? []).map(([value, color]) => ({ color, value }))];
    const type = p.type ?? 'timeseries';
    this.panels.push({
      id: this.nextId++,
      type,
      title: p.title,
      description: p.description,
      datasource: DATASOURCE,
      gridPos: { x: this.x, y: this.y, w, h: HEIGHT },
      targets: p.targets.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), expr, legendFormat, datasource: DATASOURCE })),
      fieldConfig: {
        defaults: {
          unit: p.unit,
          ...(p.min !== undefined ? { min: p.min } : {}),
          ...(p.max !== undefined ? { max: p.max } : {}),
          thresholds: { mode: 'absolute', steps },
          ...(p.mappings !== undefined ? { mappings: p.mappings } : {}),
          ...(type === 'timeseries'
            ? { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 0, showPoints: 'never', thresholdsStyle: { mode: p.thresholds === undefined ? 'off' : 'dashed' } } }
            : { color: { mode: 'thresholds' } }),
        },
        overrides: [],
      },
      options:
        type === 'timeseries'
          ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } }
          : { colorMode: 'background', graphMode: 'none', justifyMode: 'auto', textMode: 'value_and_name', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    });
    this.x += w;
  }

  private newLine(): void {
    if (this.x === 0) return;
    this.x = 0;
    this.y += HEIGHT;
  }
}
