import type { ComponentType } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, mlflow, type Metric, type Run } from '../api.js';
import type { MetricChart as Chart, Series } from '../chart.js';
import { navigate, onLink, urlOf } from '../router.js';

const runName = (r: Run): string => r.info.run_name ?? r.info.run_id;
const show = (v: string | number | undefined): string => (v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v);

/** Parameters and metrics side by side; rows whose values differ are marked. */
function DiffTable({ runs, kind }: { runs: Run[]; kind: 'param' | 'metric' }) {
  const values = runs.map((r) => new Map<string, string | number>(kind === 'param' ? (r.data.params ?? []).map((p) => [p.key, p.value]) : (r.data.metrics ?? []).map((m) => [m.key, m.value])));
  const keys = [...new Set(values.flatMap((m) => [...m.keys()]))].sort();
  if (keys.length === 0) return <p class="muted">{kind === 'param' ? 'None of these runs logged parameters.' : 'None of these runs logged metrics.'}</p>;
  return (
    <table>
      <caption class="muted" style={{ textAlign: 'left' }}>
        {kind === 'param' ? 'Parameters' : 'Latest metric values'}; rows marked “differs” are not the same in every run
      </caption>
      <thead>
        <tr>
          <th scope="col">{kind === 'param' ? 'Parameter' : 'Metric'}</th>
          {runs.map((r) => (
            <th scope="col" key={r.info.run_id}>
              {runName(r)}
            </th>
          ))}
          <th scope="col">Differs</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => {
          const row = values.map((m) => m.get(k));
          const differs = new Set(row.map((v) => String(v))).size > 1;
          return (
            <tr key={k} class={differs ? 'differs' : undefined} data-key={k}>
              <th scope="row">{k}</th>
              {row.map((v, i) => (
                <td key={i} class={kind === 'metric' ? 'num' : undefined}>
                  {show(v)}
                </td>
              ))}
              <td>{differs ? 'differs' : ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * Parallel coordinates (an SVG): one axis per numeric parameter and the chosen metric, one line
 * per run, each axis scaled to the runs' range — how a sweep's settings relate to its objective.
 */
function ParallelCoordinates({ runs, metric }: { runs: Run[]; metric: string }) {
  const numericParams = [...new Set(runs.flatMap((r) => (r.data.params ?? []).map((p) => p.key)))]
    .filter((k) => runs.every((r) => { const v = r.data.params?.find((p) => p.key === k)?.value; return v !== undefined && v.trim() !== '' && Number.isFinite(Number(v)); }))
    .sort();
  const axes = [...numericParams.map((k) => ({ label: k, of: (r: Run) => Number(r.data.params!.find((p) => p.key === k)!.value) })), { label: metric, of: (r: Run) => r.data.metrics?.find((m) => m.key === metric)?.value ?? Number.NaN }];
  if (numericParams.length === 0) return <p class="muted">These runs share no numeric parameter, so there is nothing to draw parallel coordinates of.</p>;
  const W = 160;
  const H = 220;
  const top = 24;
  const ranges = axes.map((a) => {
    const vs = runs.map(a.of).filter(Number.isFinite);
    return { lo: Math.min(...vs), hi: Math.max(...vs) };
  });
  const y = (i: number, v: number): number => {
    const { lo, hi } = ranges[i]!;
    return top + H - (hi === lo ? 0.5 : (v - lo) / (hi - lo)) * H;
  };
  return (
    <svg class="parallel" width={W * (axes.length - 1) + 80} height={H + top + 30} role="img" aria-label={`Parallel coordinates of ${axes.map((a) => a.label).join(', ')} for ${runs.length} runs`}>
      {axes.map((a, i) => (
        <g key={a.label}>
          <line x1={40 + i * W} x2={40 + i * W} y1={top} y2={top + H} stroke="#8c959f" />
          <text x={40 + i * W} y={14} text-anchor="middle" font-size="12" fill="#1b1f24">
            {a.label}
          </text>
          <text x={40 + i * W} y={top + H + 16} text-anchor="middle" font-size="11" fill="#4b5563">
            {show(ranges[i]!.lo)}–{show(ranges[i]!.hi)}
          </text>
        </g>
      ))}
      {runs.map((r, n) => {
        const pts = axes.map((a, i) => (Number.isFinite(a.of(r)) ? `${40 + i * W},${y(i, a.of(r))}` : null)).filter((p) => p !== null);
        return <polyline key={r.info.run_id} points={pts.join(' ')} fill="none" stroke={`hsl(${(n * 67) % 360} 70% 40%)`} stroke-width="1.5" data-run={r.info.run_id} />;
      })}
    </svg>
  );
}

/** Several runs side by side: params/metrics diff, overlaid curves of one metric, parallel coordinates. */
export function ComparePage({ query }: { query: URLSearchParams }) {
  const ids = (query.get('runs') ?? '').split(',').filter((x) => x !== '');
  const metricParam = query.get('metric');
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [series, setSeries] = useState<Series[] | null>(null);
  const [ChartView, setChartView] = useState<ComponentType<Parameters<typeof Chart>[0]> | null>(null);
  useEffect(() => {
    void import('../chart.js').then((m) => setChartView(() => m.MetricChart));
  }, []);
  useEffect(() => {
    if (ids.length < 2) return;
    const ctl = new AbortController();
    Promise.all(ids.map((id) => api<{ run: Run }>(urlOf(mlflow('runs/get'), { run_id: id }), { signal: ctl.signal }).then((r) => r.run)))
      .then(setRuns)
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [ids.join(',')]);
  const metrics = useMemo(() => [...new Set((runs ?? []).flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort(), [runs]);
  const metric = metricParam ?? metrics[0] ?? '';
  useEffect(() => {
    if (runs === null || metric === '') return;
    const ctl = new AbortController();
    Promise.all(
      runs.map((r) =>
        api<{ metrics?: Metric[] }>(urlOf(mlflow('metrics/get-history'), { run_id: r.info.run_id, metric_key: metric }), { signal: ctl.signal }).then((h) => {
          const ms = [...(h.metrics ?? [])].sort((a, b) => a.step - b.step);
          return { label: runName(r), steps: ms.map((m) => m.step), values: ms.map((m) => m.value) };
        }),
      ),
    )
      .then(setSeries)
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [runs, metric]);

  if (ids.length < 2) {
    return (
      <section>
        <h1>Compare runs</h1>
        <p class="muted">
          Choose two or more runs to compare: tick them in the{' '}
          <a href="/" onClick={onLink}>
            runs table
          </a>
          .
        </p>
      </section>
    );
  }
  if (error !== null) {
    return (
      <section>
        <h1>Compare runs</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </section>
    );
  }
  if (runs === null) {
    return (
      <section>
        <h1>Compare runs</h1>
        <p class="muted">Loading the runs…</p>
      </section>
    );
  }
  const curves = (series ?? []).filter((s) => s.steps.length > 1);
  return (
    <section>
      <h1>Compare {runs.length} runs</h1>
      <p>
        {runs.map((r, i) => (
          <span key={r.info.run_id}>
            {i > 0 ? ', ' : ''}
            <a href={`/runs/${encodeURIComponent(r.info.run_id)}`} onClick={onLink}>
              {runName(r)}
            </a>
          </span>
        ))}
      </p>
      <h2>Parameters</h2>
      <DiffTable runs={runs} kind="param" />
      <h2>Metrics</h2>
      <DiffTable runs={runs} kind="metric" />
      <h2>Curves and parallel coordinates</h2>
      {metrics.length === 0 ? (
        <p class="muted">None of these runs logged metrics.</p>
      ) : (
        <>
          <div class="toolbar">
            <label>
              Metric
              <select value={metric} onChange={(e) => navigate(urlOf('/compare', { runs: ids.join(','), metric: e.currentTarget.value }), true)}>
                {metrics.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {series === null || ChartView === null ? (
            <p class="muted">Loading the metric histories…</p>
          ) : curves.length === 0 ? (
            <p class="muted">{`No run logged ${metric} at several steps, so there are no curves to overlay; the parallel coordinates use its latest values.`}</p>
          ) : (
            <ChartView series={curves} log={false} smoothing={0} label={`${metric} by step for ${curves.map((c) => c.label).join(', ')}`} />
          )}
          <ParallelCoordinates runs={runs} metric={metric} />
        </>
      )}
    </section>
  );
}
