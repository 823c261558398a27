/**
 * Metric ingestion: batches of 1000 points (a) in process through TrackingService.logBatch and
 * (b) over HTTP to a real server (POST /api/v1/runs/:id/batch, several requests in flight), on
 * SQLite, and (c) the same on Postgres when FLUXOPS_BENCH_PG_URL names an admin connection (a
 * fresh database is created for the run and dropped after). Target: 50,000 points/s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { Pool } from 'undici';
import { openPlatform, type Platform } from '../src/platform.js';
import { fmt, freshPostgresDatabase, isMain, machine, requireBuild, startFluxServer, tempHome } from './support.js';

export const INGEST_TARGET = 50_000;
const BATCH = 1000;
const KEYS = 10;
const HTTP_IN_FLIGHT = 4;

export interface IngestFigure {
  backend: 'sqlite' | 'postgres';
  path: 'in-process' | 'http';
  points: number;
  seconds: number;
  pointsPerSecond: number;
  pass: boolean;
}

export interface IngestReport {
  machine: string;
  figures: IngestFigure[];
  postgres: string;
}

function totalPoints(): number {
  const v = Number(process.env.BENCH_INGEST_POINTS);
  return Number.isInteger(v) && v >= BATCH ? v - (v % BATCH) : 200_000;
}

/** Batch i: 1000 points over 10 keys, steps continuing from the previous batch. */
function batch(i: number): Array<{ key: string; value: number; timestamp: number; step: number }> {
  const out = new Array<{ key: string; value: number; timestamp: number; step: number }>(BATCH);
  const perKey = BATCH / KEYS;
  for (let j = 0; j < BATCH; j++) {
    const step = i * perKey + Math.floor(j / KEYS);
    out[j] = { key: `metric_${j % KEYS}`, value: Math.sin(step + j) * 100, timestamp: 1_700_000_000_000 + step, step };
  }
  return out;
}

