/**
 * The team shape: three real `fluxops server` processes, each with its own --home, on one Postgres
 * database and one S3-compatible bucket (s3rver), with auth required. They are driven at once with
 * metric and param logging, registrations and alias moves; the stored result must equal what the
 * same calls made one at a time would give, with no 5xx. Then one server is killed with SIGKILL
 * in the middle of a load, and every write that had been acknowledged must be there.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresBackend, tmpDir } from '../helpers/backends.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { emulatorOrSkip, startS3rver } from '../helpers/emulators.js';

const pgUrl = inject('pgUrl');
const s3 = pgUrl ? await emulatorOrSkip(startS3rver, 's3rver') : undefined;
const WORKERS = 12;

type Json = Record<string, unknown>;

describe.skipIf(!pgUrl || s3 === undefined)(
  pgUrl ? 'three servers on one Postgres database and one S3 bucket' : 'three servers — SKIPPED: Postgres not reachable',
  () => {
    const servers: Array<{ child: ChildProcess; url: string }> = [];
    let key: string;
    let sourceRun: string;
    let env: Record<string, string>;
    const statuses = new Map<number, number>();

    beforeAll(async () => {
      assertBuilt();
      const databaseUrl = await postgresBackend(pgUrl).freshDatabaseUrl();
      env = { ...(s3!.env as Record<string, string>), FLUXOPS_DATABASE_URL: databaseUrl, FLUXOPS_ARTIFACT_ROOT: `s3://${s3!.bucket}/cluster-${randomBytes(6).toString('hex')}` };
      const seedHome = tmpDir('fluxops-cluster-seed-');
      const seeded = await runCli(['quickstart', '--no-serve', '--rows', '300', '--home', seedHome], { env, timeoutMs: 120_000 });
      expect(seeded.code, seeded.stderr).toBe(0);
      sourceRun = /trained run ([0-9a-f]{32})/.exec(seeded.stdout)![1]!;
      const made = await runCli(['keys', 'create', 'load', '--role', 'developer', '--home', seedHome, '--json'], { env });
      key = (JSON.parse(made.stdout) as { key: string }).key;
      for (const name of ['a', 'b', 'c']) {
        const s = await startCli(['--home', tmpDir(`fluxops-cluster-${name}-`), 'server', '--port', '0', '--auth', 'required'], /listening on (http:\/\/\S+)/, { env });
        servers.push({ child: s.child, url: s.match[1]! });
      }
      console.log(`cluster: 3 servers on postgres (${databaseUrl.split('?')[0]!.split('/').pop()}) and ${env.FLUXOPS_ARTIFACT_ROOT} (${s3!.label})`);
    }, 180_000);

    afterAll(async () => {
      for (const s of servers) await stop(s.child);
    });

    /** An MLflow call through server `i`; throws on a refused connection (not acknowledged). */
    async function call(i: number, method: string, path: string, body?: Json): Promise<{ status: number; json: Json }> {
      const res = await fetch(`${servers[i]!.url}/api/2.0/mlflow/${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      return { status: res.status, json: text ? (JSON.parse(text) as Json) : {} };
    }
    const ok = async (i: number, method: string, path: string, body?: Json): Promise<Json> => {
      const r = await call(i, method, path, body);
      expect(r.status, `${method} ${path} on server ${i}: ${JSON.stringify(r.json)}`).toBe(200);
      return r.json;
    };
    const history = async (runId: string, metric: string) =>
      ((await ok(0, 'GET', `metrics/get-history?run_id=${runId}&metric_key=${metric}&max_results=25000`)).metrics as Array<{ step: number; value: number }> | undefined) ?? [];

    it('concurrent logging, registrations and alias moves through all three equal the serial result, with no 5xx', async () => {
      const exp = (await ok(0, 'POST', 'experiments/create', { name: `cluster-${Date.now()}` })).experiment_id as string;
      const runId = ((await ok(1, 'POST', 'runs/create', { experiment_id: exp })).run as { info: { run_id: string } }).info.run_id;
      await ok(2, 'POST', 'registered-models/create', { name: 'cluster-model' });
      const STEPS = 25;
      const versions: string[] = [];
      await Promise.all(
        Array.from({ length: WORKERS }, async (_, w) => {
          for (let i = 0; i < STEPS; i++) {
            const via = (w + i) % 3;
            // Every worker writes its own key and one shared key; the shared key's latest is the highest step.
            await ok(via, 'POST', 'runs/log-metric', { run_id: runId, key: `m${w}`, value: i, step: i, timestamp: 1_000 + i });
            await ok((via + 1) % 3, 'POST', 'runs/log-metric', { run_id: runId, key: 'shared', value: w * 1000 + i, step: w * 1000 + i, timestamp: 1 });
            // One param logged again by everyone with the same value is accepted every time.
            if (i % 5 === 0) await ok((via + 2) % 3, 'POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.01' });
          }
          await ok(w % 3, 'POST', 'runs/log-parameter', { run_id: runId, key: `p${w}`, value: String(w) });
          const mv = (await ok((w + 1) % 3, 'POST', 'model-versions/create', { name: 'cluster-model', source: `runs:/${sourceRun}/model`, run_id: sourceRun })).model_version as { version: string };
          versions.push(mv.version);
          await ok((w + 2) % 3, 'POST', 'registered-models/alias', { name: 'cluster-model', alias: 'staging', version: mv.version });
        }),
      );

      // A different value for a logged param is refused with MLflow's code, never a 500.
      const clash = await call(1, 'POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.5' });
      expect(clash.status).toBe(400);
      expect(clash.json.error_code).toBe('INVALID_PARAMETER_VALUE');
      // A name created twice at once: one wins, the other is told it exists.
      const dupes = await Promise.all([0, 1, 2].map((i) => call(i, 'POST', 'registered-models/create', { name: 'raced' })));
      expect(dupes.map((d) => d.status).sort()).toEqual([200, 400, 400]);
      expect(dupes.filter((d) => d.status === 400).map((d) => d.json.error_code)).toEqual(['RESOURCE_ALREADY_EXISTS', 'RESOURCE_ALREADY_EXISTS']);

      const run = ((await ok(2, 'GET', `runs/get?run_id=${runId}`)).run as { data: { metrics: Array<{ key: string; value: number; step: number }>; params: Array<{ key: string; value: string }> } }).data;
      const latest = Object.fromEntries(run.metrics.map((m) => [m.key, m]));
      for (let w = 0; w < WORKERS; w++) {
        expect(latest[`m${w}`]).toMatchObject({ value: STEPS - 1, step: STEPS - 1 });
        expect((await history(runId, `m${w}`)).map((m) => m.step).sort((a, b) => a - b)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
      }
      expect(latest.shared).toMatchObject({ step: (WORKERS - 1) * 1000 + STEPS - 1 });
      expect(await history(runId, 'shared')).toHaveLength(WORKERS * STEPS);
      const params = Object.fromEntries(run.params.map((p) => [p.key, p.value]));
      expect(params).toEqual({ lr: '0.01', ...Object.fromEntries(Array.from({ length: WORKERS }, (_, w) => [`p${w}`, String(w)])) });
      // Version numbers 1..N, none lost or repeated; the alias points at one of them, the same on every server.
      expect(versions.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: WORKERS }, (_, i) => i + 1));
      const aliasOn = await Promise.all([0, 1, 2].map(async (i) => ((await ok(i, 'GET', 'registered-models/alias?name=cluster-model&alias=staging')).model_version as { version: string }).version));
      expect(new Set(aliasOn).size).toBe(1);
      expect(versions).toContain(aliasOn[0]);
      // Every version's files are in the bucket: each server can read the model another registered.
      const files = await fetch(`${servers[2]!.url}/model-versions/get-artifact?name=cluster-model&version=1&path=fluxops-model.json`, { headers: { authorization: `Bearer ${key}` } });
      expect(files.status).toBe(200);
      const fiveXX = [...statuses].filter(([s]) => s >= 500);
      console.log(`cluster: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}`);
      expect(fiveXX).toEqual([]);
    }, 180_000);

    it('loses no acknowledged write when one server is killed with SIGKILL mid-load', async () => {
      const exp = (await ok(0, 'POST', 'experiments/create', { name: `cluster-kill-${Date.now()}` })).experiment_id as string;
      const runId = ((await ok(0, 'POST', 'runs/create', { experiment_id: exp })).run as { info: { run_id: string } }).info.run_id;
      const acked = new Map<string, Set<number>>();
      let refused = 0;
      let killed = false;
      const victim = servers[2]!;
      const before = new Map(statuses);
      setTimeout(() => {
        victim.child.kill('SIGKILL');
        killed = true;
      }, 300);
      await Promise.all(
        Array.from({ length: WORKERS }, async (_, w) => {
          const metric = `k${w}`;
          acked.set(metric, new Set());
          // Each worker keeps using the victim until a call to it fails, as a client behind a
          // load balancer would before its health check notices.
          let victimDown = false;
          for (let i = 0; i < 250; i++) {
            const via = victimDown ? i % 2 : i % 3;
            try {
              const r = await call(via, 'POST', 'runs/log-metric', { run_id: runId, key: metric, value: i, step: i, timestamp: 1 });
              if (r.status === 200) acked.get(metric)!.add(i);
              else expect(r.status, JSON.stringify(r.json)).toBeLessThan(500);
            } catch {
              refused++; // the killed server's connection: never acknowledged
              victimDown = true;
            }
          }
        }),
      );
      expect(killed).toBe(true);
      // The kill landed while calls to the victim were in flight.
      expect(refused).toBeGreaterThan(0);
      let total = 0;
      for (const [metric, steps] of acked) {
        const stored = new Set((await history(runId, metric)).map((m) => m.step));
        for (const s of steps) expect(stored.has(s), `${metric} step ${s} was acknowledged`).toBe(true);
        total += steps.size;
      }
      const fiveXX = [...statuses].filter(([s, n]) => s >= 500 && n > (before.get(s) ?? 0));
      console.log(`cluster kill -9: ${total} acknowledged points all stored, ${refused} calls refused by the killed server`);
      expect(fiveXX).toEqual([]);
      servers.pop();
    }, 180_000);
  },
);
