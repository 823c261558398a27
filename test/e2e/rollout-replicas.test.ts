/**
 * A rollout's gates count every replica's traffic: two `fluxops server` processes on one Postgres,
 * the load sent only to the replica that does NOT hold the rollout's lease. The lease holder sees
 * no request itself, yet a good canary completes with conclusive gates, and a model that always
 * predicts the majority class is rolled back by the distribution gate within seconds (without
 * the other replicas' windows it could only give up as inconclusive after three bakes).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openPlatform } from '../../src/platform.js';
import { postgresBackend } from '../helpers/backends.js';
import { assertBuilt, startCli, stop } from '../helpers/cli.js';
import { inputRows, seedMajorityClassModel, startLoad } from '../helpers/load.js';
import { freshHome, seedModel } from '../helpers/server.js';

const pgUrl = inject('pgUrl');

describe.skipIf(!pgUrl)('rollout gates over two replicas on one Postgres', () => {
  const home = freshHome('fluxops-rollout-replicas-');
  let env: Record<string, string> = {};
  let dev = '';
  let scorer = '';
  let rows: Array<Record<string, number>> = [];
  const servers: Array<{ url: string; pid: number; child: Parameters<typeof stop>[0] }> = [];

  beforeAll(async () => {
    assertBuilt();
    const databaseUrl = await postgresBackend(pgUrl).freshDatabaseUrl();
    env = { FLUXOPS_DATABASE_URL: databaseUrl, FLUXOPS_ARTIFACT_ROOT: `${home}/artifacts` };
    const p = await openPlatform({ home, databaseUrl, artifactRoot: `${home}/artifacts` });
    try {
      await seedModel(p, { aliases: [] }); // diabetes/1
      await seedModel(p, { seed: 11, rows: 1500, aliases: [] }); // diabetes/2
      await seedMajorityClassModel(p); // diabetes/3
      rows = await inputRows(p, 400, 99);
      await p.endpoints.createEndpoint({ name: 'prod' });
      await p.endpoints.deploy('prod', { name: 'blue', model: 'diabetes/1' });
      await p.endpoints.deploy('prod', { name: 'green', model: 'diabetes/2' });
      await p.endpoints.deploy('prod', { name: 'red', model: 'diabetes/3' });
      dev = (await p.keys.create('deployer', { role: 'developer' })).key;
      scorer = (await p.keys.create('scorer', { role: 'predict' })).key;
    } finally {
      await p.close();
    }
    for (let i = 0; i < 2; i++) {
      const s = await startCli(['--home', home, 'server', '--port', '0'], /listening on (http:\/\/\S+)/, { env });
      servers.push({ url: s.match[1]!, pid: s.child.pid!, child: s.child });
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await stop(s.child);
    fs.rmSync(home, { recursive: true, force: true });
  });

  const api = async (url: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${dev}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Starts a rollout and waits until a server holds its lease: [holder, other]. */
  async function startRollout(spec: Record<string, unknown>): Promise<{ id: string; holder: (typeof servers)[number]; other: (typeof servers)[number] }> {
    const started = await api(servers[0]!.url, 'POST', '/api/v1/endpoints/prod/rollouts', spec);
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id as string;
    const p = await openPlatform({ home, databaseUrl: env.FLUXOPS_DATABASE_URL, artifactRoot: env.FLUXOPS_ARTIFACT_ROOT });
    try {
      for (let i = 0; i < 200; i++) {
        const row = await p.db.db.selectFrom('rollouts').select(['owner', 'step_started_at']).where('id', '=', id).executeTakeFirst();
        const pid = Number(row?.owner?.split(':')[1]);
        const holder = servers.find((s) => s.pid === pid);
        if (holder !== undefined && Number(row!.step_started_at) > 0) return { id, holder, other: servers.find((s) => s !== holder)! };
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await p.close();
    }
    throw new Error(`no server took rollout ${id}`);
  }

  async function until(id: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = (await api(servers[0]!.url, 'GET', `/api/v1/rollouts/${id}`)).body;
      if (r.state !== 'running') return r;
      if (Date.now() > deadline) throw new Error(`rollout ${id} still running: ${JSON.stringify(r.results)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  it('completes a good canary and rolls a bad one back by psi, on traffic only the other replica served', async () => {
    const gates = ['error_rate<0.01', 'p99_ms<250', 'psi<0.2'];
    const good = await startRollout({ to: 'green', steps: [10, 50, 100], bake: '1500ms', gates, minRequests: 100, interval: '200ms' });
    let load = startLoad(`${good.other.url}/api/v1/endpoints/prod/predict`, scorer, rows);
    let summary;
    try {
      const done = await until(good.id, 60_000);
      expect(done.state, String(done.reason)).toBe('succeeded');
      const results = done.results as Array<{ weight: number; outcome: string; gates: Array<{ gate: string; requests: number; conclusive: boolean }> }>;
      expect(results.map((r) => [r.weight, r.outcome])).toEqual([
        [10, 'passed'],
        [50, 'passed'],
        [100, 'passed'],
      ]);
      // Judged on the other replica's requests: the holder served none.
      for (const r of results.slice(0, 2)) for (const g of r.gates) expect(g.conclusive && g.requests >= 100, JSON.stringify(g)).toBe(true);
    } finally {
      load.child.kill('SIGTERM');
      summary = await load.done;
    }
    expect(summary.failed).toBe(0);

    const bad = await startRollout({ to: 'red', steps: [10, 50, 100], bake: '20s', gates: ['error_rate<0.01', 'psi<0.2'], minRequests: 100, interval: '200ms' });
    const t0 = Date.now();
    load = startLoad(`${bad.other.url}/api/v1/endpoints/prod/predict`, scorer, rows);
    try {
      const failed = await until(bad.id, 60_000);
      const s = (Date.now() - t0) / 1000;
      expect(failed.state).toBe('rolled_back');
      expect(failed.reason).toMatch(/^gate psi<0\.2 failed: [\d.]+ over \d+ requests$/);
      // Well inside the first step's bake, and long before an inconclusive give-up (3 bakes).
      expect(s).toBeLessThan(20);
      console.log(`rollout-replicas: lease on pid ${bad.holder.pid}, load on pid ${bad.other.pid}; bad model rolled back by psi ${s.toFixed(2)} s after the step began (${String(failed.reason)})`);
    } finally {
      load.child.kill('SIGTERM');
      summary = await load.done;
    }
    expect(summary.failed).toBe(0);
    expect((await api(servers[1]!.url, 'GET', '/api/v1/endpoints/prod')).body.traffic).toEqual({ blue: 0, green: 100, red: 0 });
  }, 180_000);
});
