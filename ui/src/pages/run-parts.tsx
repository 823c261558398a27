import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, mlflow, type Metric } from '../api.js';
import { urlOf } from '../router.js';
import type { MetricChart as Chart, Series } from '../chart.js';

/** The metric charts of a run: history by step of the chosen metrics, log scale, smoothing. */
export function MetricHistory({ runId, keys }: { runId: string; keys: string[] }) {
  const [chosen, setChosen] = useState<string[]>(keys.slice(0, 4));
  const [log, setLog] = useState(false);
  const [smoothing, setSmoothing] = useState(0);
  const [series, setSeries] = useState<Series[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ChartView, setChartView] = useState<ComponentType<Parameters<typeof Chart>[0]> | null>(null);
  useEffect(() => {
    // The chart library is a chunk of its own, fetched by the pages that chart.
    void import('../chart.js').then((m) => setChartView(() => m.MetricChart));
  }, []);
  useEffect(() => {
    const ctl = new AbortController();
    Promise.all(
      chosen.map((key) =>
        api<{ metrics?: Metric[] }>(urlOf(mlflow('metrics/get-history'), { run_id: runId, metric_key: key }), { signal: ctl.signal }).then((r) => {
          const ms = [...(r.metrics ?? [])].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
          return { label: key, steps: ms.map((m) => m.step), values: ms.map((m) => m.value) };
        }),
      ),
    )
      .then(setSeries)
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [runId, chosen.join(',')]);
  if (keys.length === 0) return <p class="muted">This run logged no metrics.</p>;
  const curves = (series ?? []).filter((s) => s.steps.length > 1);
  return (
    <div>
      <fieldset class="toolbar">
        <legend>Metrics to chart</legend>
        {keys.map((k) => (
          <label key={k} class="inline">
            <input type="checkbox" checked={chosen.includes(k)} onChange={() => setChosen(chosen.includes(k) ? chosen.filter((x) => x !== k) : [...chosen, k])} />
            {k}
          </label>
        ))}
        <label class="inline">
          <input type="checkbox" checked={log} onChange={() => setLog(!log)} />
          Log scale
        </label>
        <label>
          Smoothing {smoothing.toFixed(2)}
          <input type="range" min="0" max="0.95" step="0.05" value={smoothing} onInput={(e) => setSmoothing(Number((e.currentTarget).value))} />
        </label>
      </fieldset>
      {error !== null ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : series === null || ChartView === null ? (
        <p class="muted">Loading the metric history…</p>
      ) : curves.length === 0 ? (
        <p class="muted">{chosen.length === 0 ? 'Choose a metric to chart.' : 'The chosen metrics have one value each; a chart needs a metric logged at several steps.'}</p>
      ) : (
        <ChartView series={curves} log={log} smoothing={smoothing} label={`History by step of ${curves.map((c) => c.label).join(', ')}`} />
      )}
    </div>
  );
}

interface ArtifactFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

const TEXT = /\.(txt|md|log|ya?ml|py|sh|ts|js|cfg|ini|toml)$|(^|\/)(MLmodel|requirements\.txt|conda\.yaml)$|(^|\/)[^.]+$/i;
const IMAGE = /\.(png|jpe?g|gif|webp|svg)$/i;
/** Most bytes a preview reads. */
const PREVIEW_BYTES = 256 * 1024;

/** A CSV's first rows, split by RFC 4180 (quoted fields, doubled quotes, commas and newlines inside quotes). */
export function csvRows(text: string, most: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < most; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if ((cell !== '' || row.length > 0) && rows.length < most) rows.push([...row, cell]);
  return rows;
}

function Preview({ runId, file }: { runId: string; file: ArtifactFile }) {
  const [state, setState] = useState<{ kind: 'text' | 'json' | 'csv' | 'image' | 'none' | 'error'; text?: string; url?: string; rows?: string[][] } | null>(null);
  const href = urlOf('/get-artifact', { run_id: runId, path: file.path });
  useEffect(() => {
    const ctl = new AbortController();
    let objectUrl: string | undefined;
    const kind = IMAGE.test(file.path) ? 'image' : file.path.endsWith('.json') ? 'json' : file.path.endsWith('.csv') ? 'csv' : TEXT.test(file.path) ? 'text' : 'none';
    if (kind === 'none') {
      setState({ kind });
      return;
    }
    fetch(href, { signal: ctl.signal, credentials: 'same-origin' })
      .then(async (r) => {
        if (!r.ok) throw new Error(`The server answered ${r.status} for this file.`);
        if (kind === 'image') {
          objectUrl = URL.createObjectURL(await r.blob());
          setState({ kind, url: objectUrl });
          return;
        }
        const text = (await r.text()).slice(0, PREVIEW_BYTES);
        if (kind === 'json') {
          try {
            setState({ kind, text: JSON.stringify(JSON.parse(text), null, 2) });
          } catch {
            setState({ kind: 'text', text });
          }
        } else if (kind === 'csv') setState({ kind, rows: csvRows(text, 51) });
        else setState({ kind, text });
      })
      .catch((e: Error) => e.name !== 'AbortError' && setState({ kind: 'error', text: e.message }));
    return () => {
      ctl.abort();
      if (objectUrl !== undefined) URL.revokeObjectURL(objectUrl);
    };
  }, [runId, file.path]);
  if (state === null) return <p class="muted">Loading the preview…</p>;
  if (state.kind === 'error') return <p class="error">{state.text}</p>;
  if (state.kind === 'none') return <p class="muted">No preview for this kind of file; download it instead.</p>;
  if (state.kind === 'image') return <img class="preview-image" src={state.url} alt={`The image ${file.path}`} />;
  if (state.kind === 'csv') {
    const [head, ...body] = state.rows ?? [];
    return (
      <div class="scroller" tabIndex={0} aria-label={`The first rows of ${file.path}, scrollable`}>
        <table>
          <caption class="muted" style={{ textAlign: 'left' }}>
            {file.path}: the first {body.length} rows
          </caption>
          <thead>
            <tr>
              {(head ?? []).map((h, i) => (
                <th scope="col" key={i}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {body.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <pre class="preview" tabIndex={0} aria-label={`The contents of ${file.path}`}>
      {state.text}
    </pre>
  );
}

/** A run's artifacts: folders open in place, files preview (text, JSON, CSV as a table, images) and download. */
export function Artifacts({ runId }: { runId: string }) {
  const [listing, setListing] = useState<Record<string, ArtifactFile[]>>({});
  const [open, setOpen] = useState<string[]>(['']);
  const [preview, setPreview] = useState<ArtifactFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    for (const dir of open) {
      if (listing[dir] !== undefined) continue;
      api<{ files?: ArtifactFile[] }>(urlOf(mlflow('artifacts/list'), { run_id: runId, path: dir === '' ? undefined : dir }))
        .then((r) => setListing((l) => ({ ...l, [dir]: r.files ?? [] })))
        .catch((e: Error) => setError(e.message));
    }
  }, [runId, open.join('|')]);
  const name = (p: string): string => p.split('/').pop() ?? p;
  const entries = (dir: string, depth: number): preact.JSX.Element[] =>
    (listing[dir] ?? []).flatMap((f) => {
      const row = (
        <tr key={f.path}>
          <td style={{ paddingLeft: `${10 + depth * 18}px` }}>
            {f.is_dir ? (
              <button type="button" class="link" aria-expanded={open.includes(f.path)} onClick={() => setOpen(open.includes(f.path) ? open.filter((x) => x !== f.path) : [...open, f.path])}>
                {open.includes(f.path) ? '▾' : '▸'} {name(f.path)}/
              </button>
            ) : (
              name(f.path)
            )}
          </td>
          <td class="num">{f.is_dir ? '' : (f.file_size ?? 0).toLocaleString()}</td>
          <td>
            {f.is_dir ? null : (
              <>
                <button type="button" onClick={() => setPreview(f)} aria-pressed={preview?.path === f.path}>
                  Preview
                </button>{' '}
                <a href={urlOf('/get-artifact', { run_id: runId, path: f.path })} download={name(f.path)}>
                  Download
                </a>
              </>
            )}
          </td>
        </tr>
      );
      return f.is_dir && open.includes(f.path) ? [row, ...entries(f.path, depth + 1)] : [row];
    });
  if (error !== null)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (listing[''] === undefined) return <p class="muted">Loading the artifacts…</p>;
  if (listing[''].length === 0) return <p class="muted">This run has no artifacts.</p>;
  return (
    <div>
      <table class="artifacts">
        <caption class="muted" style={{ textAlign: 'left' }}>
          Artifacts of the run
        </caption>
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col" class="num">
              Bytes
            </th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>{entries('', 0)}</tbody>
      </table>
      {preview !== null ? (
        <section aria-label={`Preview of ${preview.path}`}>
          <h3>{preview.path}</h3>
          <Preview runId={runId} file={preview} />
        </section>
      ) : null}
    </div>
  );
}
