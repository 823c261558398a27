import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { HttpMetrics } from '../../src/http/index.js';
import {
  BURN_RATE_WINDOWS,
  FLUXOPS_METRICS,
  PREDICT_LATENCY_BUCKETS,
  SLO_RATIO_WINDOWS,
  grafanaDashboard,
  monitoringFiles,
  prometheusRules,
  prometheusRulesYaml,
  type AlertingRule,
  type GrafanaPanel,
  type RecordingRule,
} from '../../src/monitoring/export/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rulesDir = path.join(root, 'monitoring/prometheus');

/**
 * Metrics the rules read that the server does not export yet: the drift monitors', the synthetic
 * checks' and the inference log's, named by their spec. Once the server exports one, it is
 * checked against the exposition like the others.
 */
const UPCOMING = new Set<string>([
  FLUXOPS_METRICS.datasetDrift,
  FLUXOPS_METRICS.driftShare,
  FLUXOPS_METRICS.estimatedAccuracy,
  FLUXOPS_METRICS.syntheticFailures,
  FLUXOPS_METRICS.inferenceLogDropped,
]);

/** The exposition of a real HttpMetrics that answered one prediction and failed one with a 500. */
async function serverExposition(): Promise<string> {
  const m = new HttpMetrics();
  const d = m.deployment('churn', 'blue');
  d.answered({ model: 'm', version: '1', classes: [0, 1], predictions: [1], probabilities: [[0.2, 0.8]] }, 0.01);
  d.failed(500, 0.02);
  return m.text();
}

/** Series of the exposition: metric name → label sets. */
function seriesOf(text: string): Map<string, Array<Record<string, string>>> {
  const out = new Map<string, Array<Record<string, string>>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const list = out.get(m[1]!) ?? [];
    list.push(labels);
    out.set(m[1]!, list);
  }
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** The metric (or recorded series) names a PromQL expression reads. */
function namesIn(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\w+/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] !== undefined || KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return names;
}

/** Labels an expression's result can carry: those it aggregates by, and `endpoint` of the recorded ratios. */
function labelsKeptBy(expr: string): Set<string> {
  const kept = new Set<string>();
  for (const m of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) for (const l of m[1]!.split(',')) kept.add(l.trim());
  if (/fluxops:endpoint_/.test(expr)) kept.add('endpoint');
  return kept;
}

const rules = prometheusRules();
const recordings = rules.groups.flatMap((g) => g.rules.filter((r): r is RecordingRule => 'record' in r));
const alerts = rules.groups.flatMap((g) => g.rules.filter((r): r is AlertingRule => 'alert' in r));

describe('the rules read what the server exports', () => {
  let series: Map<string, Array<Record<string, string>>>;
  beforeAll(async () => {
    series = seriesOf(await serverExposition());
  });

  it('names the endpoint metrics and their labels as the server writes them', () => {
    const requests = series.get(FLUXOPS_METRICS.endpointRequests);
    expect(requests).toBeDefined();
    // The status label is the HTTP code as a string, so `status=~"5.."` selects the 5xx.
    expect(requests).toContainEqual({ endpoint: 'churn', deployment: 'blue', status: '500' });
    expect(requests).toContainEqual({ endpoint: 'churn', deployment: 'blue', status: '200' });
    expect(series.get(FLUXOPS_METRICS.endpointPredictions)).toContainEqual({ endpoint: 'churn', deployment: 'blue', class: '1' });
  });

  it('has the latency SLO threshold among the histogram buckets, and PREDICT_LATENCY_BUCKETS matches them', () => {
    const buckets = series.get(FLUXOPS_METRICS.endpointLatencyBucket) ?? [];
    const les = buckets.map((l) => l.le);
    expect(les).toEqual([...PREDICT_LATENCY_BUCKETS.map(String), '+Inf']);
    expect(les).toContain('0.5');
    for (const l of buckets) expect(Object.keys(l).sort()).toEqual(['deployment', 'endpoint', 'le']);
  });

  it('reads only exported metrics, upcoming monitor metrics, and series it records itself', () => {
    const recorded = new Set(recordings.map((r) => r.record));
    const read = new Set([...recordings, ...alerts].flatMap((r) => [...namesIn(r.expr)]));
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) {
      const known = series.has(name) || UPCOMING.has(name) || recorded.has(name);
      expect(known, `${name} is neither exported, upcoming nor recorded`).toBe(true);
    }
    for (const name of UPCOMING) expect(read, `no rule reads ${name}`).toContain(name);
  });
});

