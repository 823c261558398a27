import type { ComponentChildren } from 'preact';
import { v1 } from '../api.js';
import { formatNumber, formatTime, plural } from '../format.js';
import { Pending } from '../pending.js';
import { navigate, onLink, urlOf } from '../router.js';
import { useApi } from '../use-api.js';

type ParamValue = string | number | boolean;

export interface Sweep {
  id: string;
  pipelineRun: string | null;
  step: string | null;
  runId: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  bestTrial: number | null;
  bestValue: number | null;
  metric: string;
  direction: 'maximize' | 'minimize';
  sampling: string;
  maxTrials: number;
  trialsDone: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface Trial {
  number: number;
  params: Record<string, ParamValue>;
  status: 'running' | 'completed' | 'failed' | 'pruned';
  value: number | null;
  intermediate: Array<{ step: number; value: number }>;
  runId: string | null;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

const showParam = (v: ParamValue | undefined): string => (v === undefined ? '—' : typeof v === 'number' ? formatNumber(v) : String(v));
const better = (dir: Sweep['direction'], a: number, b: number): boolean => (dir === 'maximize' ? a > b : a < b);

/** Every sweep, newest first: its pipeline run, status, objective, progress and best value. */
export function SweepsPage() {
  const sweeps = useApi<{ sweeps: Sweep[] }>(v1('/sweeps?limit=200'), { pollMs: 5000, poll: (d) => d.sweeps.some((s) => s.status === 'running') });
  return (
    <section>
      <h1>Sweeps</h1>
      <Pending of={sweeps} what="the sweeps" empty={(d) => (d.sweeps.length === 0 ? 'No sweeps yet: a pipeline with a sweep step starts one.' : null)}>
        {(d) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Sweep</th>
                <th scope="col">Pipeline run</th>
                <th scope="col">Status</th>
                <th scope="col">Objective</th>
                <th scope="col" class="num">
                  Trials
                </th>
                <th scope="col" class="num">
                  Best
                </th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {d.sweeps.map((s) => (
                <tr key={s.id} data-sweep={s.id}>
                  <td>
                    <a href={`/sweeps/${encodeURIComponent(s.id)}`} onClick={onLink}>
                      {s.id}
                    </a>
                  </td>
                  <td>
                    {s.pipelineRun === null ? (
                      '—'
                    ) : (
                      <a href={`/pipelines/runs/${encodeURIComponent(s.pipelineRun)}`} onClick={onLink}>
                        {s.pipelineRun}
                        {s.step !== null ? ` (${s.step})` : ''}
                      </a>
                    )}
                  </td>
                  <td>{s.status}</td>
                  <td>{`${s.direction} ${s.metric}`}</td>
                  <td class="num">{`${s.trialsDone}/${s.maxTrials}`}</td>
                  <td class="num">{formatNumber(s.bestValue)}</td>
                  <td>{formatTime(s.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Pending>
    </section>
  );
}

/** The best value after each ended trial (by number), respecting the direction; null until one completed. */
export function bestSoFar(trials: readonly Trial[], dir: Sweep['direction']): Array<{ number: number; best: number | null }> {
  let best: number | null = null;
  return [...trials]
    .filter((t) => t.status !== 'running')
    .sort((a, b) => a.number - b.number)
    .map((t) => {
      if (t.status === 'completed' && t.value !== null && Number.isFinite(t.value) && (best === null || better(dir, t.value, best))) best = t.value;
      return { number: t.number, best };
    });
}

const W = 560;
const H = 260;
const L = 68;
const T = 16;
const PW = W - L - 16;
const PH = H - T - 44;

function ticks(lo: number, hi: number): number[] {
  return lo === hi ? [lo] : [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
}

/** The frame both charts share: the image with its summary, the axes, the y ticks and the axis names. */
function ChartFrame({ chart, label, yticks, xName, yName, children }: { chart: string; label: string; yticks: ReadonlyArray<readonly [number, number]>; xName: string; yName?: string; children: ComponentChildren }) {
  return (
    <svg class="parallel" width={W} height={H} role="img" aria-label={label} data-chart={chart}>
      <title>{label}</title>
      <line x1={L} x2={L} y1={T} y2={T + PH} stroke="#8c959f" />
      <line x1={L} x2={L + PW} y1={T + PH} y2={T + PH} stroke="#8c959f" />
      {yticks.map(([v, at]) => (
        <text key={`y${v}`} x={L - 6} y={at + 4} text-anchor="end" font-size="11" fill="#4b5563">
          {formatNumber(v)}
        </text>
      ))}
      <text x={L + PW / 2} y={H - 6} text-anchor="middle" font-size="12" fill="#1b1f24">
        {xName}
      </text>
      {yName !== undefined ? (
        <text x={14} y={T + PH / 2} text-anchor="middle" font-size="12" fill="#1b1f24" transform={`rotate(-90 14 ${T + PH / 2})`}>
          {yName}
        </text>
      ) : null}
      {children}
    </svg>
  );
}

/** Completed trials as filled dots and pruned ones as crossed rings: the chosen parameter against the objective. */
function Scatter({ sweep, trials, param }: { sweep: Sweep; trials: Trial[]; param: string }) {
  const shown = trials.filter((t) => (t.status === 'completed' || t.status === 'pruned') && t.params[param] !== undefined);
  const values = shown.map((t) => t.params[param]!);
  const numeric = values.every((v) => typeof v === 'number');
  const cats = numeric ? [] : [...new Set(values.map(String))].sort();
  const nums = numeric ? values.filter((v): v is number => typeof v === 'number') : [];
  const xlo = Math.min(...nums);
  const xhi = Math.max(...nums);
  const ys = shown.map((t) => t.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const ylo = ys.length === 0 ? 0 : Math.min(...ys);
  const yhi = ys.length === 0 ? 1 : Math.max(...ys);
  // A parameter spread over more than two decades (C from 0.01 to 100) is drawn on a log scale.
  const log = numeric && xlo > 0 && xhi / xlo >= 100;
  const f = (v: number): number => (log ? Math.log10(v) : v);
  const x = (v: ParamValue): number => (numeric ? L + (xhi === xlo ? 0.5 : (f(v as number) - f(xlo)) / (f(xhi) - f(xlo))) * PW : L + ((cats.indexOf(String(v)) + 0.5) / cats.length) * PW);
  const xticks = log ? Array.from({ length: Math.floor(Math.log10(xhi)) - Math.ceil(Math.log10(xlo)) + 1 }, (_, i) => 10 ** (Math.ceil(Math.log10(xlo)) + i)) : nums.length > 0 ? ticks(xlo, xhi) : [];
  const y = (v: number | null): number => T + PH - (v === null || !Number.isFinite(v) ? 0 : yhi === ylo ? 0.5 : (v - ylo) / (yhi - ylo)) * PH;
  const completed = shown.filter((t) => t.status === 'completed').length;
  const label = `Scatter of ${sweep.metric} against ${param} for ${plural(shown.length, 'trial')}: ${completed} completed (filled dots), ${shown.length - completed} pruned (crossed rings)${ys.length > 0 ? `; ${sweep.metric} from ${formatNumber(ylo)} to ${formatNumber(yhi)}` : ''}`;
  return (
    <ChartFrame chart="scatter" label={label} yticks={ticks(ylo, yhi).map((v) => [v, y(v)] as const)} xName={log ? `${param} (log scale)` : param} yName={sweep.metric}>
      {numeric
        ? xticks.map((v) => (
            <text key={`x${v}`} x={x(v)} y={T + PH + 16} text-anchor="middle" font-size="11" fill="#4b5563">
              {formatNumber(v)}
            </text>
          ))
        : cats.map((c) => (
            <text key={`c${c}`} x={x(c)} y={T + PH + 16} text-anchor="middle" font-size="11" fill="#4b5563">
              {c}
            </text>
          ))}
      {shown.map((t, i) => {
        // Trials on the same category are spread a little sideways so they do not hide each other.
        const jitter = numeric ? 0 : ((i % 5) - 2) * 4;
        const cx = x(t.params[param]!) + jitter;
        const cy = y(t.value);
        return t.status === 'completed' ? (
          <circle key={t.number} cx={cx} cy={cy} r={5} fill={t.number === sweep.bestTrial ? '#1a7f37' : '#0969da'} data-trial={t.number} data-status="completed">
            <title>{`trial ${t.number}: ${param} ${showParam(t.params[param])}, ${sweep.metric} ${formatNumber(t.value)}`}</title>
          </circle>
        ) : (
          <g key={t.number} data-trial={t.number} data-status="pruned">
            <title>{`trial ${t.number} (pruned): ${param} ${showParam(t.params[param])}, ${sweep.metric} ${formatNumber(t.value)}`}</title>
            <circle cx={cx} cy={cy} r={5} fill="none" stroke="#9a6700" stroke-width="1.5" />
            <line x1={cx - 4} x2={cx + 4} y1={cy - 4} y2={cy + 4} stroke="#9a6700" stroke-width="1.5" />
            <line x1={cx - 4} x2={cx + 4} y1={cy + 4} y2={cy - 4} stroke="#9a6700" stroke-width="1.5" />
          </g>
        );
      })}
    </ChartFrame>
  );
}

/** The objective's running best over trial number. */
function BestSoFar({ sweep, trials }: { sweep: Sweep; trials: Trial[] }) {
  const pts = bestSoFar(trials, sweep.direction).filter((p): p is { number: number; best: number } => p.best !== null);
  if (pts.length === 0) return <p class="muted">No trial has completed yet, so there is no best value to draw.</p>;
  const nlo = Math.min(...pts.map((p) => p.number));
  const nhi = Math.max(...pts.map((p) => p.number));
  const vlo = Math.min(...pts.map((p) => p.best));
  const vhi = Math.max(...pts.map((p) => p.best));
  const x = (n: number): number => L + (nhi === nlo ? 0.5 : (n - nlo) / (nhi - nlo)) * PW;
  const y = (v: number): number => T + PH - (vhi === vlo ? 0.5 : (v - vlo) / (vhi - vlo)) * PH;
  const label = `Best ${sweep.metric} so far (${sweep.direction}) over trials ${nlo} to ${nhi}: from ${formatNumber(pts[0]!.best)} to ${formatNumber(pts.at(-1)!.best)}`;
  return (
    <ChartFrame chart="best" label={label} yticks={ticks(vlo, vhi).map((v) => [v, y(v)] as const)} xName="trial">
      {[nlo, nhi].filter((n, i, a) => a.indexOf(n) === i).map((n) => (
        <text key={`x${n}`} x={x(n)} y={T + PH + 16} text-anchor="middle" font-size="11" fill="#4b5563">
          {n}
        </text>
      ))}
      <polyline points={pts.map((p, i) => `${i > 0 ? `${x(p.number)},${y(pts[i - 1]!.best)} ` : ''}${x(p.number)},${y(p.best)}`).join(' ')} fill="none" stroke="#1a7f37" stroke-width="2" />
      {pts.map((p) => (
        <circle key={p.number} cx={x(p.number)} cy={y(p.best)} r={3} fill="#1a7f37" data-best-trial={p.number} data-best={p.best} />
      ))}
    </ChartFrame>
  );
}

function SweepView({ sweep, trials, query }: { sweep: Sweep & { trials: Trial[] }; trials: Trial[]; query: URLSearchParams }) {
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
  const asked = query.get('param');
  const param = asked !== null && params.includes(asked) ? asked : (params[0] ?? '');
  const failed = trials.filter((t) => t.status === 'failed');
  const running = trials.filter((t) => t.status === 'running').length;
  const best = bestSoFar(trials, sweep.direction);
  return (
    <>
      <dl class="summary">
        <dt>Status</dt>
        <dd data-field="status">{sweep.status}</dd>
        <dt>Objective</dt>
        <dd>{`${sweep.direction} ${sweep.metric}`}</dd>
        <dt>Trials</dt>
        <dd>{`${sweep.trialsDone}/${sweep.maxTrials} done${running > 0 ? `, ${running} running` : ''} (${sweep.sampling} sampling)`}</dd>
        <dt>Best</dt>
        <dd>{sweep.bestTrial !== null ? `${formatNumber(sweep.bestValue)} (trial ${sweep.bestTrial})` : formatNumber(best.at(-1)?.best ?? null)}</dd>
        <dt>Pipeline run</dt>
        <dd>
          {sweep.pipelineRun === null ? (
            '—'
          ) : (
            <a href={`/pipelines/runs/${encodeURIComponent(sweep.pipelineRun)}`} onClick={onLink}>
              {sweep.pipelineRun}
            </a>
          )}
          {sweep.step !== null ? `, step ${sweep.step}` : ''}
        </dd>
        <dt>Tracking run</dt>
        <dd>
          <a href={`/runs/${encodeURIComponent(sweep.runId)}`} onClick={onLink}>
            {sweep.runId}
          </a>
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(sweep.createdAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(sweep.finishedAt)}</dd>
      </dl>
      <h2>Trials by parameter</h2>
      {params.length === 0 ? (
        <p class="muted">No trial has been suggested yet.</p>
      ) : (
        <>
          <div class="toolbar">
            <label>
              Parameter
              <select value={param} onChange={(e) => navigate(urlOf(`/sweeps/${encodeURIComponent(sweep.id)}`, { param: e.currentTarget.value }), true)}>
                {params.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <Scatter sweep={sweep} trials={trials} param={param} />
        </>
      )}
      {failed.length > 0 ? (
        <p data-failed={failed.map((t) => t.number).join(',')}>
          {`Failed (not drawn): ${failed.map((t) => `trial ${t.number}${t.error !== null ? ` (${t.error})` : ''}`).join(', ')}.`}
        </p>
      ) : null}
      <h2>Best so far</h2>
      <BestSoFar sweep={sweep} trials={trials} />
      <h2>Trials</h2>
      <table>
        <caption class="muted" style={{ textAlign: 'left' }}>
          {`Every trial with its parameters and ${sweep.metric}; the best-so-far column is what the chart above draws`}
        </caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              Trial
            </th>
            {params.map((p) => (
              <th scope="col" key={p}>
                {p}
              </th>
            ))}
            <th scope="col">Status</th>
            <th scope="col" class="num">
              {sweep.metric}
            </th>
            <th scope="col" class="num">
              Best so far
            </th>
            <th scope="col">Run</th>
          </tr>
        </thead>
        <tbody>
          {trials.map((t) => (
            <tr key={t.number} data-trial={t.number} data-status={t.status}>
              <td class="num">{t.number}</td>
              {params.map((p) => (
                <td key={p}>{showParam(t.params[p])}</td>
              ))}
              <td title={t.error ?? undefined}>{t.status}</td>
              <td class="num">{formatNumber(t.value)}</td>
              <td class="num">{formatNumber(best.find((b) => b.number === t.number)?.best ?? null)}</td>
              <td>
                {t.runId === null ? (
                  '—'
                ) : (
                  <a href={`/runs/${encodeURIComponent(t.runId)}`} onClick={onLink}>
                    {`trial ${t.number} run`}
                  </a>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** One sweep: its summary, a trial scatter over a chosen parameter, the best-so-far curve and the trials. */
export function SweepPage({ id, query }: { id: string; query: URLSearchParams }) {
  const sweep = useApi<Sweep & { trials: Trial[] }>(v1(`/sweeps/${encodeURIComponent(id)}`), { pollMs: 2000, poll: (d) => d.status === 'running' });
  return (
    <section>
      <h1>{`Sweep ${id}`}</h1>
      <Pending of={sweep} what="the sweep">
        {(d) => <SweepView sweep={d} trials={d.trials} query={query} />}
      </Pending>
    </section>
  );
}
