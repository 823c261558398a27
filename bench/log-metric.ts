/**
 * Single-call metric logging: `POST /api/2.0/mlflow/runs/log-metric`, one point per request, as
 * MLflow's `log_metric` sends it, against the real server (the CLI in a child process), from 1 and
 * from 8 concurrent clients, each on its own connection. The load comes from another process that
 * is not the bottleneck: Debian's `wrk` (C, one thread) with a Lua script that varies step and
 * value per request, or autocannon in a child process when wrk is absent.
 *
 * SQLite is measured with group commit off (FLUXOPS_GROUP_COMMIT=off: one transaction and one
 * fsync per request, the baseline) and on; Postgres when FLUXOPS_BENCH_PG_URL names an admin
 * connection (a fresh database per figure). After each load the stored points are counted: every
 * acknowledged (2xx) write must be there. Target: ≥ 5,000 calls/s from 8 clients on SQLite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { openPlatform } from '../src/platform.js';
import { autocannonChild, hasWrk, wrk } from './load.js';
import { fmt, freshPostgresDatabase, isMain, machine, requireBuild, seconds, startFluxServer, tempHome } from './support.js';

export const LOG_METRIC_TARGET = 5_000;
const CLIENT_COUNTS = [1, 8] as const;

type Backend = 'sqlite' | 'postgres';

export interface LogMetricFigure {
  backend: Backend;
  groupCommit: boolean;
  clients: number;
  tool: 'wrk' | 'autocannon';
  acknowledged: number;
  stored: number;
  seconds: number;
  callsPerSecond: number;
}

export interface LogMetricReport {
  machine: string;
  figures: LogMetricFigure[];
  postgres: string;
}

interface Load {
  acknowledged: number;
  failed: number;
  seconds: number;
}

const WRK_SCRIPT = `
-- One log-metric body per request; step and value vary per request and per wrk thread.
local counter = 0
id = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  run_id = args[1]
end
request = function()
  counter = counter + 1
  local step = id * 100000000 + counter
  local body = string.format('{"run_id":"%s","key":"loss","value":%d.25,"timestamp":%d,"step":%d}', run_id, counter % 1000, 1700000000000 + counter, step)
  return wrk.format("POST", "/api/2.0/mlflow/runs/log-metric", { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_API_KEY") }, body)
end
`;

/** wrk for `durationS` with `clients` connections; acknowledged = completed responses that were 2xx. */
async function wrkLoad(url: string, runId: string, key: string, clients: number, durationS: number, scriptFile: string): Promise<Load> {
  const r = await wrk({ url, connections: clients, durationS, scriptFile, args: [runId], env: { BENCH_API_KEY: key } });
  return { acknowledged: r.requests - r.non2xx, failed: r.non2xx + r.socketErrors, seconds: r.seconds };
}

/** autocannon in a child process (so its CPU is not the server's), for machines without wrk. */
async function autocannonLoad(url: string, runId: string, key: string, clients: number, durationS: number): Promise<Load> {
  const r = await autocannonChild({
    url: `${url}/api/2.0/mlflow/runs/log-metric`,
    method: 'POST',
    connections: clients,
    durationS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    setupBody: `(n) => JSON.stringify({ run_id: ${JSON.stringify(runId)}, key: 'loss', value: (n % 1000) + 0.25, timestamp: 1700000000000 + n, step: n })`,
  });
  return { acknowledged: r.requests - r.non2xx, failed: r.non2xx + r.socketErrors, seconds: r.seconds };
}

/** A home with a run and an API key, written before the server starts. */
async function prepare(home: string, databaseUrl: string | undefined): Promise<{ runId: string; key: string }> {
  const platform = await openPlatform({ home, ...(databaseUrl !== undefined ? { databaseUrl } : {}) });
  try {
    const run = await platform.tracking.createRun({ experimentId: '0', runName: 'log-metric-bench' });
    const { key } = await platform.keys.create('bench');
    return { runId: run.info.runId, key };
  } finally {
    await platform.close();
  }
}

async function countPoints(home: string, databaseUrl: string | undefined, runId: string): Promise<number> {
  const platform = await openPlatform({ home, ...(databaseUrl !== undefined ? { databaseUrl } : {}) });
  try {
    const r = await sql<{ n: number | string }>`select count(*) as n from metrics where run_uuid = ${runId}`.execute(platform.db.db);
    return Number(r.rows[0]!.n);
  } finally {
    await platform.close();
  }
}

