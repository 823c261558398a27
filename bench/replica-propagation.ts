/**
 * Replica propagation: two `fluxops server` processes on one Postgres database and one artifact
 * folder, both serving diabetes@production. The alias is moved N times through A; each time the
 * clock runs from the PUT on A until B's /api/model-info reports the new version (B is polled
 * every 2 ms; B's long poll on /api/v1/events times the event's arrival itself). Measured twice in one run: with events (outbox + LISTEN/NOTIFY, alias
 * poll set to 60 s so it cannot help) and, as the baseline, with LISTEN and the outbox poll off,
 * so only the 2 s alias poll moves B (how every replica but the writer followed an alias before),
 * with each move at a random phase of that poll.
 * Needs FLUXOPS_BENCH_PG_URL (an admin connection; a fresh database is created and dropped).
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openPlatform } from '../src/platform.js';
import { generateDiabetesCsv } from '../src/training/index.js';
import { trainAndTrack } from '../src/workflows/index.js';
import { fmt, freshPostgresDatabase, isMain, machine, requireBuild, startFluxServer, tempHome, type Child } from './support.js';

/** What "within 100 ms" in the issue asks of the event path. */
export const PROPAGATION_TARGET_MS = 100;

export interface PropagationFigure {
  mode: 'events' | 'poll-only';
  moves: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** From the PUT on A to B's long poll on /api/v1/events returning the event (events mode only). */
  eventMedianMs?: number | undefined;
  eventP95Ms?: number | undefined;
}

export interface PropagationReport {
  events?: PropagationFigure | undefined;
  baseline?: PropagationFigure | undefined;
  /** Baseline median over events median. */
  ratio?: number | undefined;
  pass?: boolean | undefined;
  postgres: string;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function versionOn(url: string): Promise<string> {
  const res = await fetch(`${url}/api/model-info`);
  return ((await res.json()) as { version: string }).version;
}

/**
 * `jitterMs`: a random pause before each move. Without it the poll-only baseline moves in phase
 * with B's poll (each move follows a swap, which follows a poll) and always measures its worst case.
 */
async function measure(a: Child, b: Child, moves: number, mode: PropagationFigure['mode'], jitterMs = 0): Promise<PropagationFigure> {
  const times: number[] = [];
  const eventTimes: number[] = [];
  let current = await versionOn(b.url);
  let cursor = ((await (await fetch(`${b.url}/api/v1/events?limit=1000&after=0`)).json()) as { next_after: number }).next_after;
  for (let i = 0; i < moves; i++) {
    if (jitterMs > 0) await new Promise((r) => setTimeout(r, Math.random() * jitterMs));
    const target = current === '1' ? '2' : '1';
    // B's own view of the event: a long poll waiting on B before the move is made on A.
    let eventAt: number | undefined;
    const longPoll =
      mode === 'events'
        ? fetch(`${b.url}/api/v1/events?after=${cursor}&type=model.alias.changed&wait_ms=30000`)
            .then((r) => r.json() as Promise<{ next_after: number }>)
            .then((page) => {
              eventAt = performance.now();
              cursor = page.next_after;
            })
        : undefined;
    await new Promise((r) => setTimeout(r, 5)); // let the long poll reach B first
    const t0 = performance.now();
    const res = await fetch(`${a.url}/api/v1/models/diabetes/aliases/production`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: target }),
    });
    if (!res.ok) throw new Error(`moving the alias failed: ${res.status} ${await res.text()}`);
    const deadline = t0 + 30_000;
    while ((await versionOn(b.url)) !== target) {
      if (performance.now() > deadline) throw new Error(`B did not follow the alias to v${target} within 30 s (${mode})`);
      // 2 ms: tight enough to resolve the swap, loose enough not to starve B of CPU on a small machine.
      await new Promise((r) => setTimeout(r, 2));
    }
    times.push(performance.now() - t0);
    if (longPoll !== undefined) {
      await longPoll;
      eventTimes.push(eventAt! - t0);
    }
    current = target;
  }
  const sorted = [...times].sort((x, y) => x - y);
  const ev = [...eventTimes].sort((x, y) => x - y);
  return {
    mode,
    moves,
    medianMs: quantile(sorted, 0.5),
    p95Ms: quantile(sorted, 0.95),
    maxMs: sorted.at(-1)!,
    ...(ev.length > 0 ? { eventMedianMs: quantile(ev, 0.5), eventP95Ms: quantile(ev, 0.95) } : {}),
  };
}

