import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, mlflow, type Experiment, type Run } from '../api.js';
import { navigate, onLink, urlOf } from '../router.js';

/** Runs fetched by the first call (few, so the first rows show soon) and by each call after it (MLflow's runs/search pages). */
const FIRST_PAGE = 200;
const PAGE = 1000;
/** Height of a table row in pixels (style.css): the virtualised list places rows by it. */
const ROW = 35;
/** Rows drawn beyond the visible ones on each side. */
const OVERSCAN = 12;

interface Column {
  kind: 'metric' | 'param';
  key: string;
}

const columnId = (c: Column): string => `${c.kind === 'metric' ? 'm' : 'p'}.${c.key}`;
const columnOf = (id: string): Column | null => {
  if (id.startsWith('m.')) return { kind: 'metric', key: id.slice(2) };
  if (id.startsWith('p.')) return { kind: 'param', key: id.slice(2) };
  return null;
};
/** A key in MLflow's filter and order grammar: bare when it is an identifier, else in backticks. */
const quoteKey = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(k) ? k : `\`${k}\``);

/** The sort of the table: `start_time`, `run_name`, `m.<key>` or `p.<key>`, and a direction. */
function orderBy(sort: string, desc: boolean): string {
  const dir = desc ? 'DESC' : 'ASC';
  if (sort === 'run_name' || sort === 'start_time') return `attributes.${sort} ${dir}`;
  const c = columnOf(sort);
  if (c === null) return `attributes.start_time DESC`;
  return `${c.kind === 'metric' ? 'metrics' : 'params'}.${quoteKey(c.key)} ${dir}`;
}

const formatTime = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toLocaleString());
const formatNumber = (v: number | undefined): string => (v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toPrecision(4));