async function countPoints(platform: Platform, runId: string): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from metrics where run_uuid = ${runId}`.execute(platform.db.db);
  return Number(r.rows[0]!.n);
}

async function inProcess(platform: Platform, backend: IngestFigure['backend'], points: number): Promise<IngestFigure> {
  const warm = await platform.tracking.createRun({ experimentId: '0', runName: 'ingest-warmup' });
  for (let i = 0; i < 5; i++) await platform.tracking.logBatch(warm.info.runId, { metrics: batch(i) });
  const run = await platform.tracking.createRun({ experimentId: '0', runName: 'ingest-in-process' });
  const batches = points / BATCH;
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) await platform.tracking.logBatch(run.info.runId, { metrics: batch(i) });
  const s = (performance.now() - t0) / 1000;
  const stored = await countPoints(platform, run.info.runId);
  if (stored !== points) throw new Error(`in-process ingest stored ${stored} of ${points} points`);
  return { backend, path: 'in-process', points, seconds: s, pointsPerSecond: points / s, pass: points / s >= INGEST_TARGET };
}

async function overHttp(home: string, backend: IngestFigure['backend'], points: number, databaseUrl?: string): Promise<IngestFigure> {
  const server = await startFluxServer(home, [], databaseUrl !== undefined ? { FLUXOPS_DATABASE_URL: databaseUrl } : {});
  let runId: string;
  let figure: IngestFigure;
  try {
    const client = new Pool(server.url, { connections: HTTP_IN_FLIGHT });
    try {
      const createRun = async (name: string): Promise<string> => {
        const res = await client.request({ method: 'POST', path: '/api/v1/runs', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ experimentId: '0', runName: name }) });
        const text = await res.body.text();
        if (res.statusCode !== 201) throw new Error(`create run: ${res.statusCode} ${text}`);
        return (JSON.parse(text) as { info: { runId: string } }).info.runId;
      };
      const post = async (id: string, body: string): Promise<void> => {
        const res = await client.request({ method: 'POST', path: `/api/v1/runs/${id}/batch`, headers: { 'content-type': 'application/json' }, body });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`batch: ${res.statusCode} ${text}`);
      };
      const warm = await createRun('ingest-http-warmup');
      for (let i = 0; i < 5; i++) await post(warm, JSON.stringify({ metrics: batch(i) }));
      runId = await createRun('ingest-http');
      // Bodies are serialised before the clock starts: the figure is the server's, not the client's.
      const bodies = Array.from({ length: points / BATCH }, (_, i) => JSON.stringify({ metrics: batch(i) }));
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: HTTP_IN_FLIGHT }, async () => {
          for (let i = next++; i < bodies.length; i = next++) await post(runId, bodies[i]!);
        }),
      );
      const s = (performance.now() - t0) / 1000;
      figure = { backend, path: 'http', points, seconds: s, pointsPerSecond: points / s, pass: points / s >= INGEST_TARGET };
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
  }
  const platform = await openPlatform({ home, ...(databaseUrl !== undefined ? { databaseUrl } : {}) });
  try {
    const stored = await countPoints(platform, runId);
    if (stored !== points) throw new Error(`HTTP ingest stored ${stored} of ${points} points`);
  } finally {
    await platform.close();
  }
  return figure;
}

function line(f: IngestFigure): string {
  return `ingest: ${f.backend.padEnd(8)} ${f.path.padEnd(10)} ${fmt(f.points)} points in ${f.seconds.toFixed(2)} s = ${fmt(f.pointsPerSecond)} points/s (target ${fmt(INGEST_TARGET)}): ${f.pass ? 'PASS' : 'BELOW TARGET'}`;
}

async function postgresFigures(adminUrl: string, points: number, log: (l: string) => void): Promise<IngestFigure[]> {
  const db = await freshPostgresDatabase(adminUrl, 'fluxops_bench');
  const databaseUrl = db.url;
  const home = tempHome('fluxops-bench-ingest-pg-');
  try {
    const out: IngestFigure[] = [];
    const platform = await openPlatform({ home, databaseUrl });
    try {
      out.push(await inProcess(platform, 'postgres', points));
      log(line(out.at(-1)!));
    } finally {
      await platform.close();
    }
    out.push(await overHttp(home, 'postgres', points, databaseUrl));
    log(line(out.at(-1)!));
    return out;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    await db.drop();
  }
}

export async function runIngestBench(log: (line: string) => void = console.log): Promise<IngestReport> {
  requireBuild();
  const points = totalPoints();
  log(`ingest: ${machine()}`);
  log(`ingest: ${fmt(points)} points per figure in batches of ${BATCH} (${KEYS} keys); HTTP with ${HTTP_IN_FLIGHT} requests in flight`);
  const figures: IngestFigure[] = [];
  const home = tempHome('fluxops-bench-ingest-');
  try {
    const platform = await openPlatform({ home, databaseUrl: `sqlite:${path.join(home, 'fluxops.db')}` });
    try {
      figures.push(await inProcess(platform, 'sqlite', points));
      log(line(figures.at(-1)!));
    } finally {
      await platform.close();
    }
    const httpHome = tempHome('fluxops-bench-ingest-http-');
    try {
      figures.push(await overHttp(httpHome, 'sqlite', points));
      log(line(figures.at(-1)!));
    } finally {
      fs.rmSync(httpHome, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  const pgUrl = process.env.FLUXOPS_BENCH_PG_URL;
  let postgres = 'skipped (set FLUXOPS_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres to include it)';
  if (pgUrl) {
    figures.push(...(await postgresFigures(pgUrl, points, log)));
    postgres = `measured on a fresh database via ${pgUrl.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}`;
  } else {
    log(`ingest: postgres ${postgres}`);
  }
  return { machine: machine(), figures, postgres };
}

if (isMain(import.meta.url)) {
  runIngestBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
