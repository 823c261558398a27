import { api, v1 } from '../api.js';
import { formatDuration, formatNumber, formatPercent, formatTime, plural } from '../format.js';
import { Pending, Status, Why } from '../pending.js';
import { navigate, onLink, urlOf } from '../router.js';
import { lacks, useSession } from '../session.js';
import { useAction, useApi } from '../use-api.js';

// What the server answers (src/api/routes/monitors.ts, src/api/routes/alerts.ts).

interface Monitor {
  name: string;
  endpoint: string;
  deployment: string | null;
  reference: string | null;
  windowMs: number;
  everyMs: number | null;
  minRows: number;
  driftShare: number;
  enabled: boolean;
}

type MonitorStatus = 'ok' | 'drift' | 'insufficient_data' | 'no_reference' | 'error';

interface ColumnDrift {
  method: string;
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
  psi: number;
  psiBand: 'none' | 'moderate' | 'significant';
  liveCount: number;
  liveMissing: number;
  /** Absent from results recorded before the server kept histograms. */
  histogram?: { labels: string[]; reference: number[]; live: number[] };
}

interface Figures {
  rows: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  accuracyStdError?: number;
}

interface MonitorResult {
  seq: number;
  monitor: string;
  endpoint: string;
  time: number;
  windowStart: number;
  windowEnd: number;
  rows: number;
  status: MonitorStatus;
  message: string | null;
  reference: { model: string; version: string; source: string } | null;
  versions: Record<string, number>;
  columns: Record<string, ColumnDrift>;
  dataset: { drifted: boolean; share: number; driftedShare: number; driftedColumns: string[]; columnCount: number } | null;
  predictions: { class?: ColumnDrift; score?: ColumnDrift };
  predictionDrift: boolean;
  performance: { estimated: Figures | null; calibrated: boolean; realised: Figures | null } | null;
}

interface Alert {
  alert: string;
  rule: string;
  status: 'inactive' | 'pending' | 'firing';
  severity: string;
  labels: Record<string, string>;
  value: number | null;
  firingSince: number | null;
  resolvedAt: number | null;
}

interface Definition {
  name: string;
  kind: 'rule' | 'slo';
  slo?: { name: string; endpoint: string; kind: 'availability' | 'latency'; objective: number; latencyThresholdSeconds?: number };
  enabled: boolean;
}

/**
 * The burn-rate window pairs of every SLO and their factors, as the server alerts on them
 * (DEFAULT_BURN_WINDOWS in src/monitoring/alerts/slo.ts); an SLO alert's `window` label names its pair.
 */
const BURN_WINDOWS: ReadonlyArray<{ window: string; factor: number }> = [
  { window: '1h/5m', factor: 14.4 },
  { window: '6h/30m', factor: 6 },
  { window: '1d/2h', factor: 3 },
  { window: '3d/6h', factor: 1 },
];

const STATUS_TEXT: Record<MonitorStatus, string> = {
  ok: 'no drift',
  drift: 'drift',
  insufficient_data: 'too few rows',
  no_reference: 'no reference',
  error: 'error',
};

const monitorPath = (name: string): string => `/monitors/${encodeURIComponent(name)}`;

/** A status as words (with a symbol that is not the only sign of it), never colour alone. */
function StatusText({ status }: { status: MonitorStatus }) {
  return (
    <span class={`status status-${status}`} data-status={status}>
      {status === 'drift' || status === 'error' ? '▲ ' : ''}
      {STATUS_TEXT[status]}
    </span>
  );
}

/** What a check found, as one sentence. */
function statusSentence(r: MonitorResult): string {
  const window = `${plural(r.rows, 'row')} from ${formatTime(r.windowStart)} to ${formatTime(r.windowEnd)}`;
  const against = r.reference === null ? '' : ` against ${r.reference.model}/${r.reference.version} (${r.reference.source})`;
  switch (r.status) {
    case 'drift': {
      const what = [r.dataset?.drifted === true ? `the data drifted (${r.dataset.driftedColumns.join(', ')})` : null, r.predictionDrift ? 'the predictions drifted' : null].filter((x) => x !== null);
      return `Drift: ${what.join(' and ')} in ${window}${against}.`;
    }
    case 'ok':
      return `No drift in ${window}${against}.`;
    case 'insufficient_data':
      return `Not judged: ${r.message ?? 'too few rows'}.`;
    case 'no_reference':
      return `Not judged: ${r.message ?? 'no reference profile'}.`;
    default:
      return `The check failed: ${r.message ?? 'no reason given'}.`;
  }
}