export function RunsPage({ query }: { query: URLSearchParams }) {
  const filter = query.get('filter') ?? '';
  const sort = query.get('sort') ?? 'start_time';
  const desc = (query.get('dir') ?? 'desc') !== 'asc';
  const exp = query.get('exp') ?? '';
  const colsParam = query.get('cols');
  const [experiments, setExperiments] = useState<Experiment[] | null>(null);
  const [runs, setRuns] = useState<Run[]>([]);
  const [token, setToken] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState(filter);
  const [picked, setPicked] = useState<string[]>([]);
  const pick = (id: string): void => setPicked(picked.includes(id) ? picked.filter((x) => x !== id) : [...picked, id]);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const scroller = useRef<HTMLDivElement>(null);
  const firstRowsAt = useRef<number | null>(null);

  const set = (over: Record<string, string | undefined>, replace = false): void => {
    navigate(urlOf('/', { exp, filter, sort: sort === 'start_time' ? undefined : sort, dir: desc ? undefined : 'asc', cols: colsParam ?? undefined, ...over }), replace);
  };

  useEffect(() => setDraft(filter), [filter]);

  useEffect(() => {
    const ctl = new AbortController();
    api<{ experiments?: Experiment[] }>(mlflow('experiments/search'), { body: { max_results: 1000 }, signal: ctl.signal })
      .then((r) => setExperiments((r.experiments ?? []).filter((e) => e.lifecycle_stage === 'active')))
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, []);

  const experimentIds = useMemo(() => (exp !== '' ? [exp] : (experiments ?? []).map((e) => e.experiment_id)), [exp, experiments]);

  const load = async (pageToken: string | undefined, signal: AbortSignal): Promise<void> => {
    const started = performance.now();
    const r = await api<{ runs?: Run[]; next_page_token?: string }>(mlflow('runs/search'), {
      body: { experiment_ids: experimentIds, filter, max_results: pageToken === undefined ? FIRST_PAGE : PAGE, order_by: [orderBy(sort, desc)], page_token: pageToken },
      signal,
    });
    setRuns((prev) => (pageToken === undefined ? (r.runs ?? []) : [...prev, ...(r.runs ?? [])]));
    setToken(r.next_page_token === '' ? undefined : r.next_page_token);
    if (pageToken === undefined) firstRowsAt.current = performance.now() - started;
  };

  useEffect(() => {
    if (experiments === null) return;
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    if (experimentIds.length === 0) {
      setRuns([]);
      setLoading(false);
      return;
    }
    load(undefined, ctl.signal)
      .catch((e: Error) => {
        if (e.name === 'AbortError') return;
        setRuns([]);
        setToken(undefined);
        setError(e instanceof ApiError && e.status === 400 ? `This filter cannot be used: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}` : e.message);
      })
      .finally(() => !ctl.signal.aborted && setLoading(false));
    return () => ctl.abort();
  }, [experiments, experimentIds.join(','), filter, sort, desc]);

  // A performance mark once the first rows are on the page (the bench reads it: bench/ui.ts).
  useEffect(() => {
    if (runs.length > 0 && performance.getEntriesByName('fluxops:first-rows').length === 0) performance.mark('fluxops:first-rows');
  }, [runs.length > 0]);

  const more = (): void => {
    if (token === undefined || loading) return;
    const ctl = new AbortController();
    setLoading(true);
    load(token, ctl.signal)
      .catch((e: Error) => setError(e.message))
      .finally(() => setLoading(false));
  };

  // Every metric and param key of the loaded runs, for the column chooser.
  const available = useMemo(() => {
    const m = new Set<string>();
    const p = new Set<string>();
    for (const r of runs) {
      for (const x of r.data.metrics ?? []) m.add(x.key);
      for (const x of r.data.params ?? []) p.add(x.key);
    }
    return [...[...m].sort().map((key): Column => ({ kind: 'metric', key })), ...[...p].sort().map((key): Column => ({ kind: 'param', key }))];
  }, [runs]);
  const columns: Column[] = useMemo(() => {
    if (colsParam !== null) return colsParam.split(',').map(columnOf).filter((c): c is Column => c !== null);
    return [...available.filter((c) => c.kind === 'metric').slice(0, 4), ...available.filter((c) => c.kind === 'param').slice(0, 3)];
  }, [colsParam, available]);
  const toggle = (c: Column): void => {
    const ids = columns.map(columnId);
    const id = columnId(c);
    set({ cols: (ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id]).join(',') }, true);
  };

  useEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    const measure = (): void => setHeight(el.clientHeight);
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, [scroller.current]);

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(runs.length, Math.ceil((scrollTop + height) / ROW) + OVERSCAN);
  const onScroll = (e: Event): void => {
    const el = e.currentTarget as HTMLDivElement;
    setScrollTop(el.scrollTop);
    if (el.scrollTop + el.clientHeight > el.scrollHeight - 20 * ROW) more();
  };

  const header = (id: string, label: string, numeric = false) => {
    const active = sort === id;
    return (
      <th scope="col" class={numeric ? 'num' : undefined} aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'}>
        <button type="button" onClick={() => set({ sort: id === 'start_time' ? undefined : id, dir: active && desc ? 'asc' : undefined })}>
          {label}
          {active ? (desc ? ' ↓' : ' ↑') : ''}
        </button>
      </th>
    );
  };

  const value = (r: Run, c: Column): string => {
    if (c.kind === 'metric') return formatNumber(r.data.metrics?.find((m) => m.key === c.key)?.value);
    return r.data.params?.find((p) => p.key === c.key)?.value ?? '';
  };

  return (
    <section>
      <h1>Runs</h1>
      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          set({ filter: draft.trim() });
        }}
      >
        <label>
          Experiment
          <select value={exp} onChange={(e) => set({ exp: (e.currentTarget).value })}>
            <option value="">All experiments</option>
            {(experiments ?? []).map((e) => (
              <option value={e.experiment_id} key={e.experiment_id}>
                {e.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Filter (MLflow search syntax)
          <input
            type="search"
            name="filter"
            value={draft}
            placeholder="metrics.f1 > 0.8 and params.C = '1.0'"
            aria-describedby="filter-error"
            aria-invalid={error !== null && error.startsWith('This filter') ? 'true' : undefined}
            onInput={(e) => setDraft((e.currentTarget).value)}
          />
        </label>
        <button type="submit">Search</button>
        <details class="columns">
          <summary>Columns</summary>
          <div role="group" aria-label="Metric and parameter columns">
            {available.length === 0 ? <p class="muted">No metrics or parameters in these runs.</p> : null}
            {available.map((c) => (
              <label key={columnId(c)}>
                <input type="checkbox" checked={columns.some((x) => columnId(x) === columnId(c))} onChange={() => toggle(c)} />
                {c.kind === 'metric' ? 'metric' : 'param'} {c.key}
              </label>
            ))}
          </div>
        </details>
      </form>
      <p id="filter-error" class="error" role="alert">
        {error ?? ''}
      </p>
      {picked.length > 0 ? (
        <p>
          {picked.length < 2 ? (
            <span class="muted">Tick another run to compare them.</span>
          ) : (
            <a href={urlOf('/compare', { runs: picked.join(',') })} onClick={onLink}>
              Compare {picked.length} runs
            </a>
          )}{' '}
          <button type="button" onClick={() => setPicked([])}>
            Clear the choice
          </button>
        </p>
      ) : null}
      <p class="muted" aria-live="polite">
        {loading && runs.length === 0
          ? 'Loading runs…'
          : error !== null
            ? ''
            : runs.length === 0
              ? filter !== ''
                ? 'No runs match this filter.'
                : 'There are no runs yet: train one with `fluxops train` or log one with an MLflow client.'
              : `${runs.length.toLocaleString()} run${runs.length === 1 ? '' : 's'}${token !== undefined ? ' loaded; more load as you scroll' : ''}.`}
      </p>
      {runs.length > 0 ? (
        <div class="scroller" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label="Runs table, scrollable">
          <table data-first-rows-ms={firstRowsAt.current ?? undefined}>
            <thead>
              <tr>
                <th scope="col">
                  <span class="visually-hidden">Compare</span>
                </th>
                {header('run_name', 'Run')}
                <th scope="col">Status</th>
                {header('start_time', 'Started')}
                {columns.map((c) => header(columnId(c), c.key, c.kind === 'metric'))}
              </tr>
            </thead>
            <tbody>
              {first > 0 ? <tr aria-hidden="true" style={{ height: `${first * ROW}px` }} /> : null}
              {runs.slice(first, last).map((r) => (
                <tr key={r.info.run_id} data-run={r.info.run_id}>
                  <td>
                    <input type="checkbox" checked={picked.includes(r.info.run_id)} onChange={() => pick(r.info.run_id)} aria-label={`Compare ${r.info.run_name ?? r.info.run_id}`} />
                  </td>
                  <td>
                    <a href={`/runs/${encodeURIComponent(r.info.run_id)}`} onClick={onLink}>
                      {r.info.run_name ?? r.info.run_id}
                    </a>
                  </td>
                  <td>{r.info.status.toLowerCase()}</td>
                  <td>{formatTime(r.info.start_time)}</td>
                  {columns.map((c) => (
                    <td key={columnId(c)} class={c.kind === 'metric' ? 'num' : undefined}>
                      {value(r, c)}
                    </td>
                  ))}
                </tr>
              ))}
              {last < runs.length ? <tr aria-hidden="true" style={{ height: `${(runs.length - last) * ROW}px` }} /> : null}
            </tbody>
          </table>
        </div>
      ) : null}
      {token !== undefined ? (
        <p>
          <button type="button" onClick={more} disabled={loading}>
            {loading ? 'Loading…' : 'Load more runs'}
          </button>
        </p>
      ) : null}
    </section>
  );
}
