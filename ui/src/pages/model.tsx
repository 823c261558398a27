import { useEffect, useState } from 'preact/hooks';
import { api, v1, type Endpoint, type Lineage, type ModelVersion, type RegisteredModel } from '../api.js';
import { onLink, urlOf } from '../router.js';
import { lacks, useSession } from '../session.js';

const formatTime = (ms: number): string => new Date(ms).toLocaleString();
const formatMetric = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** Moves (or creates) an alias: a state-changing call; the server's refusal (a role without the permission, a protected alias) is shown as it says it. */
function AliasMover({ model, versions, onMoved }: { model: RegisteredModel; versions: ModelVersion[]; onMoved: () => void }) {
  const [alias, setAlias] = useState(model.aliases[0]?.alias ?? 'staging');
  const [version, setVersion] = useState(versions[0]?.version ?? '');
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState<{ ok: boolean; text: string } | null>(null);
  const { session } = useSession();
  const why = lacks(session, 'write', 'move aliases');
  const move = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setSaid(null);
    try {
      await api(v1(`/models/${encodeURIComponent(model.name)}/aliases/${encodeURIComponent(alias.trim())}`), { method: 'PUT', body: { version } });
      setSaid({ ok: true, text: `${model.name}@${alias.trim()} now points at version ${version}.` });
      onMoved();
    } catch (err) {
      setSaid({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="toolbar" onSubmit={(e) => void move(e)} aria-label="Move an alias">
      <label>
        Alias
        <input name="alias" value={alias} required onInput={(e) => setAlias((e.currentTarget).value)} />
      </label>
      <label>
        To version
        <select name="version" value={version} onChange={(e) => setVersion((e.currentTarget).value)}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={why !== null || busy || alias.trim() === '' || version === ''} aria-describedby={why !== null ? 'alias-why' : undefined}>
        {busy ? 'Moving…' : 'Move alias'}
      </button>
      {why !== null ? (
        <p id="alias-why" class="why muted">
          {why}
        </p>
      ) : null}
      <p class={said?.ok === false ? 'error' : 'muted'} role="status">
        {said?.text ?? ''}
      </p>
    </form>
  );
}

/** A model: its aliases, versions (stage, status, metrics at registration), the alias control. */
export function ModelPage({ name }: { name: string }) {
  const [model, setModel] = useState<RegisteredModel | null>(null);
  const [versions, setVersions] = useState<ModelVersion[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    const path = `/models/${encodeURIComponent(name)}`;
    Promise.all([api<RegisteredModel>(v1(path), { signal: ctl.signal }), api<{ items: ModelVersion[] }>(v1(`${path}/versions?maxResults=1000`), { signal: ctl.signal })])
      .then(([m, vs]) => {
        setModel(m);
        setVersions([...vs.items].sort((a, b) => Number(b.version) - Number(a.version)));
      })
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [name, generation]);
  if (error !== null) {
    return (
      <section>
        <h1>{name}</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </section>
    );
  }
  if (model === null) {
    return (
      <section>
        <h1>{name}</h1>
        <p class="muted">Loading the model…</p>
      </section>
    );
  }
  const metricKeys = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort().slice(0, 4);
  return (
    <section>
      <p>
        <a href="/models" onClick={onLink}>
          ← Registered models
        </a>
      </p>
      <h1>{model.name}</h1>
      {model.description !== '' ? <p>{model.description}</p> : null}
      <h2>Aliases</h2>
      {model.aliases.length === 0 ? (
        <p class="muted">No alias points at a version of this model yet.</p>
      ) : (
        <ul>
          {model.aliases.map((a) => (
            <li key={a.alias}>
              <strong>{a.alias}</strong> →{' '}
              <a href={`/models/${encodeURIComponent(model.name)}/versions/${a.version}`} onClick={onLink}>
                version {a.version}
              </a>
            </li>
          ))}
        </ul>
      )}
      {versions.length > 0 ? <AliasMover model={model} versions={versions} onMoved={() => setGeneration((g) => g + 1)} /> : null}
      <h2>Versions</h2>
      {versions.length === 0 ? (
        <p class="muted">This model has no versions yet.</p>
      ) : (
        <table>
          <caption class="muted" style={{ textAlign: 'left' }}>
            Versions, newest first, with the metrics of their runs at registration
          </caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Aliases</th>
              <th scope="col">Status</th>
              <th scope="col">Registered</th>
              {metricKeys.map((k) => (
                <th scope="col" class="num" key={k}>
                  {k}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} data-version={v.version}>
                <td>
                  <a href={`/models/${encodeURIComponent(model.name)}/versions/${v.version}`} onClick={onLink}>
                    version {v.version}
                  </a>
                </td>
                <td>{v.aliases.join(', ')}</td>
                <td>{v.status === 'READY' ? 'ready' : v.statusMessage || v.status.toLowerCase()}</td>
                <td>{formatTime(v.creationTime)}</td>
                {metricKeys.map((k) => (
                  <td class="num" key={k}>
                    {v.metrics[k] === undefined ? '' : formatMetric(v.metrics[k])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A version: its signature and its lineage, data fingerprint → run → version → deployments. */
export function VersionPage({ name, version }: { name: string; version: string }) {
  const [lineage, setLineage] = useState<Lineage | null>(null);
  const [endpoints, setEndpoints] = useState<Endpoint[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api<Lineage>(v1(`/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/lineage`), { signal: ctl.signal })
      .then(setLineage)
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    // Endpoints are a read like the rest; a server that refuses them to this caller just shows none.
    api<{ endpoints: Endpoint[] }>(v1('/endpoints'), { signal: ctl.signal })
      .then((r) => setEndpoints(r.endpoints))
      .catch(() => setEndpoints([]));
    return () => ctl.abort();
  }, [name, version]);
  const title = `${name} version ${version}`;
  if (error !== null) {
    return (
      <section>
        <h1>{title}</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </section>
    );
  }
  if (lineage === null) {
    return (
      <section>
        <h1>{title}</h1>
        <p class="muted">Loading the version…</p>
      </section>
    );
  }
  const v = lineage.model;
  const serving = endpoints.flatMap((e) =>
    e.status.filter((s) => s.model.split(/[/@]/)[0] === name && s.version === version).map((s) => ({ endpoint: e.name, deployment: s.name, model: s.model, weight: e.traffic[s.name] ?? 0 })),
  );
  return (
    <section>
      <p>
        <a href={`/models/${encodeURIComponent(name)}`} onClick={onLink}>
          ← {name}
        </a>
      </p>
      <h1>{title}</h1>
      <dl class="summary">
        <dt>Aliases</dt>
        <dd>{v.aliases.length === 0 ? 'none' : v.aliases.join(', ')}</dd>
        <dt>Status</dt>
        <dd>{v.status === 'READY' ? 'ready' : v.statusMessage || v.status.toLowerCase()}</dd>
        <dt>Flavor</dt>
        <dd>{v.flavor || '—'}</dd>
        <dt>Source</dt>
        <dd>
          <code>{v.source}</code>
        </dd>
      </dl>
      <h2>Lineage</h2>
      <ol class="lineage" aria-label="From the training data to the deployments">
        <li>
          <strong>Data</strong>
          {lineage.datasets.length === 0 ? (
            <span class="muted"> no dataset recorded</span>
          ) : (
            lineage.datasets.map((d) => (
              <span key={d.digest}>
                {' '}
                {d.name} <code>{d.digest}</code>
                {d.context !== '' ? ` (${d.context})` : ''}
              </span>
            ))
          )}
        </li>
        <li>
          <strong>Run</strong>{' '}
          {lineage.run === null ? (
            <span class="muted">not recorded</span>
          ) : (
            <a href={`/runs/${encodeURIComponent(lineage.run.runId)}`} onClick={onLink}>
              {lineage.run.runName || lineage.run.runId}
            </a>
          )}
        </li>
        <li>
          <strong>Version</strong> {name}/{version}
        </li>
        <li>
          <strong>Deployments</strong>{' '}
          {serving.length === 0 ? (
            <span class="muted">not serving on any endpoint</span>
          ) : (
            serving.map((s) => (
              <span key={`${s.endpoint}/${s.deployment}`}>
                {' '}
                {s.endpoint}/{s.deployment} ({s.model}, {s.weight}% of traffic)
              </span>
            ))
          )}
        </li>
      </ol>
      <h2>Signature</h2>
      {v.signature === null ? (
        <p class="muted">This version has no signature.</p>
      ) : (
        <table>
          <caption class="muted" style={{ textAlign: 'left' }}>
            Inputs and outputs
          </caption>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Type</th>
              <th scope="col">Side</th>
            </tr>
          </thead>
          <tbody>
            {[...v.signature.inputs.map((c) => ({ ...c, side: 'input' })), ...v.signature.outputs.map((c) => ({ ...c, side: 'output' }))].map((c, i) => (
              <tr key={i}>
                <td>{c.name ?? '(unnamed)'}</td>
                <td>{c.type}</td>
                <td>{c.side}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Metrics at registration</h2>
      {Object.keys(v.metrics).length === 0 ? (
        <p class="muted">The run logged no metrics.</p>
      ) : (
        <ul>
          {Object.entries(v.metrics).map(([k, m]) => (
            <li key={k}>
              {k}: {formatMetric(m)}
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href={urlOf('/', { filter: `attributes.run_id = '${lineage.run?.runId ?? ''}'` })} onClick={onLink}>
          Find the run in the runs table
        </a>
      </p>
    </section>
  );
}
