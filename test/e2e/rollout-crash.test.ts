/**
 * `kill -9` of the server in the middle of a rollout step: the stored rollout and traffic split
 * stay consistent, and a server started again on the same home takes the rollout over once the
 * dead one's lease expires, and completes it.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform } from '../../src/platform.js';
import { assertBuilt, startCli } from '../helpers/cli.js';
import { freshHome, seedModel } from '../helpers/server.js';

describe('a rollout survives kill -9 of its server', () => {
  const home = freshHome('fluxops-rollout-crash-');
  let key = '';

  beforeAll(async () => {
    assertBuilt();
    const p = await openPlatform({ home });
    try {
      await seedModel(p, { aliases: [] });
      await seedModel(p, { seed: 11, rows: 900, aliases: [] });
      await p.endpoints.createEndpoint({ name: 'prod' });
      await p.endpoints.deploy('prod', { name: 'blue', model: 'diabetes/1' });
      await p.endpoints.deploy('prod', { name: 'green', model: 'diabetes/2' });
      key = (await p.keys.create('deployer', { role: 'developer' })).key;
    } finally {
      await p.close();
    }
  }, 120_000);
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  const serve = () => startCli(['--home', home, 'server', '--port', '0'], /listening on (http:\/\/[^\s]+)/);
  const api = async (url: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return (await res.json()) as Record<string, unknown>;
  };

  it('resumes from the stored step on restart and completes, the split summing to 100 throughout', async () => {
    const a = await serve();
    const urlA = a.match[1]!;
    const started = await api(urlA, 'POST', '/api/v1/endpoints/prod/rollouts', { to: 'green', steps: [10, 50, 100], bake: '3s', interval: '100ms' });
    const id = started.id as string;
    // Kill it once the second step has begun (traffic at 50 %).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await api(urlA, 'GET', `/api/v1/rollouts/${id}`);
      if (r.step === 1 && (r.stepStartedAt as number) > 0) break;
      if (Date.now() > deadline) throw new Error(`rollout did not reach step 1: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    a.child.kill('SIGKILL');
    await new Promise((res) => a.child.once('exit', res));

    // What the store holds after the crash: the step it was in, and that step's split.
    const p = await openPlatform({ home });
    try {
      const r = await p.rollouts.get(id);
      expect(r).toMatchObject({ state: 'running', step: 1 });
      expect((await p.endpoints.getEndpoint('prod')).traffic).toEqual({ blue: 50, green: 50 });
    } finally {
      await p.close();
    }

    const b = await serve();
    try {
      const urlB = b.match[1]!;
      const t0 = Date.now();
      let r: Record<string, unknown> = {};
      while (Date.now() - t0 < 40_000) {
        r = await api(urlB, 'GET', `/api/v1/rollouts/${id}`);
        if (r.state !== 'running') break;
        const traffic = (await api(urlB, 'GET', '/api/v1/endpoints/prod')).traffic as Record<string, number>;
        expect(Object.values(traffic).reduce((x, y) => x + y, 0)).toBe(100);
        await new Promise((res) => setTimeout(res, 100));
      }
      console.log(`rollout-crash: the restarted server completed the rollout ${((Date.now() - t0) / 1000).toFixed(1)} s after it started (the dead server's lease lasts 10 s)`);
      expect(r.state).toBe('succeeded');
      expect((r.results as Array<{ weight: number; outcome: string }>).map((x) => [x.weight, x.outcome])).toEqual([
        [10, 'passed'],
        [50, 'passed'],
        [100, 'passed'],
      ]);
      expect((await api(urlB, 'GET', '/api/v1/endpoints/prod')).traffic).toEqual({ blue: 0, green: 100 });
    } finally {
      b.child.kill('SIGINT');
      await new Promise((res) => b.child.once('exit', res));
    }
  }, 120_000);
});