/** The latest status of one monitor, from its newest result. */
function LatestStatus({ name }: { name: string }) {
  const latest = useApi<{ results: MonitorResult[] }>(v1(`${monitorPath(name)}/results?limit=1`));
  if (latest.error !== null) return <span class="error">{latest.error}</span>;
  if (latest.data === null) return <span class="muted">…</span>;
  const r = latest.data.results[0];
  return r === undefined ? (
    <span class="muted">not checked yet</span>
  ) : (
    <>
      <StatusText status={r.status} /> <span class="muted">({formatTime(r.time)})</span>
    </>
  );
}

const alertOrder = { firing: 0, pending: 1, inactive: 2 } as const;

function AlertsTable({ alerts }: { alerts: Alert[] }) {
  const sorted = [...alerts].sort((a, b) => alertOrder[a.status] - alertOrder[b.status] || a.alert.localeCompare(b.alert));
  const firing = alerts.filter((a) => a.status === 'firing').length;
  return (
    <table>
      <caption class="muted" style={{ textAlign: 'left' }}>
        {plural(alerts.length, 'alert')}, {firing} firing; firing first
      </caption>
      <thead>
        <tr>
          <th scope="col">Alert</th>
          <th scope="col">Rule</th>
          <th scope="col">Severity</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">
            Value
          </th>
          <th scope="col">Firing since</th>
          <th scope="col">Resolved</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((a) => (
          <tr key={a.alert} data-alert={a.alert} data-status={a.status}>
            <th scope="row">{a.alert}</th>
            <td>{a.rule}</td>
            <td>{a.severity}</td>
            <td>{a.status === 'firing' ? '▲ firing' : a.status}</td>
            <td class="num">{formatNumber(a.value)}</td>
            <td>{formatTime(a.firingSince)}</td>
            <td>{formatTime(a.resolvedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Every SLO with each burn-rate pair: the long window's burn rate against the pair's factor. */
function SloSection({ slos, alerts }: { slos: Definition[]; alerts: Alert[] }) {
  if (slos.length === 0) return <p class="muted">There are no SLOs: create one with POST /api/v1/alerts/slos (availability or latency, with an objective such as 0.999).</p>;
  return (
    <>
      {slos.map((d) => {
        const slo = d.slo;
        const mine = alerts.filter((a) => a.rule === d.name && a.labels.window !== undefined);
        return (
          <table key={d.name} data-slo={d.name}>
            <caption style={{ textAlign: 'left' }}>
              <strong>{d.name}</strong>
              {slo !== undefined
                ? ` — ${slo.kind} of ${slo.endpoint}, objective ${formatPercent(slo.objective)}${slo.latencyThresholdSeconds !== undefined ? ` of requests within ${formatNumber(slo.latencyThresholdSeconds)} s` : ''}`
                : ''}
              {d.enabled ? '' : ' (disabled)'}
            </caption>
            <thead>
              <tr>
                <th scope="col">Windows (long/short)</th>
                <th scope="col" class="num">
                  Burn rate (long window)
                </th>
                <th scope="col" class="num">
                  Factor
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {BURN_WINDOWS.map((w) => {
                const a = mine.find((x) => x.labels.window === w.window);
                return (
                  <tr key={w.window} data-window={w.window}>
                    <th scope="row">{w.window}</th>
                    <td class="num">{formatNumber(a?.value)}</td>
                    <td class="num">{formatNumber(w.factor)}×</td>
                    <td>{a === undefined ? 'not evaluated yet' : a.status === 'firing' ? '▲ firing: burning faster than the factor' : a.status}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        );
      })}
    </>
  );
}

/** Monitors with their latest status, the alerts and the SLOs. */
export function MonitoringPage() {
  const monitors = useApi<{ monitors: Monitor[] }>(v1('/monitors'));
  const alerts = useApi<{ alerts: Alert[] }>(v1('/alerts'), { pollMs: 30_000 });
  const rules = useApi<{ rules: Definition[] }>(v1('/alerts/rules'));
  return (
    <section>
      <h1>Monitoring</h1>
      <h2>Drift monitors</h2>
      <Pending of={monitors} what="the monitors" empty={(d) => (d.monitors.length === 0 ? 'There are no monitors yet: create one with `fluxops monitors create NAME --endpoint ENDPOINT`.' : null)}>
        {(d) => (
          <table>
            <caption class="muted" style={{ textAlign: 'left' }}>
              {plural(d.monitors.length, 'monitor')}; the status is that of the newest check
            </caption>
            <thead>
              <tr>
                <th scope="col">Monitor</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Deployment</th>
                <th scope="col">Window</th>
                <th scope="col">Every</th>
                <th scope="col">Latest status</th>
              </tr>
            </thead>
            <tbody>
              {d.monitors.map((m) => (
                <tr key={m.name} data-monitor={m.name}>
                  <td>
                    <a href={`/monitoring/${encodeURIComponent(m.name)}`} onClick={onLink}>
                      {m.name}
                    </a>
                  </td>
                  <td>
                    <a href={`/endpoints/${encodeURIComponent(m.endpoint)}`} onClick={onLink}>
                      {m.endpoint}
                    </a>
                  </td>
                  <td>{m.deployment ?? 'all'}</td>
                  <td>{formatDuration(m.windowMs)}</td>
                  <td>{m.everyMs === null ? 'on demand' : formatDuration(m.everyMs)}</td>
                  <td>
                    <LatestStatus name={m.name} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Pending>
      <h2>Alerts</h2>
      <Pending of={alerts} what="the alerts" empty={(d) => (d.alerts.length === 0 ? 'No alert has been evaluated: create a rule with POST /api/v1/alerts/rules, or an SLO.' : null)}>
        {(d) => <AlertsTable alerts={d.alerts} />}
      </Pending>
      <h2>Service-level objectives</h2>
      <Pending of={rules} what="the SLOs">
        {(d) => <SloSection slos={d.rules.filter((r) => r.kind === 'slo')} alerts={alerts.data?.alerts ?? []} />}
      </Pending>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// One monitor

/** Drifted columns first, then by PSI: the first is the most drifted. */
const byDrift = (columns: Record<string, ColumnDrift>): string[] =>
  Object.keys(columns).sort((a, b) => Number(columns[b]!.drifted) - Number(columns[a]!.drifted) || columns[b]!.psi - columns[a]!.psi);

const shares = (counts: readonly number[]): number[] => {
  const n = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => (n === 0 ? 0 : c / n));
};

/** One side of a histogram: bars of each bin's share, on a scale shared with the other side. */
function HistogramBars({ column, series, labels, values, max }: { column: string; series: 'reference' | 'live'; labels: string[]; values: number[]; max: number }) {
  const W = 360;
  const H = 160;
  const top = 8;
  const bottom = 22;
  const left = 44;
  const bw = (W - left - 8) / Math.max(1, values.length);
  const y = (v: number): number => top + H - (max === 0 ? 0 : (v / max) * H);
  const title = series === 'reference' ? 'Reference' : 'Live window';
  return (
    <figure style={{ margin: 0 }}>
      <figcaption>{title}</figcaption>
      <svg
        class="histogram"
        width={W}
        height={H + top + bottom}
        role="img"
        data-histogram={series}
        aria-label={`${title} shares of ${column} over ${plural(values.length, 'bin')}: ${labels.map((l, i) => `${l} ${formatPercent(values[i])}`).join(', ')}`}
      >
        <line x1={left} x2={left} y1={top} y2={top + H} stroke="#8c959f" />
        <line x1={left} x2={W - 8} y1={top + H} y2={top + H} stroke="#8c959f" />
        <text x={left - 4} y={top + 10} text-anchor="end" font-size="11" fill="#4b5563">
          {formatPercent(max)}
        </text>
        <text x={left - 4} y={top + H} text-anchor="end" font-size="11" fill="#4b5563">
          0
        </text>
        {values.map((v, i) => (
          <rect
            key={i}
            data-series={series}
            data-bin={labels[i]}
            x={left + i * bw + 1}
            y={y(v)}
            width={Math.max(1, bw - 2)}
            height={top + H - y(v)}
            fill={series === 'reference' ? '#57606a' : '#0969da'}
          >
            <title>{`${labels[i]}: ${formatPercent(v)}`}</title>
          </rect>
        ))}
        <text x={left} y={top + H + 15} font-size="11" fill="#4b5563">
          {labels[0]}
        </text>
        <text x={W - 8} y={top + H + 15} text-anchor="end" font-size="11" fill="#4b5563">
          {labels[labels.length - 1]}
        </text>
      </svg>
    </figure>
  );
}

function Histograms({ column, drift }: { column: string; drift: ColumnDrift }) {
  const h = drift.histogram;
  if (h === undefined) return <p class="muted">This result was recorded before the server kept histograms; check the monitor again to see them.</p>;
  const ref = shares(h.reference);
  const live = shares(h.live);
  const max = Math.max(...ref, ...live, 0);
  return (
    <>
      <p class="muted">
        Shares of each bin (not counts, so the reference’s {formatNumber(h.reference.reduce((s, c) => s + c, 0))} values compare with the window’s {formatNumber(drift.liveCount)}); the bins are those PSI used.
      </p>
      <div class="toolbar" style={{ alignItems: 'flex-start' }}>
        <HistogramBars column={column} series="reference" labels={h.labels} values={ref} max={max} />
        <HistogramBars column={column} series="live" labels={h.labels} values={live} max={max} />
      </div>
    </>
  );
}

function driftCells(c: ColumnDrift) {
  return (
    <>
      <td>{c.method}</td>
      <td class="num">
        {formatNumber(c.statistic)}
        {c.pValue !== undefined ? ` (p ${formatNumber(c.pValue)})` : ''}
      </td>
      <td class="num">
        {c.pValue !== undefined ? 'p < ' : '≥ '}
        {formatNumber(c.threshold)}
      </td>
      <td>{c.drifted ? '▲ yes' : 'no'}</td>
      <td class="num">{formatNumber(c.psi)}</td>
      <td>{c.psiBand}</td>
    </>
  );
}

const DRIFT_HEAD = (
  <>
    <th scope="col">Method</th>
    <th scope="col" class="num">
      Statistic
    </th>
    <th scope="col" class="num">
      Drift when
    </th>
    <th scope="col">Drifted</th>
    <th scope="col" class="num">
      PSI
    </th>
    <th scope="col">PSI band</th>
  </>
);

function ColumnsTable({ result, selected, linkOf }: { result: MonitorResult; selected: string; linkOf: (column: string) => string }) {
  const names = byDrift(result.columns);
  return (
    <table>
      <caption class="muted" style={{ textAlign: 'left' }}>
        {plural(names.length, 'column')} compared, drifted first; choose one to see its histograms
      </caption>
      <thead>
        <tr>
          <th scope="col">Column</th>
          {DRIFT_HEAD}
        </tr>
      </thead>
      <tbody>
        {names.map((n) => {
          const c = result.columns[n]!;
          return (
            <tr key={n} data-column={n} data-drifted={String(c.drifted)}>
              <th scope="row">
                <a href={linkOf(n)} onClick={onLink} aria-current={n === selected ? 'true' : undefined}>
                  {n}
                </a>
                {n === selected ? <span class="muted"> (shown)</span> : null}
              </th>
              {driftCells(c)}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Predictions({ result }: { result: MonitorResult }) {
  const rows = (['class', 'score'] as const).flatMap((k) => {
    const c = result.predictions[k];
    return c === undefined ? [] : [[k, c] as const];
  });
  if (rows.length === 0) return <p class="muted">The reference profile keeps no predictions to compare with, or the window had none.</p>;
  return (
    <>
      <p>{result.predictionDrift ? '▲ The predictions drifted.' : 'The predictions did not drift.'}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Prediction</th>
            {DRIFT_HEAD}
          </tr>
        </thead>
        <tbody>
          {rows.map(([k, c]) => (
            <tr key={k} data-prediction={k}>
              <th scope="row">{k === 'class' ? 'Predicted class' : 'Score'}</th>
              {driftCells(c)}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const METRICS: ReadonlyArray<[keyof Figures, string]> = [
  ['accuracy', 'Accuracy'],
  ['precision', 'Precision'],
  ['recall', 'Recall'],
  ['f1', 'F1'],
  ['rocAuc', 'ROC AUC'],
  ['rows', 'Rows'],
];

function Performance({ result }: { result: MonitorResult }) {
  const p = result.performance;
  if (p === null) return <p class="muted">No performance estimate: it needs a binary classifier whose reference kept held-out scores.</p>;
  const { estimated, realised } = p;
  return (
    <>
      <p class="muted">
        Estimated by CBPE from the window’s scores{p.calibrated ? ' (calibrated)' : ''}
        {estimated?.accuracyStdError !== undefined ? `; accuracy ± ${formatNumber(estimated.accuracyStdError)} (one standard error)` : ''}.{' '}
        {realised === null ? 'No row of the window has a label yet, so there is nothing realised to set beside it.' : `Realised on the ${plural(realised.rows, 'row')} that have labels.`}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col" class="num">
              Estimated (CBPE)
            </th>
            <th scope="col" class="num">
              Realised
            </th>
            <th scope="col" class="num">
              Difference
            </th>
          </tr>
        </thead>
        <tbody>
          {METRICS.map(([k, label]) => {
            const e = estimated?.[k];
            const r = realised?.[k];
            return (
              <tr key={k} data-metric={k}>
                <th scope="row">{label}</th>
                <td class="num">{formatNumber(e)}</td>
                <td class="num">{formatNumber(r)}</td>
                <td class="num">{e !== undefined && r !== undefined && k !== 'rows' ? formatNumber(r - e) : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function History({ results, selected, linkOf }: { results: MonitorResult[]; selected: number; linkOf: (seq: number) => string }) {
  return (
    <table>
      <caption class="muted" style={{ textAlign: 'left' }}>
        The last {plural(results.length, 'check')}, newest first
      </caption>
      <thead>
        <tr>
          <th scope="col">Check</th>
          <th scope="col">Time</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">
            Rows
          </th>
          <th scope="col">Drifted columns</th>
        </tr>
      </thead>
      <tbody>
        {results.map((r) => (
          <tr key={r.seq} data-result={r.seq}>
            <th scope="row">
              <a href={linkOf(r.seq)} onClick={onLink} aria-current={r.seq === selected ? 'true' : undefined}>
                #{r.seq}
              </a>
              {r.seq === selected ? <span class="muted"> (shown)</span> : null}
            </th>
            <td>{formatTime(r.time)}</td>
            <td>
              <StatusText status={r.status} />
            </td>
            <td class="num">{r.rows}</td>
            <td>{r.dataset === null ? '—' : r.dataset.driftedColumns.length === 0 ? 'none' : `${r.dataset.driftedColumns.length} of ${r.dataset.columnCount}: ${r.dataset.driftedColumns.join(', ')}`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ResultView({ result, monitor, column, linkOf }: { result: MonitorResult; monitor: Monitor | null; column: string | null; linkOf: (column: string) => string }) {
  const names = byDrift(result.columns);
  const selected = column !== null && result.columns[column] !== undefined ? column : (names[0] ?? null);
  const ds = result.dataset;
  return (
    <>
      <h2>
        Check #{result.seq}, {formatTime(result.time)}: <StatusText status={result.status} />
      </h2>
      <p data-sentence="status">{statusSentence(result)}</p>
      {result.message !== null && (result.status === 'ok' || result.status === 'drift') ? <p class="muted">{result.message}</p> : null}
      {ds !== null ? (
        <p data-sentence="dataset">
          Dataset drift: {ds.driftedColumns.length} of {ds.columnCount} columns drifted ({formatPercent(ds.driftedShare)}); the dataset drifts at {formatPercent(ds.share)}
          {monitor !== null && monitor.driftShare !== ds.share ? ` (the monitor now says ${formatPercent(monitor.driftShare)})` : ''}, so it {ds.drifted ? 'drifted' : 'did not drift'}.
        </p>
      ) : null}
      {names.length > 0 && selected !== null ? (
        <>
          <h3>Columns</h3>
          <ColumnsTable result={result} selected={selected} linkOf={linkOf} />
          <h3>{selected}: reference against the window</h3>
          <Histograms column={selected} drift={result.columns[selected]!} />
        </>
      ) : null}
      <h3>Prediction drift</h3>
      <Predictions result={result} />
      <h3>Performance: estimated against realised</h3>
      <Performance result={result} />
    </>
  );
}

/** One monitor: a check (the newest or ?result=), its columns and histograms, predictions, performance and history. */
export function MonitorPage({ name, query }: { name: string; query: URLSearchParams }) {
  const path = v1(monitorPath(name));
  const monitor = useApi<Monitor>(path);
  const results = useApi<{ results: MonitorResult[] }>(`${path}/results?limit=30`);
  const wanted = query.get('result');
  const seq = wanted !== null && /^[1-9]\d*$/.test(wanted) ? Number(wanted) : null;
  const listed = seq === null ? undefined : results.data?.results.find((r) => r.seq === seq);
  // A result older than the list shown is read on its own, so its link stays shareable.
  const older = useApi<{ results: MonitorResult[] }>(seq !== null && results.data !== null && listed === undefined ? `${path}/results?limit=1&before=${seq + 1}` : null);
  const { session } = useSession();
  const why = lacks(session, 'write', 'check the monitor');
  const check = useAction();
  const column = query.get('column');
  const here = `/monitoring/${encodeURIComponent(name)}`;

  const runNow = (): void => {
    void check
      .run(async () => {
        const r = await api<MonitorResult>(v1(`${monitorPath(name)}/run`), { method: 'POST' });
        return `Checked: #${r.seq} found ${STATUS_TEXT[r.status]}.`;
      })
      .then((done) => {
        if (!done) return;
        results.reload();
        navigate(here);
      });
  };

  const m = monitor.data;
  let shown: MonitorResult | null | undefined;
  if (results.data !== null) {
    if (seq === null) shown = results.data.results[0] ?? null;
    else if (listed !== undefined) shown = listed;
    else if (older.data !== null) shown = older.data.results.find((r) => r.seq === seq) ?? null;
  }
  return (
    <section>
      <p>
        <a href="/monitoring" onClick={onLink}>
          ← Monitoring
        </a>
      </p>
      <h1>{name}</h1>
      <Pending of={monitor} what="the monitor">
        {(mm) => (
          <p class="muted">
            Watches {mm.endpoint}
            {mm.deployment !== null ? ` (deployment ${mm.deployment})` : ''} over the last {formatDuration(mm.windowMs)}, {mm.everyMs === null ? 'on demand' : `every ${formatDuration(mm.everyMs)}`}, against{' '}
            {mm.reference ?? 'the version that answered most of the window'}; at least {plural(mm.minRows, 'row')}; the dataset drifts when {formatPercent(mm.driftShare)} of its columns do.
            {mm.enabled ? '' : ' Disabled.'}
          </p>
        )}
      </Pending>
      <div class="toolbar">
        <button type="button" disabled={why !== null || check.busy} aria-describedby={why !== null ? 'check-why' : undefined} onClick={runNow}>
          {check.busy ? 'Checking…' : 'Check now'}
        </button>
      </div>
      <Why id="check-why" why={why} />
      <Status said={check.said} />
      <Pending of={results} what="the results" empty={(d) => (d.results.length === 0 ? 'This monitor has not been checked yet: press Check now, or wait for its schedule.' : null)}>
        {(d) =>
          shown === undefined ? (
            <p class="muted">Loading check #{seq}…</p>
          ) : (
            <>
              {shown === null ? (
                <p class="error" role="alert">
                  This monitor has no check #{seq}.
                </p>
              ) : (
                <ResultView result={shown} monitor={m} column={column} linkOf={(c) => urlOf(here, { result: wanted ?? undefined, column: c })} />
              )}
              <h2>History</h2>
              <History results={d.results} selected={shown?.seq ?? -1} linkOf={(s) => urlOf(here, { result: String(s) })} />
            </>
          )
        }
      </Pending>
    </section>
  );
}
