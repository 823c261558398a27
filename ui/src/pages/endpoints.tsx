import { api, v1, type Endpoint, type EndpointLive, type GateValue, type Rollout, type RolloutStep } from '../api.js';
import { formatDuration, formatNumber, formatPercent, formatTime, plural } from '../format.js';
import { Pending, Status, Why } from '../pending.js';
import { onLink } from '../router.js';
import { lacks, useSession } from '../session.js';
import { useAction, useApi } from '../use-api.js';
import { useStream } from '../use-stream.js';
import { useEffect, useState } from 'preact/hooks';

const split = (w: Record<string, number>): string =>
  Object.entries(w)
    .filter(([, p]) => p > 0)
    .map(([d, p]) => `${d} ${p}%`)
    .join(', ');

const endpointPath = (name: string): string => v1(`/endpoints/${encodeURIComponent(name)}`);

/** Every endpoint with its deployments and traffic split. */
export function EndpointsPage() {
  const list = useApi<{ endpoints: Endpoint[] }>(v1('/endpoints'));
  return (
    <section>
      <h1>Endpoints</h1>
      <Pending of={list} what="the endpoints" empty={(r) => (r.endpoints.length === 0 ? 'There are no endpoints yet: create one with `fluxops endpoints create NAME`, then deploy a model to it.' : null)}>
        {({ endpoints }) => (
          <table>
            <caption class="muted" style={{ textAlign: 'left' }}>
              {plural(endpoints.length, 'endpoint')}
            </caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Environment</th>
                <th scope="col">Deployments</th>
                <th scope="col">Traffic</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((e) => (
                <tr key={e.name} data-endpoint={e.name}>
                  <td>
                    <a href={`/endpoints/${encodeURIComponent(e.name)}`} onClick={onLink}>
                      {e.name}
                    </a>
                  </td>
                  <td>{e.environment}</td>
                  <td>{e.deployments.map((d) => `${d.name} (${d.model})`).join(', ') || 'none'}</td>
                  <td>{split(e.traffic) || 'none'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Pending>
    </section>
  );
}

/** The traffic split editor: whole percents per deployment that must add up to 100 before it can be sent. */
function TrafficControl({ endpoint, onSaved }: { endpoint: Endpoint; onSaved: (e: Endpoint) => void }) {
  const [weights, setWeights] = useState<Record<string, string>>(() => Object.fromEntries(endpoint.deployments.map((d) => [d.name, String(endpoint.traffic[d.name] ?? 0)])));
  const action = useAction();
  const { session } = useSession();
  const why = lacks(session, 'write', 'change the traffic split');
  // A change made elsewhere (a rollout's step, another user) shows in the inputs.
  const applied = split(endpoint.traffic);
  useEffect(() => setWeights(Object.fromEntries(endpoint.deployments.map((d) => [d.name, String(endpoint.traffic[d.name] ?? 0)]))), [applied]);
  const parsed = Object.entries(weights).map(([d, v]) => [d, v.trim() === '' ? Number.NaN : Number(v)] as const);
  const bad = parsed.find(([, v]) => !Number.isInteger(v) || v < 0 || v > 100);
  const total = parsed.reduce((a, [, v]) => a + (Number.isFinite(v) ? v : 0), 0);
  const problem = bad !== undefined ? `The share of ${bad[0]} must be a whole number from 0 to 100.` : total !== 100 ? `The shares add up to ${total}%; they must add up to 100%.` : null;
  const save = (e: Event): void => {
    e.preventDefault();
    void action.run(async () => {
      const next = await api<Endpoint>(`${endpointPath(endpoint.name)}/traffic`, { method: 'PUT', body: { traffic: Object.fromEntries(parsed) } });
      setWeights(Object.fromEntries(next.deployments.map((d) => [d.name, String(next.traffic[d.name] ?? 0)])));
      onSaved(next);
      return `Traffic is now ${split(next.traffic)}.`;
    });
  };
  return (
    <form onSubmit={save} aria-label="Traffic split">
      <div class="toolbar">
        {endpoint.deployments.map((d) => (
          <label key={d.name}>
            {d.name} %
            <input type="number" min="0" max="100" step="1" name={`traffic-${d.name}`} value={weights[d.name]} aria-describedby="traffic-problem" onInput={(e) => setWeights({ ...weights, [d.name]: e.currentTarget.value })} />
          </label>
        ))}
        <button type="submit" disabled={why !== null || problem !== null || action.busy} aria-describedby={why !== null ? 'traffic-why' : 'traffic-problem'}>
          {action.busy ? 'Saving…' : 'Set traffic'}
        </button>
      </div>
      <p id="traffic-problem" class={problem !== null ? 'error' : 'muted'}>
        {problem ?? `The shares add up to 100%.`}
      </p>
      <Why id="traffic-why" why={why} />
      <Status said={action.said} />
    </form>
  );
}

/** Mirror shares: each deployment may get a copy of a share (0–100 %) of live requests; answers are compared, never returned. */
function MirrorControl({ endpoint, onSaved }: { endpoint: Endpoint; onSaved: (e: Endpoint) => void }) {
  const [shares, setShares] = useState<Record<string, string>>(() => Object.fromEntries(endpoint.deployments.map((d) => [d.name, String(endpoint.mirror[d.name] ?? 0)])));
  const action = useAction();
  const { session } = useSession();
  const why = lacks(session, 'write', 'change mirroring');
  const applied = split(endpoint.mirror);
  useEffect(() => setShares(Object.fromEntries(endpoint.deployments.map((d) => [d.name, String(endpoint.mirror[d.name] ?? 0)]))), [applied]);
  const parsed = Object.entries(shares).map(([d, v]) => [d, v.trim() === '' ? Number.NaN : Number(v)] as const);
  const bad = parsed.find(([, v]) => !Number.isInteger(v) || v < 0 || v > 100);
  const problem = bad !== undefined ? `The mirrored share of ${bad[0]} must be a whole number from 0 to 100.` : null;
  const save = (e: Event): void => {
    e.preventDefault();
    void action.run(async () => {
      const next = await api<Endpoint>(`${endpointPath(endpoint.name)}/mirror`, { method: 'PUT', body: { mirror: Object.fromEntries(parsed) } });
      onSaved(next);
      const now = split(next.mirror);
      return now === '' ? 'No deployment gets copies of live traffic now.' : `Copies now go to ${now}.`;
    });
  };
  return (
    <form onSubmit={save} aria-label="Mirroring">
      <div class="toolbar">
        {endpoint.deployments.map((d) => (
          <label key={d.name}>
            {d.name} mirrored %
            <input type="number" min="0" max="100" step="1" name={`mirror-${d.name}`} value={shares[d.name]} aria-describedby="mirror-problem" onInput={(e) => setShares({ ...shares, [d.name]: e.currentTarget.value })} />
          </label>
        ))}
        <button type="submit" disabled={why !== null || problem !== null || action.busy} aria-describedby={why !== null ? 'mirror-why' : 'mirror-problem'}>
          {action.busy ? 'Saving…' : 'Set mirroring'}
        </button>
      </div>
      <p id="mirror-problem" class={problem !== null ? 'error' : 'muted'}>
        {problem ?? 'Each share is of all live requests; 0 stops the copies to a deployment.'}
      </p>
      <Why id="mirror-why" why={why} />
      <Status said={action.said} />
    </form>
  );
}

const gateText = (g: GateValue): string =>
  `${g.gate}: ${g.value === null ? 'no value yet' : formatNumber(g.value)} — ${!g.conclusive ? `waiting for requests (${g.requests} so far)` : g.passed ? 'passing' : 'failing'}`;

function GateList({ gates, label }: { gates: GateValue[]; label: string }) {
  if (gates.length === 0) return <p class="muted">No gates are declared: the step passes when it has baked.</p>;
  return (
    <ul aria-label={label} class="gates">
      {gates.map((g) => (
        <li key={g.gate} data-gate={g.gate} class={!g.conclusive ? 'muted' : g.passed ? 'ok' : 'error'}>
          {gateText(g)}
        </li>
      ))}
    </ul>
  );
}

const stepText = (s: RolloutStep): string => (s.kind === 'pause' ? 'Pause: waits for a promote' : `${s.weight}% of traffic for ${formatDuration(s.bakeMs)}`);

const STATE_TEXT: Record<Rollout['state'], string> = { running: 'running', paused: 'paused', succeeded: 'succeeded', rolled_back: 'rolled back', aborted: 'aborted' };

/** A rollout: its steps as a timeline (finished ones with the gate values they ended on, the current one live), and the operators' moves. */
function RolloutView({ rollout, onMoved }: { rollout: Rollout; onMoved: () => void }) {
  const { session } = useSession();
  const action = useAction();
  const active = rollout.state === 'running' || rollout.state === 'paused';
  const current = rollout.spec.steps[rollout.step];
  const move = (verb: 'promote' | 'pause' | 'resume' | 'abort' | 'rollback', done: string) =>
    void action.run(async () => {
      await api<Rollout>(v1(`/rollouts/${encodeURIComponent(rollout.id)}/${verb}`), { method: 'POST' });
      onMoved();
      return done;
    });
  const buttons: Array<{ verb: 'promote' | 'pause' | 'resume' | 'abort' | 'rollback'; label: string; done: string; permission: 'approve' | 'write'; usable: boolean }> = [
    { verb: 'promote', label: 'Promote', done: 'Promoted: the rollout goes on to its next step.', permission: 'approve', usable: active },
    { verb: 'pause', label: 'Pause', done: 'Paused: the rollout holds its current step.', permission: 'write', usable: rollout.state === 'running' },
    { verb: 'resume', label: 'Resume', done: 'Resumed: the step bakes again.', permission: 'write', usable: rollout.state === 'paused' },
    { verb: 'abort', label: 'Abort', done: `Aborted: all traffic is back on ${rollout.stable}.`, permission: 'write', usable: active },
    { verb: 'rollback', label: 'Roll back', done: `Rolled back: all traffic is back on ${rollout.stable}.`, permission: 'write', usable: rollout.state !== 'rolled_back' && rollout.state !== 'aborted' },
  ];
  const whyOf: Record<string, string | null> = { approve: lacks(session, 'approve', 'promote a rollout'), write: lacks(session, 'write', 'pause, resume, abort or roll back a rollout') };
  return (
    <div data-rollout={rollout.id} data-state={rollout.state} data-step={rollout.step}>
      <p>
        <strong>
          {rollout.strategy === 'blueGreen' ? 'Blue/green' : 'Canary'} of {rollout.target} from {rollout.stable}: {STATE_TEXT[rollout.state]}
        </strong>
        {active && current !== undefined ? `, step ${rollout.step + 1} of ${rollout.spec.steps.length}` : ''}. Started {formatTime(rollout.startedAt)}
        {rollout.startedBy !== null ? ` by ${rollout.startedBy}` : ''}
        {rollout.finishedAt !== null ? `, ended ${formatTime(rollout.finishedAt)}` : ''}.{rollout.reason !== null ? ` ${rollout.reason}` : ''}
      </p>
      <ol class="timeline" aria-label="Rollout steps">
        {rollout.spec.steps.map((s, i) => {
          const result = rollout.results.find((r) => r.step === i);
          const isCurrent = active && i === rollout.step;
          const state = result !== undefined ? result.outcome : isCurrent ? (s.kind === 'pause' ? 'waiting' : rollout.state === 'paused' ? 'paused' : 'baking') : active && i > rollout.step ? 'to come' : 'not reached';
          return (
            <li key={i} data-step-index={i} data-step-state={state} aria-current={isCurrent ? 'step' : undefined} class={isCurrent ? 'current' : undefined}>
              <span>
                Step {i + 1}: {stepText(s)} — <strong>{state}</strong>
                {isCurrent && s.kind === 'weight' && rollout.stepStartedAt > 0 ? ` (for ${formatDuration(Date.now() - rollout.stepStartedAt)} of ${formatDuration(s.bakeMs)})` : ''}
                {result !== undefined ? ` at ${formatTime(result.endedAt)}` : ''}
              </span>
              {result !== undefined && result.gates.length > 0 ? <GateList gates={result.gates} label={`Gate values step ${i + 1} ended on`} /> : null}
              {result?.smoke !== null && result?.smoke !== undefined && !result.smoke.passed ? <p class="error">Smoke requests failed: {result.smoke.failures.join('; ')}</p> : null}
              {isCurrent && rollout.live !== null ? <GateList gates={rollout.live} label={`Gate values of step ${i + 1}, as measured now`} /> : null}
            </li>
          );
        })}
      </ol>
      <div class="toolbar" role="group" aria-label="Rollout actions">
        {buttons.map((b) => {
          const why = whyOf[b.permission] ?? null;
          return (
            <button key={b.verb} type="button" disabled={why !== null || !b.usable || action.busy} aria-describedby={why !== null ? `rollout-why-${b.permission}` : undefined} onClick={() => move(b.verb, b.done)}>
              {b.label}
            </button>
          );
        })}
      </div>
      <Why id="rollout-why-approve" why={whyOf.approve ?? null} />
      <Why id="rollout-why-write" why={whyOf.write ?? null} />
      <Status said={action.said} />
    </div>
  );
}

/** An endpoint: what each deployment serves and its live traffic, the split and its control, mirroring, and the newest rollout live. */
export function EndpointPage({ name }: { name: string }) {
  const endpoint = useApi<Endpoint>(endpointPath(name));
  const live = useStream<EndpointLive>(`${endpointPath(name)}/live`, 'figures');
  return (
    <section>
      <p>
        <a href="/endpoints" onClick={onLink}>
          ← Endpoints
        </a>
      </p>
      <h1>{name}</h1>
      <Pending of={endpoint} what="the endpoint">
        {(ep) => <EndpointBody endpoint={ep} live={live.data} liveError={live.error} onChanged={endpoint.set} />}
      </Pending>
    </section>
  );
}

function EndpointBody({ endpoint: read, live, liveError, onChanged }: { endpoint: Endpoint; live: EndpointLive | null; liveError: string | null; onChanged: (e: Endpoint) => void }) {
  // The stream carries the split as it changes (a rollout moves it): the page follows it.
  const endpoint = live === null || live.generation < read.generation ? read : { ...read, traffic: live.traffic, mirror: live.mirror, generation: live.generation };
  const mirrored = split(endpoint.mirror);
  const rollouts = useApi<{ rollouts: Rollout[] }>(`${endpointPath(endpoint.name)}/rollouts`);
  const rollout = live?.rollout ?? rollouts.data?.rollouts[0] ?? null;
  return (
    <>
      <p class="muted">
        {endpoint.environment}
        {endpoint.description !== '' ? ` — ${endpoint.description}` : ''}
      </p>
      <h2>Deployments</h2>
      {endpoint.deployments.length === 0 ? (
        <p class="muted">Nothing is deployed here yet: `fluxops deploy {endpoint.name} --name NAME --model MODEL@ALIAS`.</p>
      ) : (
        <>
          <table>
            <caption class="muted" style={{ textAlign: 'left' }}>
              What each deployment serves on this server, and its traffic over the last {formatDuration(live?.windowMs ?? 10_000)} (live)
            </caption>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Model</th>
                <th scope="col">Version loaded</th>
                <th scope="col" class="num">
                  Traffic
                </th>
                <th scope="col" class="num">
                  Mirrored
                </th>
                <th scope="col" class="num">
                  Requests/s
                </th>
                <th scope="col" class="num">
                  p95
                </th>
                <th scope="col" class="num">
                  Errors
                </th>
              </tr>
            </thead>
            <tbody>
              {endpoint.deployments.map((d) => {
                const st = endpoint.status.find((x) => x.name === d.name);
                const [model] = d.model.split(/[/@]/);
                const f = live?.deployments[d.name];
                return (
                  <tr key={d.name} data-deployment={d.name}>
                    <th scope="row">{d.name}</th>
                    <td>{d.model}</td>
                    <td>
                      {st?.version !== null && st?.version !== undefined ? (
                        <a href={`/models/${encodeURIComponent(model ?? '')}/versions/${st.version}`} onClick={onLink}>
                          version {st.version}
                        </a>
                      ) : (
                        (st?.error ?? 'not loaded')
                      )}
                    </td>
                    <td class="num">{endpoint.traffic[d.name] ?? 0}%</td>
                    <td class="num">{endpoint.mirror[d.name] ?? 0}%</td>
                    <td class="num" data-figure="rps">
                      {f === undefined ? '…' : f.requestsPerSecond.toFixed(1)}
                    </td>
                    <td class="num" data-figure="p95">
                      {f === undefined ? '…' : f.p95Ms === null ? '—' : `${formatNumber(f.p95Ms)} ms`}
                    </td>
                    <td class="num" data-figure="errors">
                      {f === undefined ? '…' : f.requests === 0 ? '—' : formatPercent(f.errorRate)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {liveError !== null ? (
            <p class="error" role="alert">
              {liveError}
            </p>
          ) : null}
          <h2>Rollout</h2>
          {rollout === null ? (
            rollouts.error !== null ? (
              <p class="error">{rollouts.error}</p>
            ) : (
              <p class="muted">No rollout has run on this endpoint: start one with `fluxops rollout start {endpoint.name} --to DEPLOYMENT`.</p>
            )
          ) : (
            <RolloutView rollout={rollout} onMoved={rollouts.reload} />
          )}
          <h2>Traffic split</h2>
          <TrafficControl endpoint={endpoint} onSaved={onChanged} />
          <h2>Mirroring</h2>
          <p class="muted">{mirrored === '' ? 'No deployment gets a copy of live traffic.' : `Copies of live requests go to ${mirrored} (answers are compared, never returned).`}</p>
          <MirrorControl endpoint={endpoint} onSaved={onChanged} />
        </>
      )}
    </>
  );
}