describe('prometheusRules', () => {
  it('records the error and latency-bad ratios over every window', () => {
    expect(recordings.map((r) => r.record)).toEqual([
      ...SLO_RATIO_WINDOWS.map((w) => `fluxops:endpoint_error_ratio:rate${w}`),
      ...SLO_RATIO_WINDOWS.map((w) => `fluxops:endpoint_latency_bad_ratio:rate${w}`),
    ]);
    const burnWindows = new Set(BURN_RATE_WINDOWS.flatMap((w) => [w.long, w.short]));
    expect([...burnWindows].every((w) => (SLO_RATIO_WINDOWS as readonly string[]).includes(w))).toBe(true);
  });

  it('gives every alert a severity, a summary and a description whose labels the expression keeps', () => {
    expect(new Set(alerts.map((a) => a.alert))).toEqual(
      new Set([
        'FluxOpsEndpointErrorRateHigh',
        'FluxOpsEndpointRequestVolumeDrop',
        'FluxOpsEndpointAvailabilityBurnRate',
        'FluxOpsEndpointLatencyBurnRate',
        'FluxOpsMonitorDatasetDrift',
        'FluxOpsMonitorDriftShareHigh',
        'FluxOpsMonitorEstimatedAccuracyDrop',
        'FluxOpsSyntheticCheckFailing',
        'FluxOpsInferenceLogDropping',
      ]),
    );
    for (const a of alerts) {
      expect(['critical', 'warning', 'info'], a.alert).toContain(a.labels.severity);
      expect(a.annotations.summary.length, a.alert).toBeGreaterThan(10);
      expect(a.annotations.description.length, a.alert).toBeGreaterThan(30);
      const kept = labelsKeptBy(a.expr);
      const used = [...`${a.annotations.summary} ${a.annotations.description}`.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]!);
      expect(used.length, `${a.alert} names none of its labels`).toBeGreaterThan(0);
      for (const l of used) expect(kept, `${a.alert} uses $labels.${l}`).toContain(l);
    }
  });

  it('has the workbook burn-rate pairs for both SLOs, pages critical and tickets warning', () => {
    for (const [name, slo, budget] of [
      ['FluxOpsEndpointAvailabilityBurnRate', 'error_ratio', 0.001],
      ['FluxOpsEndpointLatencyBurnRate', 'latency_bad_ratio', 0.05],
    ] as const) {
      const pairs = alerts.filter((a) => a.alert === name);
      expect(pairs.map((a) => [a.labels.long_window, a.labels.short_window, a.labels.severity])).toEqual([
        ['1h', '5m', 'critical'],
        ['6h', '30m', 'critical'],
        ['1d', '2h', 'warning'],
        ['3d', '6h', 'warning'],
      ]);
      for (const [i, a] of pairs.entries()) {
        const w = BURN_RATE_WINDOWS[i]!;
        const threshold = String(Number((w.burnRate * budget).toPrecision(12)));
        expect(a.expr).toBe(`fluxops:endpoint_${slo}:rate${w.long} > ${threshold}\nand\nfluxops:endpoint_${slo}:rate${w.short} > ${threshold}\n`);
      }
    }
  });

  it('follows its options, and refuses a latency threshold that is no bucket', () => {
    const custom = prometheusRules({ availabilityTarget: 0.99, latencyThresholdSeconds: 1, latencyTarget: 0.9, errorRateThreshold: 0.1 });
    const text = JSON.stringify(custom);
    expect(text).toContain('fluxops:endpoint_error_ratio:rate1h > 0.144');
    expect(text).toContain('fluxops:endpoint_latency_bad_ratio:rate1h > 1.44');
    expect(text).toContain('fluxops:endpoint_error_ratio:rate5m > 0.1');
    // Integral bounds match Prometheus 2's "1" and Prometheus 3's "1.0".
    expect(text).toContain(String.raw`le=~\"1(\\\\.0)?\"`);
    expect(() => prometheusRules({ latencyThresholdSeconds: 0.3 })).toThrow(/bucket bound .*0\.5, 1\); got 0\.3/);
    for (const bad of [{ availabilityTarget: 1 }, { latencyTarget: 0 }, { syntheticFailureThreshold: 2.5 }, { errorRateThreshold: Number.NaN }]) {
      let err: unknown;
      try {
        prometheusRules(bad);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(FluxError);
      expect((err as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('writes YAML that reads back as the same rules', () => {
    const text = prometheusRulesYaml();
    expect(text.startsWith('# FluxOps Prometheus rules')).toBe(true);
    expect(parse(text)).toEqual(rules);
  });
});

describe('grafanaDashboard', () => {
  const dash = grafanaDashboard() as { schemaVersion: number; uid: string; templating: { list: Array<Record<string, unknown>> }; panels: GrafanaPanel[] };
  const panels = dash.panels.filter((p) => p.type !== 'row');
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('has the datasource and endpoint variables and the panels asked for', () => {
    expect(dash.schemaVersion).toBe(39);
    const vars = new Map(dash.templating.list.map((v) => [v.name as string, v]));
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.get('endpoint')).toMatchObject({ type: 'query', definition: 'label_values(fluxops_endpoint_requests_total, endpoint)' });
    expect(panels.map((p) => p.title)).toEqual([
      'Request rate',
      'Error rate (5xx)',
      'Prediction latency P50 / P95 / P99',
      'Predictions by class',
      'Availability burn rate (SLO 99.9 %)',
      'Latency burn rate (95 % under 500 ms)',
      'Drift share',
      'Dataset drift',
      'Estimated accuracy',
      'Inference-log drops',
      'Synthetic check consecutive failures',
    ]);
    for (const q of [0.5, 0.95, 0.99]) expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q}, sum by (endpoint, le) (rate(fluxops_endpoint_predict_duration_seconds_bucket`))).toBe(true);
  });

  it('names the data source through the variable, lays panels on the grid without overlap, and uses unique ids', () => {
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource.uid).toBe('${datasource}');
    }
    const cells = new Set<string>();
    for (const p of dash.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('queries only exported, upcoming or recorded series', async () => {
    const series = seriesOf(await serverExposition());
    const recorded = new Set(recordings.map((r) => r.record));
    for (const name of new Set(exprs.flatMap((e) => [...namesIn(e)]))) {
      expect(series.has(name) || UPCOMING.has(name) || recorded.has(name), name).toBe(true);
    }
  });
});

describe('the committed files', () => {
  it('are what tools/generate-monitoring.js writes (run it after `npm run build` and commit)', () => {
    const files = monitoringFiles();
    expect(files.map((f) => f.path)).toEqual(['monitoring/prometheus/fluxops-rules.yml', 'monitoring/grafana/fluxops-dashboard.json']);
    for (const f of files) expect(readFileSync(path.join(root, f.path), 'utf8'), f.path).toBe(f.text);
  });

  it('has a promtool test for every alert the rules ship, firing and quiet', () => {
    interface Case {
      alertname: string;
      exp_alerts?: Array<{ exp_labels?: Record<string, string> }>;
    }
    const file = parse(readFileSync(path.join(rulesDir, 'fluxops-rules.test.yml'), 'utf8')) as {
      tests: Array<{ input_series: Array<{ series: string }>; alert_rule_test?: Case[] }>;
    };
    const fires = new Set<string>();
    const quiet = new Set<string>();
    for (const t of file.tests) {
      // What an alert is about (an endpoint, a monitor, a check), as the input series name them.
      const subjects = new Set(t.input_series.flatMap((s) => [...s.series.matchAll(/\b(endpoint|monitor|check)="([^"]*)"/g)].map((m) => `${m[1]}=${m[2]}`)));
      for (const c of t.alert_rule_test ?? []) {
        const firing = new Set((c.exp_alerts ?? []).flatMap((a) => Object.entries(a.exp_labels ?? {}).map(([k, v]) => `${k}=${v}`)));
        if (firing.size > 0) fires.add(c.alertname);
        // Quiet: some subject of the test's series is in none of the alerts expected at that time.
        if ([...subjects].some((s) => !firing.has(s))) quiet.add(c.alertname);
      }
    }
    for (const name of new Set(alerts.map((a) => a.alert))) {
      expect(fires, `${name} never fires in a test`).toContain(name);
      expect(quiet, `${name} never stays quiet in a test`).toContain(name);
    }
  });
});

/** promtool's path, or undefined when it is not installed. */
function findPromtool(): string | undefined {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0 ? 'promtool' : undefined;
}

const promtool = findPromtool();
const MISSING = 'promtool is not on PATH (install Debian\'s "prometheus" package: apt-get install prometheus)';
// CI installs promtool, so there its absence is a failure rather than a skip.
const withPromtool = promtool !== undefined || process.env.CI ? it : it.skip;

describe(`promtool${promtool === undefined ? ` — ${MISSING}${process.env.CI ? '' : ', skipped'}` : ''}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fluxops-promtool-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs promtool without blocking the worker (the unit tests take a while); its output on failure. */
  const run = async (args: string[], cwd: string): Promise<string> => {
    if (promtool === undefined) throw new Error(`${MISSING}; CI must have it`);
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(promtool, args, { cwd });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('error', (e) => resolve({ code: -1, out: String(e) }));
      p.on('close', (c) => resolve({ code: c, out }));
    });
    expect(code, out).toBe(0);
    return out;
  };

  withPromtool('checks the rules file', async () => {
    expect(await run(['check', 'rules', 'fluxops-rules.yml'], rulesDir)).toMatch(/SUCCESS: 29 rules found/);
  });

  // About 20 s: the burn-rate cases hold three days of samples.
  withPromtool('passes the unit tests of every alert', { timeout: 180_000 }, async () => {
    expect(await run(['test', 'rules', 'fluxops-rules.test.yml'], rulesDir)).toMatch(/SUCCESS/);
  });

  withPromtool("parses the dashboard's queries", async () => {
    const exprs = (grafanaDashboard().panels as GrafanaPanel[]).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const asRules = {
      groups: [
        {
          name: 'dashboard',
          rules: exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: e.replaceAll('$__rate_interval', '5m').replaceAll('$endpoint', '.*').replaceAll('$monitor', '.*') })),
        },
      ],
    };
    const file = path.join(dir, 'dashboard-queries.yml');
    writeFileSync(file, JSON.stringify(asRules));
    expect(await run(['check', 'rules', file], dir)).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });
});
