import { useEffect, useState } from 'preact/hooks';
import { api, mlflow, type KeyValue, type Run } from '../api.js';
import { onLink, urlOf } from '../router.js';
import { Artifacts, MetricHistory } from './run-parts.js';

const formatTime = (ms: number | undefined): string => (ms === undefined ? '—' : new Date(ms).toLocaleString());

function duration(start: number | undefined, end: number | undefined): string {
  if (start === undefined || end === undefined) return '—';
  const s = (end - start) / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

function KeyValues({ caption, rows, empty }: { caption: string; rows: Array<[string, string]>; empty: string }) {
  if (rows.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table class="kv">
      <caption class="muted" style={{ textAlign: 'left' }}>
        {caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <td>{k}</td>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const tagValue = (tags: KeyValue[] | undefined, key: string): string | undefined => tags?.find((t) => t.key === key)?.value;

export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    setRun(null);
    setError(null);
    api<{ run: Run }>(urlOf(mlflow('runs/get'), { run_id: runId }), { signal: ctl.signal })
      .then((r) => setRun(r.run))
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [runId]);

  if (error !== null) {
    return (
      <section>
        <h1>Run {runId}</h1>
        <p class="error" role="alert">
          {error}
        </p>
        <p>
          <a href="/" onClick={onLink}>
            Back to the runs
          </a>
        </p>
      </section>
    );
  }
  if (run === null) {
    return (
      <section>
        <h1>Run {runId}</h1>
        <p class="muted">Loading the run…</p>
      </section>
    );
  }
  const { info, data } = run;
  const tags = data.tags ?? [];
  const commit = tagValue(tags, 'mlflow.source.git.commit');
  const datasets = run.inputs?.dataset_inputs ?? [];
  return (
    <section>
      <p>
        <a href={urlOf('/', { exp: info.experiment_id })} onClick={onLink}>
          ← Runs of this experiment
        </a>
      </p>
      <h1>{info.run_name ?? info.run_id}</h1>
      <dl class="summary">
        <dt>Run ID</dt>
        <dd>
          <code>{info.run_id}</code>
        </dd>
        <dt>Status</dt>
        <dd>{info.status.toLowerCase()}</dd>
        <dt>Started</dt>
        <dd>{formatTime(info.start_time)}</dd>
        <dt>Duration</dt>
        <dd>{duration(info.start_time, info.end_time)}</dd>
        <dt>User</dt>
        <dd>{info.user_id !== undefined && info.user_id !== '' ? info.user_id : '—'}</dd>
        <dt>Git commit</dt>
        <dd>{commit === undefined ? 'not recorded' : <code>{commit}</code>}</dd>
      </dl>
      <h2>Parameters</h2>
      <KeyValues caption="Parameters of the run" rows={(data.params ?? []).map((p) => [p.key, p.value])} empty="This run logged no parameters." />
      <h2>Metrics</h2>
      <KeyValues caption="Latest value of each metric" rows={(data.metrics ?? []).map((m) => [m.key, String(m.value)])} empty="This run logged no metrics." />
      <h2>Metric history</h2>
      <MetricHistory runId={info.run_id} keys={(data.metrics ?? []).map((m) => m.key).sort()} />
      <h2>Artifacts</h2>
      <Artifacts runId={info.run_id} />
      <h2>Datasets</h2>
      {datasets.length === 0 ? (
        <p class="muted">This run recorded no dataset inputs.</p>
      ) : (
        <table class="kv">
          <caption class="muted" style={{ textAlign: 'left' }}>
            Dataset inputs and their fingerprints
          </caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Digest</th>
              <th scope="col">Source</th>
              <th scope="col">Context</th>
            </tr>
          </thead>
          <tbody>
            {datasets.map((d) => (
              <tr key={`${d.dataset.name}:${d.dataset.digest}`}>
                <td>{d.dataset.name}</td>
                <td>
                  <code>{d.dataset.digest}</code>
                </td>
                <td>{d.dataset.source ?? ''}</td>
                <td>{tagValue(d.tags, 'mlflow.data.context') ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Tags</h2>
      <KeyValues caption="Tags of the run" rows={tags.map((t) => [t.key, t.value])} empty="This run has no tags." />
    </section>
  );
}
