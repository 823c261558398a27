import { useEffect, useState } from 'preact/hooks';
import { api, v1, type RegisteredModel } from '../api.js';
import { onLink } from '../router.js';

const formatTime = (ms: number): string => new Date(ms).toLocaleString();

/** Every registered model with its aliases and newest version. */
export function ModelsPage() {
  const [models, setModels] = useState<RegisteredModel[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api<{ items: RegisteredModel[] }>(v1('/models?maxResults=1000'), { signal: ctl.signal })
      .then((r) => setModels(r.items))
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, []);
  return (
    <section>
      <h1>Registered models</h1>
      {error !== null ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : models === null ? (
        <p class="muted">Loading the models…</p>
      ) : models.length === 0 ? (
        <p class="muted">No model is registered yet: register one with `fluxops train --register NAME` or an MLflow client.</p>
      ) : (
        <table>
          <caption class="muted" style={{ textAlign: 'left' }}>
            {models.length} registered model{models.length === 1 ? '' : 's'}
          </caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Aliases</th>
              <th scope="col" class="num">
                Newest version
              </th>
              <th scope="col">Updated</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.name} data-model={m.name}>
                <td>
                  <a href={`/models/${encodeURIComponent(m.name)}`} onClick={onLink}>
                    {m.name}
                  </a>
                </td>
                <td>{m.aliases.map((a) => `${a.alias} → v${a.version}`).join(', ')}</td>
                <td class="num">{m.latestVersions.reduce((x, v) => Math.max(x, Number(v.version)), 0) || ''}</td>
                <td>{formatTime(m.lastUpdatedTime)}</td>
                <td>{m.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
