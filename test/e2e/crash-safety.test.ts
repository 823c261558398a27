/**
 * Crash safety: the real CLI server as a child process, a burst of concurrent metric writes, and
 * `kill -9` in the middle of it. Every write the server acknowledged must be in the store after
 * the crash, the SQLite file must pass its integrity check, and the server must start again on
 * the same home and serve.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform } from '../../src/platform.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'fluxops.js');
const BUILT_CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
/** Acknowledged requests after which the server is killed; the burst keeps going until then. */
const KILL_AFTER_ACKS = 300;
const IN_FLIGHT = 8;
const KEYS = ['loss', 'accuracy', 'val/loss', 'val/accuracy', 'lr'];

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Starts `fluxops server --port 0` and resolves with the URL it prints once listening. */
async function startServer(home: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env, FLUXOPS_LOG_LEVEL: 'warn' };
  // The child must use exactly this home, whatever the calling shell points FluxOps at.
  for (const k of ['FLUXOPS_HOME', 'FLUXOPS_DATABASE_URL', 'FLUXOPS_ARTIFACT_ROOT', 'FLUXOPS_URL', 'FLUXOPS_MODEL', 'FLUXOPS_GROUP_COMMIT']) delete env[k];
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, [BIN, '--home', home, 'server', '--port', '0'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not report its address within 30 s\nstdout: ${out}\nstderr: ${err}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /FluxOps listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}, signal ${signal}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(url).not.toMatch(/:0$/);
  return { child, url, exited, stderr: () => err };
}

interface Point {
  key: string;
  step: number;
  value: number;
}

interface BurstResult {
  runId: string;
  acked: Point[];
  sent: Point[];
  inFlightAtKill: number;
  signal: NodeJS.Signals | null;
}

/**
 * Creates a run, then keeps IN_FLIGHT requests going until KILL_AFTER_ACKS were acknowledged, and
 * kills the server with SIGKILL while the rest are still in flight. `mixed`: single metrics and
 * batches of up to 50 points on the native API; `log-metric`: MLflow's single-call
 * `runs/log-metric` only, the writes group commit gathers. Each point is a unique key/step.
 */
