import { useEffect, useState } from 'preact/hooks';
import { api, v1, type Endpoint } from '../api.js';
import { onLink } from '../router.js';
import { lacks, useSession } from '../session.js';

const split = (w: Record<string, number>): string =>
  Object.entries(w)
    .filter(([, p]) => p > 0)
    .map(([d, p]) => `${d} ${p}%`)
    .join(', ');

/** Every endpoint with its deployments and traffic split. */
export function EndpointsPage() {
  const [endpoints, setEndpoints] = useState<Endpoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api<{ endpoints: Endpoint[] }>(v1('/endpoints'), { signal: ctl.signal })
      .then((r) => setEndpoints(r.endpoints))
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, []);
  return (
    <section>
      <h1>Endpoints</h1>
      {error !== null ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : endpoints === null ? (
        <p class="muted">Loading the endpoints…</p>
      ) : endpoints.length === 0 ? (
        <p class="muted">There are no endpoints yet: create one with `fluxops endpoints create NAME`, then deploy a model to it.</p>
      ) : (
        <table>
          <caption class="muted" style={{ textAlign: 'left' }}>
            {endpoints.length} endpoint{endpoints.length === 1 ? '' : 's'}
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
    </section>
  );
}

/** The traffic split editor: whole percents per deployment that must add up to 100 before it can be sent. */
function TrafficControl({ endpoint, onSaved }: { endpoint: Endpoint; onSaved: (e: Endpoint) => void }) {
  const [weights, setWeights] = useState<Record<string, string>>(() => Object.fromEntries(endpoint.deployments.map((d) => [d.name, String(endpoint.traffic[d.name] ?? 0)])));
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState<{ ok: boolean; text: string } | null>(null);
  const { session } = useSession();
  const why = lacks(session, 'write', 'change the traffic split');
  const parsed = Object.entries(weights).map(([d, v]) => [d, v.trim() === '' ? Number.NaN : Number(v)] as const);
  const bad = parsed.find(([, v]) => !Number.isInteger(v) || v < 0 || v > 100);
  const total = parsed.reduce((a, [, v]) => a + (Number.isFinite(v) ? v : 0), 0);
  const problem = bad !== undefined ? `The share of ${bad[0]} must be a whole number from 0 to 100.` : total !== 100 ? `The shares add up to ${total}%; they must add up to 100%.` : null;
  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setSaid(null);
    try {
      const next = await api<Endpoint>(v1(`/endpoints/${encodeURIComponent(endpoint.name)}/traffic`), { method: 'PUT', body: { traffic: Object.fromEntries(parsed) } });
      setWeights(Object.fromEntries(next.deployments.map((d) => [d.name, String(next.traffic[d.name] ?? 0)])));
      setSaid({ ok: true, text: `Traffic is now ${split(next.traffic)}.` });
      onSaved(next);
    } catch (err) {
      setSaid({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void save(e)} aria-label="Traffic split">
      <div class="toolbar">
        {endpoint.deployments.map((d) => (
          <label key={d.name}>
            {d.name} %
            <input type="number" min="0" max="100" step="1" name={`traffic-${d.name}`} value={weights[d.name]} aria-describedby="traffic-problem" onInput={(e) => setWeights({ ...weights, [d.name]: e.currentTarget.value })} />
          </label>
        ))}
        <button type="submit" disabled={why !== null || problem !== null || busy} aria-describedby={why !== null ? 'traffic-why' : 'traffic-problem'}>
          {busy ? 'Saving…' : 'Set traffic'}
        </button>
      </div>
      <p id="traffic-problem" class={problem !== null ? 'error' : 'muted'}>
        {problem ?? `The shares add up to 100%.`}
      </p>
      {why !== null ? (
        <p id="traffic-why" class="why muted">
          {why}
        </p>
      ) : null}
      <p class={said?.ok === false ? 'error' : 'muted'} role="status">
        {said?.text ?? ''}
      </p>
    </form>
  );
}

/** An endpoint: what each deployment serves on this server, the traffic split and its control, mirroring. */
export function EndpointPage({ name }: { name: string }) {
  const [endpoint, setEndpoint] = useState<Endpoint | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api<Endpoint>(v1(`/endpoints/${encodeURIComponent(name)}`), { signal: ctl.signal })
      .then(setEndpoint)
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [name]);
  if (error !== null || endpoint === null) {
    return (
      <section>
        <h1>{name}</h1>
        {error !== null ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : (
          <p class="muted">Loading the endpoint…</p>
        )}
      </section>
    );
  }
  const mirrored = split(endpoint.mirror);
  return (
    <section>
      <p>
        <a href="/endpoints" onClick={onLink}>
          ← Endpoints
        </a>
      </p>
      <h1>{endpoint.name}</h1>
      <p class="muted">
        {endpoint.environment}
        {endpoint.description !== '' ? ` — ${endpoint.description}` : ''}
      </p>
      <h2>Deployments</h2>
      {endpoint.deployments.length === 0 ? (
        <p class="muted">Nothing is deployed here yet: `fluxops deploy {endpoint.name} --name NAME --model MODEL@ALIAS`.</p>
      ) : (
        <table>
          <caption class="muted" style={{ textAlign: 'left' }}>
            What each deployment serves on this server
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
            </tr>
          </thead>
          <tbody>
            {endpoint.deployments.map((d) => {
              const st = endpoint.status.find((x) => x.name === d.name);
              const [model] = d.model.split(/[/@]/);
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
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {endpoint.deployments.length > 0 ? (
        <>
          <h2>Traffic split</h2>
          <TrafficControl endpoint={endpoint} onSaved={setEndpoint} />
          <h2>Mirroring</h2>
          <p class="muted">{mirrored === '' ? 'No deployment gets a copy of live traffic.' : `Copies of live requests go to ${mirrored} (answers are compared, never returned).`}</p>
        </>
      ) : null}
    </section>
  );
}
