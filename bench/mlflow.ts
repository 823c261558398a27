/**
 * The MLflow-compatible API under load, against a real server (a child process):
 * (a) metric ingestion through `POST /api/2.0/mlflow/runs/log-batch`, 1,000 metrics per request
 *     with several requests in flight, in points per second (target ≥ 50,000/s; a real MLflow
 *     2.12.2 server on SQLite manages about 6,000/s);
 * (b) `POST /api/2.0/mlflow/runs/search` over 5,000 runs (4 metrics, 2 params, 1 tag each) with a
 *     metric filter and order returning 1,000 runs, median and p95 of 20 calls (target ≤ 150 ms;
 *     the same MLflow server takes about 1.5 s).
 * Both on SQLite, and on Postgres when FLUXOPS_BENCH_PG_URL names an admin connection (a fresh
 * database is created for the run and dropped after).
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { Pool } from 'undici';
import { openPlatform, type Platform } from '../src/platform.js';
import { fmt, freshPostgresDatabase, isMain, machine, requireBuild, startFluxServer, tempHome } from './support.js';

export const MLFLOW_INGEST_TARGET = 50_000;
export const MLFLOW_SEARCH_TARGET_MS = 150;
const BATCH = 1000;
const KEYS = 10;
const IN_FLIGHT = 4;
const SEARCH_RUNS = 5000;
const SEARCH_CALLS = 20;
const SEARCH_BODY = JSON.stringify({
  experiment_ids: ['0'],
  filter: 'metrics.m0 > 0.1',
  order_by: ['metrics.m0 DESC'],
  max_results: 1000,
  run_view_type: 'ACTIVE_ONLY',
});

type Backend = 'sqlite' | 'postgres';

export interface MlflowIngestFigure {
  backend: Backend;
  points: number;
  seconds: number;
  pointsPerSecond: number;
  pass: boolean;
}

export interface MlflowSearchFigure {
  backend: Backend;
  runs: number;
  returned: number;
  calls: number;
  medianMs: number;
  p95Ms: number;
  pass: boolean;
}

export interface MlflowReport {
  machine: string;
  ingest: MlflowIngestFigure[];
  search: MlflowSearchFigure[];
  postgres: string;
}

function totalPoints(): number {
  const v = Number(process.env.BENCH_INGEST_POINTS);
  return Number.isInteger(v) && v >= BATCH ? v - (v % BATCH) : 200_000;
}

/** A log-batch body: 1000 points over 10 keys, steps continuing from the previous batch. */
function batchBody(runId: string, i: number): string {
  const metrics = new Array<{ key: string; value: number; timestamp: number; step: number }>(BATCH);
  const perKey = BATCH / KEYS;
  for (let j = 0; j < BATCH; j++) {
    const step = i * perKey + Math.floor(j / KEYS);
    metrics[j] = { key: `metric_${j % KEYS}`, value: Math.sin(step + j) * 100, timestamp: 1_700_000_000_000 + step, step };
  }
  return JSON.stringify({ run_id: runId, metrics });
}

async function call(client: Pool, route: string, body: string): Promise<string> {
  const res = await client.request({ method: 'POST', path: `/api/2.0/mlflow/${route}`, headers: { 'content-type': 'application/json' }, body });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${route}: ${res.statusCode} ${text.slice(0, 300)}`);
  return text;
}

async function createRun(client: Pool, name: string): Promise<string> {
  const text = await call(client, 'runs/create', JSON.stringify({ experiment_id: '0', run_name: name, start_time: Date.now() }));
  return (JSON.parse(text) as { run: { info: { run_id: string } } }).run.info.run_id;
}

async function countPoints(platform: Platform, runId: string): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from metrics where run_uuid = ${runId}`.execute(platform.db.db);
  return Number(r.rows[0]!.n);
}

async function ingest(home: string, backend: Backend, points: number, env: NodeJS.ProcessEnv, databaseUrl?: string): Promise<MlflowIngestFigure> {
  const server = await startFluxServer(home, [], env);
  let runId: string;
  let figure: MlflowIngestFigure;
  try {
    const client = new Pool(server.url, { connections: IN_FLIGHT });
    try {
      const warm = await createRun(client, 'mlflow-ingest-warmup');
      for (let i = 0; i < 5; i++) await call(client, 'runs/log-batch', batchBody(warm, i));
      runId = await createRun(client, 'mlflow-ingest');
      // Bodies are serialised before the clock starts: the figure is the server's, not the client's.
      const bodies = Array.from({ length: points / BATCH }, (_, i) => batchBody(runId, i));
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let i = next++; i < bodies.length; i = next++) await call(client, 'runs/log-batch', bodies[i]!);
        }),
      );
      const s = (performance.now() - t0) / 1000;
      figure = { backend, points, seconds: s, pointsPerSecond: points / s, pass: points / s >= MLFLOW_INGEST_TARGET };
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
  }
  const platform = await openPlatform({ home, ...(databaseUrl !== undefined ? { databaseUrl } : {}) });
  try {
    const stored = await countPoints(platform, runId);
    if (stored !== points) throw new Error(`log-batch stored ${stored} of ${points} points`);
  } finally {
    await platform.close();
  }
  return figure;
}

