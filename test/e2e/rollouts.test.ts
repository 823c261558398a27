/**
 * Rollouts under load: a separate load-generator process predicts through an endpoint without
 * pause while a canary 10 → 50 → 100 completes, then while a rollout of a model that always
 * predicts the majority class is rolled back by the prediction-distribution gate. Zero requests
 * may fail throughout. Then the operators' moves: pause, promote (an approver's), abort.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputRows, seedMajorityClassModel, startLoad } from '../helpers/load.js';
import { seedModel, startTestServer, type TestServer } from '../helpers/server.js';

describe('rollouts under load', () => {
  let s: TestServer;
  let dev = '';
  let approver = '';
  let scorer = '';
  let rows: Array<Record<string, number>> = [];

  beforeAll(async () => {
    s = await startTestServer({ seed: true, auth: 'required' });
    await seedModel(s.platform, { seed: 11, rows: 1500, aliases: [] });
    // diabetes/3 always predicts the majority class (0).
    await seedMajorityClassModel(s.platform);
    dev = (await s.platform.keys.create('deployer', { role: 'developer' })).key;
    approver = (await s.platform.keys.create('release-manager', { role: 'approver' })).key;
    scorer = (await s.platform.keys.create('scorer', { role: 'predict' })).key;
    rows = await inputRows(s.platform, 400, 99);
    await api('POST', '/api/v1/endpoints', dev, { name: 'prod' });
    await api('PUT', '/api/v1/endpoints/prod/deployments/blue', dev, { model: 'diabetes/1' });
    await api('PUT', '/api/v1/endpoints/prod/deployments/green', dev, { model: 'diabetes/2' });
  }, 120_000);
  afterAll(async () => s?.close());

  async function api(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> & { message?: string } }> {
    const res = await fetch(`${s.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  }

  async function until(id: string, states: string[], timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = (await api('GET', `/api/v1/rollouts/${id}`, dev)).body;
      if (states.includes(r.state as string)) return r;
      if (Date.now() > deadline) throw new Error(`rollout ${id} still ${String(r.state)} at step ${String(r.step)}: ${JSON.stringify(r.results)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  it('a canary 10 → 50 → 100 completes under continuous load, then a bad model is rolled back by the distribution gate, with zero failed requests', async () => {
    const load = startLoad(`${s.url}/api/v1/endpoints/prod/predict`, scorer, rows);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const gates = ['error_rate<0.01', 'p99_ms<250', 'psi<0.2'];
      const started = await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'green', steps: [10, 50, 100], bake: '2s', gates, minRequests: 100, interval: '200ms' });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({ endpoint: 'prod', stable: 'blue', target: 'green', strategy: 'canary', state: 'running' });
      // One rollout at a time per endpoint.
      expect((await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'green' })).status).toBe(400);
      const t0 = Date.now();
      const done = await until(started.body.id as string, ['succeeded', 'rolled_back'], 60_000);
      const canaryS = (Date.now() - t0) / 1000;
      expect(done.state, String(done.reason)).toBe('succeeded');
      const results = done.results as Array<{ weight: number; outcome: string; gates: Array<{ gate: string; value: number; passed: boolean }> }>;
      expect(results.map((r) => [r.weight, r.outcome])).toEqual([
        [10, 'passed'],
        [50, 'passed'],
        [100, 'passed'],
      ]);
      expect(results.slice(0, 2).every((r) => r.gates.every((g) => g.passed))).toBe(true);
      expect((await api('GET', '/api/v1/endpoints/prod', dev)).body.traffic).toEqual({ blue: 0, green: 100 });

      // Now a model that answers 200 but answers wrong.
      await api('PUT', '/api/v1/endpoints/prod/deployments/red', dev, { model: 'diabetes/3' });
      const bad = await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'red', steps: [10, 50, 100], bake: '20s', gates: ['error_rate<0.01', 'psi<0.2'], minRequests: 100, interval: '200ms' });
      expect(bad.status).toBe(201);
      const failed = await until(bad.body.id as string, ['succeeded', 'rolled_back'], 60_000);
      expect(failed.state).toBe('rolled_back');
      expect(failed.reason).toMatch(/^gate psi<0\.2 failed: [\d.]+ over \d+ requests$/);
      expect((await api('GET', '/api/v1/endpoints/prod', dev)).body.traffic).toEqual({ green: 100, red: 0, blue: 0 });
      // It never got past its first step, and was caught well before that step's bake ended.
      const events = await s.platform.events.log.read({ limit: 1000, types: ['rollout.step', 'rollout.rolled_back'] });
      const mine = events.events.filter((e) => (e.payload as { rollout: string }).rollout === bad.body.id);
      expect(mine.map((e) => e.type)).toEqual(['rollout.step', 'rollout.rolled_back']);
      const detectS = (mine[1]!.time - mine[0]!.time) / 1000;
      expect(detectS).toBeLessThan(20);
      const psiValue = (failed.results as Array<{ gates: Array<{ gate: string; value: number }> }>)[0]!.gates.find((g) => g.gate === 'psi<0.2')!.value;
      console.log(`rollouts: canary 10→50→100 completed in ${canaryS.toFixed(1)} s; bad model rolled back ${detectS.toFixed(2)} s after it took traffic (psi ${psiValue.toFixed(3)})`);
    } finally {
      load.child.kill('SIGTERM');
    }
    const summary = await load.done;
    console.log(`rollouts: load generator ${summary.ok} ok, ${summary.failed} failed, by deployment ${JSON.stringify(summary.byDeployment)}`);
    expect(summary.failures).toEqual([]);
    expect(summary.failed).toBe(0);
    expect(summary.byDeployment.red ?? 0).toBeGreaterThan(0);
  }, 180_000);

  it('pause steps wait for an approver; pause, resume and abort are a deployer\'s; abort sends traffic back to stable', async () => {
    const r = await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'blue', steps: [20, 'pause', 100], bake: '100ms', minRequests: 1, interval: '100ms' });
    expect(r.status).toBe(201);
    const id = r.body.id as string;
    const paused = await until(id, ['paused'], 20_000);
    expect(paused.step).toBe(1);
    expect((await api('GET', '/api/v1/endpoints/prod', dev)).body.traffic).toMatchObject({ green: 80, blue: 20 });
    expect((await api('POST', `/api/v1/rollouts/${id}/promote`, dev)).status).toBe(403);
    expect((await api('POST', `/api/v1/rollouts/${id}/resume`, dev)).status).toBe(400);
    const promoted = await api('POST', `/api/v1/rollouts/${id}/promote`, approver);
    expect(promoted.status).toBe(200);
    const finished = await until(id, ['succeeded'], 20_000);
    expect((finished.results as Array<{ outcome: string }>).map((x) => x.outcome)).toEqual(['passed', 'approved', 'passed']);
    expect((await api('GET', '/api/v1/endpoints/prod', dev)).body.traffic).toMatchObject({ blue: 100, green: 0 });
    // Who did what: the approver promoted; the controller moved the steps and completed.
    const evs = (await s.platform.events.log.read({ limit: 1000, types: ['rollout.started', 'rollout.step', 'rollout.paused', 'rollout.promoted', 'rollout.completed'] })).events.filter((e) => (e.payload as { rollout: string }).rollout === id);
    expect(evs.map((e) => [e.type, e.actor])).toEqual([
      ['rollout.started', 'deployer'],
      ['rollout.step', `rollout:${id}`],
      ['rollout.step', `rollout:${id}`],
      ['rollout.paused', `rollout:${id}`],
      ['rollout.promoted', 'release-manager'],
      ['rollout.step', `rollout:${id}`],
      ['rollout.completed', `rollout:${id}`],
    ]);

    const again = await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'green', steps: [50, 100], bake: '1h', minRequests: 1, interval: '100ms' });
    const id2 = again.body.id as string;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && ((await api('GET', '/api/v1/endpoints/prod', dev)).body.traffic as Record<string, number>).green !== 50) await new Promise((x) => setTimeout(x, 50));
    expect((await api('POST', `/api/v1/rollouts/${id2}/pause`, dev)).body.state).toBe('paused');
    expect((await api('POST', `/api/v1/rollouts/${id2}/resume`, dev)).body.state).toBe('running');
    const aborted = await api('POST', `/api/v1/rollouts/${id2}/abort`, dev);
    expect(aborted.body).toMatchObject({ state: 'aborted', reason: 'aborted by deployer' });
    expect((await api('GET', '/api/v1/endpoints/prod', dev)).body.traffic).toMatchObject({ blue: 100, green: 0 });
    expect((await api('POST', `/api/v1/rollouts/${id2}/promote`, approver)).status).toBe(400);
    // Rollbacks by what failed, from the store: the psi gate once, an operator once.
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${dev}` } })).text();
    expect(metrics).toContain('fluxops_rollout_rollbacks_total{endpoint="prod",gate="psi"} 1');
    expect(metrics).toContain('fluxops_rollout_rollbacks_total{endpoint="prod",gate="operator"} 1');
    // Staging → production: what the staging endpoint serves (an alias there) is deployed here as a fixed version and rolled out.
    await api('POST', '/api/v1/endpoints', dev, { name: 'staging', environment: 'staging' });
    await api('PUT', '/api/v1/endpoints/staging/deployments/main', dev, { model: 'diabetes@production' });
    const fromStaging = await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { from: 'staging', to: 'candidate', steps: [100], interval: '100ms' });
    expect(fromStaging.status).toBe(201);
    await until(fromStaging.body.id as string, ['succeeded'], 20_000);
    const prod = (await api('GET', '/api/v1/endpoints/prod', dev)).body as { traffic: Record<string, number>; deployments: Array<{ name: string; model: string }> };
    expect(prod.deployments.find((d) => d.name === 'candidate')?.model).toBe('diabetes/1');
    expect(prod.traffic.candidate).toBe(100);
    expect((await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { from: 'prod', to: 'x' })).body.message).toContain('another endpoint');

    // Bad declarations are refused naming the field.
    const bad = await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'green', steps: [50, 20, 100] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('steps must increase');
    expect((await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'purple' })).body.message).toContain('to must name a deployment');
    expect((await api('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'green', gates: ['latency<5'] })).body.message).toContain("unknown gate metric 'latency'");
  }, 60_000);
});