async function withServers<T>(databaseUrl: string, artifactRoot: string, env: NodeJS.ProcessEnv, aliasPollMs: number, body: (a: Child, b: Child) => Promise<T>): Promise<T> {
  const homes = [tempHome('fluxops-bench-replica-a-'), tempHome('fluxops-bench-replica-b-')];
  const servers: Child[] = [];
  try {
    for (const home of homes) {
      servers.push(
        await startFluxServer(home, ['--model', 'diabetes@production', '--alias-poll-ms', String(aliasPollMs)], {
          FLUXOPS_DATABASE_URL: databaseUrl,
          FLUXOPS_ARTIFACT_ROOT: artifactRoot,
          ...env,
        }),
      );
    }
    return await body(servers[0]!, servers[1]!);
  } finally {
    for (const s of servers) await s.stop();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  }
}

function line(f: PropagationFigure): string {
  const event = f.eventMedianMs !== undefined ? `; event seen on B (long poll): median ${fmt(f.eventMedianMs, 1)} ms, p95 ${fmt(f.eventP95Ms!, 1)} ms` : '';
  return `replica: ${f.mode.padEnd(9)} ${f.moves} alias moves on A → swap on B: median ${fmt(f.medianMs, 1)} ms, p95 ${fmt(f.p95Ms, 1)} ms, max ${fmt(f.maxMs, 1)} ms${event}`;
}

export async function runReplicaBench(log: (line: string) => void = console.log): Promise<PropagationReport> {
  requireBuild();
  const adminUrl = process.env.FLUXOPS_BENCH_PG_URL;
  if (!adminUrl) {
    const postgres = 'skipped (set FLUXOPS_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres to run it)';
    log(`replica: ${postgres}`);
    return { postgres };
  }
  const moves = Number(process.env.FLUXOPS_BENCH_REPLICA_MOVES ?? 50);
  const baselineMoves = Number(process.env.FLUXOPS_BENCH_REPLICA_BASELINE_MOVES ?? 20);
  log(`replica: ${machine()}`);
  const db = await freshPostgresDatabase(adminUrl, 'fluxops_bench_replica');
  const root = tempHome('fluxops-bench-replica-');
  const artifactRoot = path.join(root, 'artifacts');
  try {
    const seed = await openPlatform({ home: root, databaseUrl: db.url, artifactRoot });
    try {
      for (const [s, aliases] of [[7, ['production']], [99, []]] as const) {
        await trainAndTrack(seed.tracking, seed.registry, { csvText: generateDiabetesCsv(1500, s), dataSource: 'generated:diabetes', target: 'Diabetic', register: 'diabetes', aliases: [...aliases] });
      }
    } finally {
      await seed.close();
    }
    const events = await withServers(db.url, artifactRoot, { FLUXOPS_EVENTS_POLL_MS: '60000' }, 60_000, (a, b) => measure(a, b, moves, 'events'));
    log(line(events));
    const baseline = await withServers(db.url, artifactRoot, { FLUXOPS_EVENTS_LISTEN: 'off', FLUXOPS_EVENTS_POLL_MS: '0' }, 2000, (a, b) => measure(a, b, baselineMoves, 'poll-only', 2000));
    log(line(baseline));
    const ratio = baseline.medianMs / events.medianMs;
    const pass = events.p95Ms <= PROPAGATION_TARGET_MS;
    log(`replica: events are ${ratio.toFixed(1)}× faster than the 2 s poll (median); p95 ${fmt(events.p95Ms, 1)} ms vs target ≤ ${PROPAGATION_TARGET_MS} ms: ${pass ? 'PASS' : 'ABOVE TARGET'}`);
    return { events, baseline, ratio, pass, postgres: `measured on a fresh database via ${adminUrl.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}` };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    await db.drop();
  }
}

if (isMain(import.meta.url)) {
  runReplicaBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