/** 5,000 runs in experiment 0 with metrics m0..m3, params p0, p1 and tag t0, written through the service. */
async function seedSearch(home: string, databaseUrl: string | undefined, log: (l: string) => void): Promise<void> {
  const platform = await openPlatform({ home, ...(databaseUrl !== undefined ? { databaseUrl } : {}) });
  try {
    const t0 = performance.now();
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < SEARCH_RUNS; i++) {
      const run = await platform.tracking.createRun({ experimentId: '0', runName: `search-${i}`, startTime: 1_700_000_000_000 + i });
      await platform.tracking.logBatch(run.info.runId, {
        metrics: [0, 1, 2, 3].map((k) => ({ key: `m${k}`, value: rand(), timestamp: 1_700_000_000_000 + i, step: 0 })),
        params: [
          { key: 'p0', value: String(i % 7) },
          { key: 'p1', value: i % 2 === 0 ? 'lbfgs' : 'saga' },
        ],
        tags: [{ key: 't0', value: `team-${i % 5}` }],
      });
    }
    log(`mlflow: seeded ${fmt(SEARCH_RUNS)} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await platform.close();
  }
}

async function search(home: string, backend: Backend, env: NodeJS.ProcessEnv, databaseUrl: string | undefined, log: (l: string) => void): Promise<MlflowSearchFigure> {
  await seedSearch(home, databaseUrl, log);
  const server = await startFluxServer(home, [], env);
  try {
    const client = new Pool(server.url, { connections: 1 });
    try {
      let returned = 0;
      for (let i = 0; i < 3; i++) {
        const body = JSON.parse(await call(client, 'runs/search', SEARCH_BODY)) as { runs?: Array<{ data: { metrics: Array<{ key: string; value: number }> } }> };
        returned = body.runs?.length ?? 0;
        const m0 = (body.runs ?? []).map((r) => r.data.metrics.find((m) => m.key === 'm0')!.value);
        if (m0.some((v, j) => v <= 0.1 || (j > 0 && v > m0[j - 1]!))) throw new Error('runs/search returned runs out of filter or order');
      }
      if (returned !== 1000) throw new Error(`runs/search returned ${returned} runs, expected 1000`);
      const times: number[] = [];
      for (let i = 0; i < SEARCH_CALLS; i++) {
        const t0 = performance.now();
        await call(client, 'runs/search', SEARCH_BODY);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const medianMs = (times[(SEARCH_CALLS - 1) >> 1]! + times[SEARCH_CALLS >> 1]!) / 2;
      const p95Ms = times[Math.min(SEARCH_CALLS - 1, Math.ceil(0.95 * SEARCH_CALLS) - 1)]!;
      return { backend, runs: SEARCH_RUNS, returned, calls: SEARCH_CALLS, medianMs, p95Ms, pass: p95Ms <= MLFLOW_SEARCH_TARGET_MS };
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
  }
}

export function ingestLine(f: MlflowIngestFigure): string {
  return `mlflow: ${f.backend.padEnd(8)} log-batch ${fmt(f.points)} points in ${f.seconds.toFixed(2)} s = ${fmt(f.pointsPerSecond)} points/s (target ${fmt(MLFLOW_INGEST_TARGET)}): ${f.pass ? 'PASS' : 'BELOW TARGET'}`;
}

export function searchLine(f: MlflowSearchFigure): string {
  return (
    `mlflow: ${f.backend.padEnd(8)} runs/search over ${fmt(f.runs)} runs returning ${fmt(f.returned)}: median ${f.medianMs.toFixed(1)} ms, ` +
    `p95 ${f.p95Ms.toFixed(1)} ms of ${f.calls} calls (target ≤ ${MLFLOW_SEARCH_TARGET_MS} ms): ${f.pass ? 'PASS' : 'ABOVE TARGET'}`
  );
}

async function onBackend(
  backend: Backend,
  databaseUrlFor: () => Promise<{ url: string | undefined; drop: () => Promise<void> }>,
  points: number,
  report: MlflowReport,
  log: (l: string) => void,
): Promise<void> {
  for (const part of ['ingest', 'search'] as const) {
    const home = tempHome(`fluxops-bench-mlflow-${part}-`);
    const db = await databaseUrlFor();
    try {
      const env = db.url !== undefined ? { FLUXOPS_DATABASE_URL: db.url } : {};
      if (part === 'ingest') {
        report.ingest.push(await ingest(home, backend, points, env, db.url));
        log(ingestLine(report.ingest.at(-1)!));
      } else {
        report.search.push(await search(home, backend, env, db.url, log));
        log(searchLine(report.search.at(-1)!));
      }
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
      await db.drop();
    }
  }
}

export async function runMlflowBench(log: (line: string) => void = console.log): Promise<MlflowReport> {
  requireBuild();
  const points = totalPoints();
  log(`mlflow: ${machine()}`);
  log(`mlflow: log-batch ${fmt(points)} points in requests of ${BATCH} metrics (${KEYS} keys), ${IN_FLIGHT} in flight; runs/search ${SEARCH_BODY}`);
  const report: MlflowReport = { machine: machine(), ingest: [], search: [], postgres: '' };
  await onBackend('sqlite', () => Promise.resolve({ url: undefined, drop: () => Promise.resolve() }), points, report, log);
  const pgUrl = process.env.FLUXOPS_BENCH_PG_URL;
  if (pgUrl) {
    await onBackend('postgres', () => freshPostgresDatabase(pgUrl, 'fluxops_bench_mlflow'), points, report, log);
    report.postgres = `measured on fresh databases via ${pgUrl.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}`;
  } else {
    report.postgres = 'skipped (set FLUXOPS_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres to include it)';
    log(`mlflow: postgres ${report.postgres}`);
  }
  return report;
}

if (isMain(import.meta.url)) {
  runMlflowBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