/** One figure: a fresh database, the server, a warm-up, the measured load, the stored count. */
async function figure(backend: Backend, groupCommit: boolean, clients: number, databaseUrl: string | undefined, durationS: number, scriptFile: string | undefined): Promise<LogMetricFigure> {
  const home = tempHome('fluxops-bench-log-metric-');
  try {
    const { runId, key } = await prepare(home, databaseUrl);
    const env: NodeJS.ProcessEnv = { FLUXOPS_GROUP_COMMIT: groupCommit ? 'on' : 'off', ...(databaseUrl !== undefined ? { FLUXOPS_DATABASE_URL: databaseUrl } : {}) };
    const server = await startFluxServer(home, [], env);
    let warm: Load;
    let load: Load;
    const tool = scriptFile !== undefined ? 'wrk' : 'autocannon';
    try {
      const go = (d: number): Promise<Load> => (scriptFile !== undefined ? wrkLoad(server.url, runId, key, clients, d, scriptFile) : autocannonLoad(server.url, runId, key, clients, d));
      warm = await go(Math.min(2, durationS));
      load = await go(durationS);
    } finally {
      await server.stop();
    }
    if (warm.failed + load.failed > 0) throw new Error(`${backend} log-metric: ${warm.failed + load.failed} requests failed or were not 2xx`);
    const stored = await countPoints(home, databaseUrl, runId);
    const acknowledged = warm.acknowledged + load.acknowledged;
    // A request in flight when the load generator stopped may have been stored without its
    // response being counted, so up to one per connection and load may be stored unacknowledged;
    // an acknowledged write that is missing is a failure.
    if (stored < acknowledged || stored > acknowledged + 2 * clients) {
      throw new Error(`${backend} log-metric: ${fmt(acknowledged)} writes acknowledged but ${fmt(stored)} stored`);
    }
    return { backend, groupCommit, clients, tool, acknowledged, stored, seconds: load.seconds, callsPerSecond: load.acknowledged / load.seconds };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function line(f: LogMetricFigure, baseline: LogMetricFigure | undefined): string {
  const ratio = baseline === undefined || baseline === f ? '' : `  ×${(f.callsPerSecond / baseline.callsPerSecond).toFixed(2)} vs ${describe(baseline)}`;
  return `log-metric: ${describe(f).padEnd(40)} ${fmt(f.callsPerSecond).padStart(7)} calls/s  (${fmt(f.acknowledged)} acknowledged, ${fmt(f.stored)} stored, ${f.tool})${ratio}`;
}

function describe(f: LogMetricFigure): string {
  return `${f.backend} group commit ${f.groupCommit ? 'on ' : 'off'} ${f.clients} client${f.clients === 1 ? '' : 's'}`;
}

export async function runLogMetricBench(log: (line: string) => void = console.log): Promise<LogMetricReport> {
  requireBuild();
  const durationS = seconds('BENCH_DURATION', 5);
  const dir = tempHome('fluxops-bench-wrk-');
  const scriptFile = hasWrk() ? path.join(dir, 'log-metric.lua') : undefined;
  if (scriptFile !== undefined) fs.writeFileSync(scriptFile, WRK_SCRIPT);
  log(`log-metric: ${machine()}`);
  log(`log-metric: POST /api/2.0/mlflow/runs/log-metric, one point per call, ${durationS} s per figure after a warm-up, load from ${scriptFile !== undefined ? 'wrk (one thread)' : 'autocannon in a child process (wrk not installed)'}`);
  const figures: LogMetricFigure[] = [];
  const find = (b: Backend, gc: boolean, c: number): LogMetricFigure | undefined => figures.find((f) => f.backend === b && f.groupCommit === gc && f.clients === c);
  try {
    for (const groupCommit of [false, true]) {
      for (const clients of CLIENT_COUNTS) {
        figures.push(await figure('sqlite', groupCommit, clients, undefined, durationS, scriptFile));
        const f = figures.at(-1)!;
        log(line(f, groupCommit ? find('sqlite', false, clients) : find('sqlite', false, 1)));
      }
    }
    const pgUrl = process.env.FLUXOPS_BENCH_PG_URL;
    let postgres = 'skipped (set FLUXOPS_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres to include it)';
    if (pgUrl) {
      for (const clients of CLIENT_COUNTS) {
        const db = await freshPostgresDatabase(pgUrl, 'fluxops_bench_log_metric');
        try {
          // Group commit is SQLite's; on Postgres each call commits on its own pooled connection.
          figures.push(await figure('postgres', false, clients, db.url, durationS, scriptFile));
        } finally {
          await db.drop();
        }
        log(line(figures.at(-1)!, find('postgres', false, 1)));
      }
      postgres = `measured on fresh databases via ${pgUrl.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}`;
    } else {
      log(`log-metric: postgres ${postgres}`);
    }
    const on8 = find('sqlite', true, 8);
    if (on8 !== undefined) log(`log-metric: sqlite 8 clients with group commit ${fmt(on8.callsPerSecond)} calls/s (target ≥ ${fmt(LOG_METRIC_TARGET)}): ${on8.callsPerSecond >= LOG_METRIC_TARGET ? 'PASS' : 'BELOW TARGET'}`);
    return { machine: machine(), figures, postgres };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  runLogMetricBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