async function burstAndKill(server: Server, round: number, mode: 'mixed' | 'log-metric' = 'mixed'): Promise<BurstResult> {
  const pool = new Pool(server.url, { connections: IN_FLIGHT, pipelining: 1 });
  try {
    const created = await pool.request({
      method: 'POST',
      path: '/api/v1/runs',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ experimentId: '0', runName: `crash-round-${round}` }),
    });
    expect(created.statusCode).toBe(201);
    const runId = ((await created.body.json()) as { info: { runId: string } }).info.runId;

    const acked: Point[] = [];
    const sent: Point[] = [];
    let ackedRequests = 0;
    let inFlight = 0;
    let inFlightAtKill = -1;
    let killed = false;
    let n = 0;
    const take = (count: number): Point[] =>
      Array.from({ length: count }, () => {
        const i = n++;
        return { key: KEYS[i % KEYS.length]!, step: Math.floor(i / KEYS.length), value: round * 1e6 + i + 0.25 };
      });

    const worker = async (w: number): Promise<void> => {
      for (let iter = 0; !killed; iter++) {
        const single = mode === 'log-metric' || (w + iter) % 3 === 0;
        const points = take(single ? 1 : 1 + ((w * 7 + iter * 13) % 50));
        sent.push(...points);
        const body =
          mode === 'log-metric'
            ? JSON.stringify({ run_id: runId, ...points[0], timestamp: 1_700_000_000_000 + points[0]!.step })
            : single
              ? JSON.stringify({ ...points[0], timestamp: 1_700_000_000_000 + points[0]!.step })
              : JSON.stringify({ metrics: points.map((p) => ({ ...p, timestamp: 1_700_000_000_000 + p.step })) });
        inFlight++;
        try {
          const res = await pool.request({
            method: 'POST',
            path: mode === 'log-metric' ? '/api/2.0/mlflow/runs/log-metric' : `/api/v1/runs/${runId}/${single ? 'metrics' : 'batch'}`,
            headers: { 'content-type': 'application/json' },
            body,
          });
          await res.body.dump();
          if (res.statusCode >= 200 && res.statusCode < 300) {
            acked.push(...points);
            ackedRequests++;
            if (ackedRequests >= KILL_AFTER_ACKS && !killed) {
              killed = true;
              inFlightAtKill = inFlight - 1;
              server.child.kill('SIGKILL');
            }
          } else if (!killed) {
            throw new Error(`write refused with ${res.statusCode} before the crash`);
          }
        } catch (e) {
          if (!killed) throw e;
          // a request cut off by the crash: not acknowledged, so it may or may not be stored
        } finally {
          inFlight--;
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
    const { signal } = await server.exited;
    return { runId, acked, sent, inFlightAtKill, signal };
  } finally {
    await pool.destroy();
  }
}

/** Opens the store directly and checks that every acknowledged point survived the crash. */
async function verifyStore(home: string, rounds: BurstResult[]): Promise<void> {
  const current = rounds.length;
  const platform = await openPlatform({ home });
  try {
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(platform.db.db);
    expect(integrity.rows.map((r) => r.integrity_check)).toEqual(['ok']);
    for (const [i, r] of rounds.entries()) {
      const sentByKeyStep = new Map(r.sent.map((p) => [`${p.key}@${p.step}`, p.value]));
      const stored = new Map<string, number>();
      for (const key of KEYS) {
        const history = await platform.tracking.getMetricHistory(r.runId, key, { maxResults: 25_000 });
        expect(history.nextPageToken).toBeUndefined();
        for (const m of history.items) stored.set(`${m.key}@${m.step}`, m.value);
      }
      const missing = r.acked.filter((p) => stored.get(`${p.key}@${p.step}`) !== p.value);
      expect(missing.slice(0, 10), `${missing.length} of ${r.acked.length} acknowledged points are missing or changed`).toEqual([]);
      // Nothing appeared that was never sent, and nothing was stored twice.
      for (const [ks, v] of stored) expect(sentByKeyStep.get(ks), `stored point ${ks} was never sent`).toBe(v);
      const rows = await sql<{ n: number }>`select count(*) as n from metrics where run_uuid = ${r.runId}`.execute(platform.db.db);
      expect(Number(rows.rows[0]!.n)).toBe(stored.size);
      expect(stored.size).toBeGreaterThanOrEqual(r.acked.length);
      expect(stored.size).toBeLessThanOrEqual(r.sent.length);
      console.log(
        `after crash ${current}, run of round ${i + 1}: ${r.acked.length} acknowledged points, ${stored.size} stored, ${r.sent.length} sent, ${r.inFlightAtKill} requests in flight at the kill`,
      );
    }
  } finally {
    await platform.close();
  }
}

/** Starts the server again on the same home and checks that it serves reads and writes. */
async function verifyRestart(home: string, rounds: BurstResult[]): Promise<Server> {
  const server = await startServer(home);
  const pool = new Pool(server.url);
  try {
    const health = await pool.request({ method: 'GET', path: '/api/health' });
    expect(health.statusCode).toBe(200);
    expect(((await health.body.json()) as { store: { ok: boolean } }).store.ok).toBe(true);
    for (const r of rounds) {
      const run = await pool.request({ method: 'GET', path: `/api/v1/runs/${r.runId}` });
      expect(run.statusCode).toBe(200);
      await run.body.dump();
    }
    const last = rounds.at(-1)!;
    const write = await pool.request({
      method: 'POST',
      path: `/api/v1/runs/${last.runId}/metrics`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'after-restart', value: 1, step: 0 }),
    });
    expect(write.statusCode).toBe(200);
    await write.body.dump();
  } finally {
    await pool.close();
  }
  return server;
}

async function stop(server: Server | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}

describe('crash safety of the CLI server', () => {
  let home: string;
  let server: Server | undefined;

  beforeAll(() => {
    if (!fs.existsSync(BUILT_CLI)) {
      throw new Error(`${path.relative(ROOT, BUILT_CLI)} is missing: build first (npx tsc -p tsconfig.build.json); this test runs the real CLI from dist/`);
    }
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-crash-'));
  });

  afterAll(async () => {
    await stop(server);
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('keeps every acknowledged metric across kill -9 mid-burst, twice, and starts again', async () => {
    const rounds: BurstResult[] = [];
    for (let round = 1; round <= 2; round++) {
      server = await startServer(home);
      const result = await burstAndKill(server, round);
      expect(result.signal).toBe('SIGKILL');
      expect(result.acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
      // The kill landed mid-burst: other writes were still waiting for their answer.
      expect(result.inFlightAtKill).toBeGreaterThan(0);
      rounds.push(result);
      await verifyStore(home, rounds);
    }
    server = await verifyRestart(home, rounds);
    await stop(server);
  }, 180_000);

  it('keeps every acknowledged single-call MLflow log-metric across kill -9 with group commit on', async () => {
    // A home of its own: this case checks its own rounds only.
    const gcHome = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-crash-gc-'));
    try {
      const rounds: BurstResult[] = [];
      for (let round = 1; round <= 2; round++) {
        server = await startServer(gcHome, { FLUXOPS_GROUP_COMMIT: 'on' });
        const result = await burstAndKill(server, round, 'log-metric');
        expect(result.signal).toBe('SIGKILL');
        expect(result.acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
        expect(result.inFlightAtKill).toBeGreaterThan(0);
        rounds.push(result);
        await verifyStore(gcHome, rounds);
      }
      server = await verifyRestart(gcHome, rounds);
      await stop(server);
    } finally {
      fs.rmSync(gcHome, { recursive: true, force: true });
    }
  }, 180_000);
});
