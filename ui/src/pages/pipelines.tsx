import { useEffect, useRef, useState } from 'preact/hooks';
import { api, v1 } from '../api.js';
import { formatDuration, formatTime, plural } from '../format.js';
import { Pending, Status, Why } from '../pending.js';
import { navigate, onLink, urlOf } from '../router.js';
import { lacks, useSession } from '../session.js';
import { useAction, useApi } from '../use-api.js';

/** GET /api/v1/pipeline-runs/:id: a step of a run (schemas.ts StepRun). */
interface StepRun {
  step: string;
  kind: string;
  status: 'pending' | 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  position: number;
  attempt: number;
  cachedFrom: string | null;
  inputs: Record<string, unknown> | null;
  outputs: Record<string, unknown> | null;
  error: string | null;
  trackingRunId: string | null;
  modelName: string | null;
  modelVersion: string | null;
  expiresAt: number | null;
  decidedBy: string | null;
  decisionReason: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

/** A pipeline run (schemas.ts PipelineRun). */
interface PipelineRun {
  id: string;
  pipeline: string;
  params: Record<string, unknown>;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  trigger: string;
  startedBy: string | null;
  retryOf: string | null;
  reason: string | null;
  createdAt: number;
  finishedAt: number | null;
  steps: StepRun[];
}

interface LogLine {
  id: number;
  step: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  time: number;
}

interface LogPage {
  lines: LogLine[];
  next_after: number;
  status: PipelineRun['status'];
}

interface Schedule {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  pipeline: string;
  paused: boolean;
  nextSlot: number | null;
}

const RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;

/** Each status as a word, a sign and a colour (never the colour alone); colours keep 4.5:1 on white and the panel grey. */
const LOOK: Record<string, { sign: string; color: string }> = {
  pending: { sign: '○', color: '#4b5563' },
  queued: { sign: '◔', color: '#4b5563' },
  running: { sign: '▶', color: '#0b57d0' },
  waiting: { sign: '⏸', color: '#8a4b00' },
  succeeded: { sign: '✓', color: '#1a7f37' },
  failed: { sign: '✗', color: '#a3141b' },
  skipped: { sign: '↷', color: '#4b5563' },
  cancelled: { sign: '■', color: '#a3141b' },
};

function StatusText({ status }: { status: string }) {
  const look = LOOK[status] ?? { sign: '', color: 'inherit' };
  return (
    <span data-status={status} style={{ color: look.color, fontWeight: 600 }}>
      <span aria-hidden="true">{look.sign} </span>
      {status}
    </span>
  );
}

const runPath = (id: string): string => v1(`/pipeline-runs/${encodeURIComponent(id)}`);
const runPage = (id: string): string => `/pipelines/runs/${encodeURIComponent(id)}`;
const json = (v: unknown): string => JSON.stringify(v, null, 2);
const durationOf = (from: number | null, to: number | null): string => (from === null ? '—' : formatDuration((to ?? Date.now()) - from));

/** Pipeline runs, newest first (filtered by the query string), then the schedules. */
export function PipelinesPage({ query }: { query: URLSearchParams }) {
  const status = query.get('status') ?? '';
  const pipeline = query.get('pipeline') ?? '';
  const runs = useApi<{ runs: PipelineRun[] }>(urlOf(v1('/pipeline-runs'), { status, pipeline: pipeline.trim(), limit: '100' }), {
    pollMs: 2000,
    poll: (d) => d.runs.some((r) => r.status === 'running'),
  });
  const filter = (over: Record<string, string>): void => navigate(urlOf('/pipelines', { status, pipeline, ...over }), true);
  const filtered = status !== '' || pipeline.trim() !== '';
  return (
    <section>
      <h1>Pipelines</h1>
      <h2>Runs</h2>
      <form class="toolbar" aria-label="Filter the pipeline runs" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select name="status" value={status} onChange={(e) => filter({ status: e.currentTarget.value })}>
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Pipeline
          <input type="search" name="pipeline" value={pipeline} placeholder="any pipeline" style={{ width: '240px' }} onInput={(e) => filter({ pipeline: e.currentTarget.value })} />
        </label>
      </form>
      <Pending
        of={runs}
        what="the pipeline runs"
        empty={(r) =>
          r.runs.length > 0 ? null : filtered ? 'No pipeline run matches these filters: clear them to see every run.' : 'No pipeline has run yet: start one with `fluxops pipelines run pipeline.yaml`.'
        }
      >
        {({ runs: list }) => (
          <table>
            <caption class="muted" style={{ textAlign: 'left' }}>
              {plural(list.length, 'pipeline run')}, newest first{list.some((r) => r.status === 'running') ? ' (live while any is running)' : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Pipeline</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Started</th>
                <th scope="col" class="num">
                  Duration
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id} data-pipeline-run={r.id}>
                  <td>
                    <a href={runPage(r.id)} onClick={onLink}>
                      <code>{r.id}</code>
                    </a>
                  </td>
                  <td>{r.pipeline}</td>
                  <td>
                    <StatusText status={r.status} />
                  </td>
                  <td>{r.trigger}</td>
                  <td>{formatTime(r.createdAt)}</td>
                  <td class="num">{durationOf(r.createdAt, r.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Pending>
      <h2>Schedules</h2>
      <Schedules />
    </section>
  );
}

function Schedules() {
  const list = useApi<{ schedules: Schedule[] }>(v1('/schedules'));
  const { session } = useSession();
  const action = useAction();
  const why = lacks(session, 'write', 'pause or resume a schedule');
  const toggle = (s: Schedule): void =>
    void action.run(async () => {
      const next = await api<Schedule>(v1(`/schedules/${encodeURIComponent(s.name)}/${s.paused ? 'resume' : 'pause'}`), { method: 'POST' });
      if (list.data !== null) list.set({ schedules: list.data.schedules.map((x) => (x.id === next.id ? next : x)) });
      return next.paused ? `Schedule ${next.name} is paused: its slots will not fire.` : `Schedule ${next.name} is resumed: it fires next at ${formatTime(next.nextSlot, 'no further slot')}.`;
    });
  return (
    <Pending of={list} what="the schedules" empty={(r) => (r.schedules.length === 0 ? 'No schedule starts a pipeline: create one with `fluxops schedules create NAME --cron CRON --pipeline FILE`.' : null)}>
      {({ schedules }) => (
        <>
          <table>
            <caption class="muted" style={{ textAlign: 'left' }}>
              {plural(schedules.length, 'schedule')}
            </caption>
            <thead>
              <tr>
                <th scope="col">Schedule</th>
                <th scope="col">Cron</th>
                <th scope="col">Time zone</th>
                <th scope="col">Pipeline</th>
                <th scope="col">Next slot</th>
                <th scope="col">Paused</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => (
                <tr key={s.id} data-schedule={s.name}>
                  <th scope="row">{s.name}</th>
                  <td>
                    <code>{s.cron}</code>
                  </td>
                  <td>{s.timezone}</td>
                  <td>{s.pipeline}</td>
                  <td>{s.paused ? 'none while paused' : formatTime(s.nextSlot, 'no further slot')}</td>
                  <td>{s.paused ? 'yes' : 'no'}</td>
                  <td>
                    <button type="button" disabled={why !== null || action.busy} aria-describedby={why !== null ? 'schedule-why' : undefined} aria-label={`${s.paused ? 'Resume' : 'Pause'} ${s.name}`} onClick={() => toggle(s)}>
                      {s.paused ? 'Resume' : 'Pause'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Why id="schedule-why" why={why} />
          <Status said={action.said} />
        </>
      )}
    </Pending>
  );
}

/** A pipeline run: its header and moves, its steps (boxes and a table), approvals, and its log as it grows. */
export function PipelineRunPage({ id, query }: { id: string; query: URLSearchParams }) {
  const run = useApi<PipelineRun>(runPath(id), { pollMs: 1000, poll: (r) => r.status === 'running' });
  const step = query.get('step') ?? '';
  return (
    <section>
      <p>
        <a href="/pipelines" onClick={onLink}>
          ← Pipelines
        </a>
      </p>
      <h1>Pipeline run {id}</h1>
      <Pending of={run} what="the pipeline run">
        {(r) => (
          <>
            <RunHeader run={r} onChanged={run.set} />
            <h2>Steps</h2>
            <StepBoxes run={r} />
            {r.steps
              .filter((s) => s.status === 'waiting' || (s.kind === 'approve' && s.decidedBy !== null))
              .map((s) => (
                <Approval key={s.step} run={r} step={s} onDecided={run.set} />
              ))}
            <StepsTable run={r} />
            <h2>Log</h2>
            <div class="toolbar">
              <label for="log-step">Show the log of</label>
              <select id="log-step" name="step" value={step} onChange={(e) => navigate(urlOf(runPage(id), { step: e.currentTarget.value }), true)}>
                <option value="">all steps</option>
                {r.steps.map((s) => (
                  <option key={s.step} value={s.step}>
                    {s.step}
                  </option>
                ))}
              </select>
            </div>
            <RunLog key={step} id={id} step={step} running={r.status === 'running'} />
          </>
        )}
      </Pending>
    </section>
  );
}

function RunHeader({ run, onChanged }: { run: PipelineRun; onChanged: (r: PipelineRun) => void }) {
  const { session } = useSession();
  const action = useAction();
  const why = lacks(session, 'write', 'cancel or retry a pipeline run');
  const cancel = (): void =>
    void action.run(async () => {
      const next = await api<PipelineRun>(`${runPath(run.id)}/cancel`, { method: 'POST' });
      onChanged(next);
      return `Cancelled: the run is ${next.status}.`;
    });
  const retry = (): void =>
    void action.run(async () => {
      const next = await api<PipelineRun>(`${runPath(run.id)}/retry`, { method: 'POST' });
      navigate(runPage(next.id));
      return `Retried as ${next.id}.`;
    });
  const params = Object.entries(run.params);
  return (
    <>
      <dl class="summary">
        <dt>Pipeline</dt>
        <dd>
          <a href={urlOf('/pipelines', { pipeline: run.pipeline })} onClick={onLink}>
            {run.pipeline}
          </a>
        </dd>
        <dt>Status</dt>
        <dd data-run-status={run.status}>
          <StatusText status={run.status} />
          {run.reason !== null ? ` — ${run.reason}` : ''}
        </dd>
        <dt>Trigger</dt>
        <dd>
          {run.trigger}
          {run.startedBy !== null ? ` by ${run.startedBy}` : ''}
          {run.retryOf !== null ? (
            <>
              {' '}
              (retry of{' '}
              <a href={runPage(run.retryOf)} onClick={onLink}>
                {run.retryOf}
              </a>
              )
            </>
          ) : null}
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(run.createdAt)}</dd>
        <dt>{run.finishedAt === null ? 'Running for' : 'Took'}</dt>
        <dd>{durationOf(run.createdAt, run.finishedAt)}</dd>
        <dt>Params</dt>
        <dd>
          {params.length === 0
            ? 'none'
            : params.map(([k, v], i) => (
                <span key={k}>
                  {i > 0 ? ', ' : ''}
                  <code>
                    {k}={typeof v === 'string' ? v : JSON.stringify(v)}
                  </code>
                </span>
              ))}
        </dd>
      </dl>
      <div class="toolbar" role="group" aria-label="Run actions">
        {run.status === 'running' ? (
          <button type="button" disabled={why !== null || action.busy} aria-describedby={why !== null ? 'run-why' : undefined} onClick={cancel}>
            Cancel run
          </button>
        ) : null}
        {run.status === 'failed' || run.status === 'cancelled' ? (
          <button type="button" disabled={why !== null || action.busy} aria-describedby={why !== null ? 'run-why' : undefined} onClick={retry}>
            Retry run
          </button>
        ) : null}
      </div>
      {run.status !== 'succeeded' ? <Why id="run-why" why={why} /> : null}
      <Status said={action.said} />
    </>
  );
}

/** The run's pipeline as GET /pipeline-runs/:id/pipeline answers it: each step with what it needs. */
interface PipelineGraph {
  steps: Array<{ name: string; kind: string; needs: string[]; if: string | null }>;
}

/**
 * The DAG: steps in columns by depth (a step stands one column right of the deepest step it
 * needs), each box saying what it needs, so the graph reads without the picture; a step's status
 * is a sign, a word and a colour.
 */
function StepBoxes({ run }: { run: PipelineRun }) {
  const graph = useApi<PipelineGraph>(`${runPath(run.id)}/pipeline`);
  const needs = new Map((graph.data?.steps ?? []).map((g) => [g.name, g.needs]));
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen = new Set<string>()): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    const d = Math.max(-1, ...(needs.get(name) ?? []).map((n) => depthOf(n, seen))) + 1;
    depth.set(name, d);
    return d;
  };
  const steps = [...run.steps].sort((a, b) => a.position - b.position);
  const columns: StepRun[][] = [];
  for (const s of steps) (columns[depthOf(s.step)] ??= []).push(s);
  return (
    <div role="list" aria-label="Steps of the pipeline, by dependency" style={{ display: 'flex', gap: '28px', alignItems: 'flex-start', margin: '0 0 12px', flexWrap: 'wrap' }}>
      {columns.map((col, c) => (
        <div key={c} style={{ display: 'flex', flexDirection: 'column', gap: '8px' }}>
          {col.map((s) => {
            const look = LOOK[s.status] ?? { sign: '', color: '#4b5563' };
            const after = needs.get(s.step) ?? [];
            return (
              <div role="listitem" key={s.step} data-step={s.step} data-step-status={s.status} data-depth={c} style={{ border: '1px solid #d0d7de', borderLeft: `6px solid ${look.color}`, borderRadius: '6px', padding: '6px 10px', background: '#f6f8fa', minWidth: '140px' }}>
                <strong>{s.step}</strong> <span class="muted">({s.kind})</span>
                <br />
                <StatusText status={s.status} />
                {s.cachedFrom !== null ? <span class="muted"> (cached)</span> : null}
                {after.length > 0 ? (
                  <>
                    <br />
                    <span class="muted">after {after.join(', ')}</span>
                  </>
                ) : null}
              </div>
            );
          })}
        </div>
      ))}
    </div>
  );
}

function Approval({ run, step, onDecided }: { run: PipelineRun; step: StepRun; onDecided: (r: PipelineRun) => void }) {
  const { session } = useSession();
  const action = useAction();
  const [reason, setReason] = useState('');
  const why = lacks(session, 'approve', 'approve or reject a pipeline step');
  const ids = `approval-${step.step}`;
  const message = step.inputs?.['message'];
  const decide = (verb: 'approve' | 'reject'): void =>
    void action.run(async () => {
      const body = reason.trim() === '' ? { step: step.step } : { step: step.step, reason: reason.trim() };
      const next = await api<PipelineRun>(`${runPath(run.id)}/${verb}`, { method: 'POST', body });
      onDecided(next);
      return verb === 'approve' ? `Approved ${step.step}: the run goes on.` : `Rejected ${step.step}: the run fails.`;
    });
  if (step.status !== 'waiting') {
    return (
      <div data-approval={step.step} data-decided="true" style={{ border: '1px solid #d0d7de', borderRadius: '6px', padding: '8px 12px', margin: '0 0 12px' }}>
        <p style={{ margin: 0 }}>
          <strong>{step.step}</strong>: {step.status === 'succeeded' ? 'approved' : 'rejected'} by {step.decidedBy}
          {step.decisionReason !== null && step.decisionReason !== '' ? ` (${step.decisionReason})` : ''}.
        </p>
        <Status said={action.said} />
      </div>
    );
  }
  return (
    <form
      aria-label={`Approval of ${step.step}`}
      data-approval={step.step}
      onSubmit={(e) => {
        e.preventDefault();
        decide('approve');
      }}
      style={{ border: '1px solid #8a4b00', borderRadius: '6px', padding: '8px 12px', margin: '0 0 12px' }}
    >
      <p style={{ margin: '0 0 8px' }}>
        <strong>{step.step}</strong> waits for an approver{typeof message === 'string' && message !== '' ? `: ${message}` : '.'}
        {step.expiresAt !== null ? ` It expires ${formatTime(step.expiresAt)}.` : ''}
      </p>
      <div class="toolbar">
        <label>
          Reason for the decision on {step.step}
          <input name="reason" value={reason} maxLength={2000} style={{ width: 'min(480px, 70vw)' }} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={why !== null || action.busy} aria-describedby={why !== null ? `${ids}-why` : undefined}>
          Approve
        </button>
        <button type="button" disabled={why !== null || action.busy} aria-describedby={why !== null ? `${ids}-why` : undefined} onClick={() => decide('reject')}>
          Reject
        </button>
      </div>
      <Why id={`${ids}-why`} why={why} />
      <Status said={action.said} />
    </form>
  );
}

function StepsTable({ run }: { run: PipelineRun }) {
  const steps = [...run.steps].sort((a, b) => a.position - b.position);
  return (
    <table>
      <caption class="muted" style={{ textAlign: 'left' }}>
        {plural(steps.length, 'step')}: what each took and gave
      </caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Type</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">
            Attempt
          </th>
          <th scope="col">Started</th>
          <th scope="col" class="num">
            Duration
          </th>
          <th scope="col">Inputs and outputs</th>
          <th scope="col">Notes</th>
          <th scope="col">Made</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((s) => (
          <tr key={s.step} data-step-row={s.step} style={{ verticalAlign: 'top' }}>
            <th scope="row">{s.step}</th>
            <td>{s.kind}</td>
            <td>
              <StatusText status={s.status} />
            </td>
            <td class="num">{s.attempt}</td>
            <td>{formatTime(s.startedAt)}</td>
            <td class="num">{s.startedAt === null ? '—' : durationOf(s.startedAt, s.finishedAt)}</td>
            <td>
              {s.inputs !== null && Object.keys(s.inputs).length > 0 ? (
                <details>
                  <summary>Inputs</summary>
                  <pre class="preview">{json(s.inputs)}</pre>
                </details>
              ) : null}
              {s.outputs !== null && Object.keys(s.outputs).length > 0 ? (
                <details>
                  <summary>Outputs</summary>
                  <pre class="preview">{json(s.outputs)}</pre>
                </details>
              ) : null}
            </td>
            <td style={{ whiteSpace: 'normal' }} data-step-note={s.step}>
              {s.decidedBy !== null ? `${s.status === 'succeeded' ? 'Approved' : 'Rejected'} by ${s.decidedBy}${s.decisionReason !== null && s.decisionReason !== '' ? `: ${s.decisionReason}` : ''}. ` : ''}
              {s.error !== null ? <span class={s.status === 'failed' ? 'error' : 'muted'}>{s.error}</span> : null}
              {s.cachedFrom !== null ? <span class="muted">Outputs reused from {s.cachedFrom}.</span> : null}
            </td>
            <td>
              {s.trackingRunId !== null ? (
                <a href={`/runs/${encodeURIComponent(s.trackingRunId)}`} onClick={onLink}>
                  tracking run
                </a>
              ) : null}
              {s.trackingRunId !== null && s.modelName !== null ? ' ' : null}
              {s.modelName !== null && s.modelVersion !== null ? (
                <a href={`/models/${encodeURIComponent(s.modelName)}/versions/${encodeURIComponent(s.modelVersion)}`} onClick={onLink}>
                  {s.modelName} version {s.modelVersion}
                </a>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The log read by cursor: each answer's lines are appended and its next_after becomes the next
 * read, polled every second while the run goes (and read once more when it ends, for the last lines).
 */
function RunLog({ id, step, running }: { id: string; step: string; running: boolean }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [after, setAfter] = useState(0);
  const last = useRef(0);
  const page = useApi<LogPage>(urlOf(`${runPath(id)}/logs`, { after: String(after), step }), { pollMs: 1000, poll: (p) => p.status === 'running' && p.lines.length === 0 });
  useEffect(() => {
    const got = page.data?.lines.filter((l) => l.id > last.current) ?? [];
    if (got.length === 0 || page.data === null) return;
    last.current = got[got.length - 1]!.id;
    setLines((ls) => [...ls, ...got]);
    setAfter(page.data.next_after);
  }, [page.data]);
  const wasRunning = useRef(running);
  const { reload } = page;
  useEffect(() => {
    if (wasRunning.current && !running) reload();
    wasRunning.current = running;
  }, [running, reload]);
  if (page.data === null && lines.length === 0) return <Pending of={page} what="the log">{() => null}</Pending>;
  return (
    <>
      {page.error !== null ? (
        <p class="error" role="alert">
          {page.error}
        </p>
      ) : null}
      {lines.length === 0 ? (
        <p class="muted">{running ? `No log line yet${step !== '' ? ` from ${step}` : ''}: they show here as the steps write them.` : `The run wrote no log line${step !== '' ? ` from ${step}` : ''}.`}</p>
      ) : (
        <pre class="preview" role="log" aria-label={step === '' ? 'Log of the run' : `Log of step ${step}`} tabIndex={0} data-log-lines={lines.length}>
          {lines.map((l) => (
            <div key={l.id} data-log-step={l.step} data-stream={l.stream} class={l.stream === 'stderr' ? 'error' : l.stream === 'system' ? 'muted' : undefined} style={{ margin: 0 }}>
              {step === '' ? `[${l.step}] ` : ''}
              {l.stream === 'stderr' ? '(stderr) ' : ''}
              {l.text}
            </div>
          ))}
        </pre>
      )}
    </>
  );
}
