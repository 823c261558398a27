/**
 * `fluxops server --endpoint NAME`: the reference design's routes (/api/predict, /api/health,
 * /api/model-info) and MLflow's /invocations and /ping answer through the endpoint's traffic
 * split, naming the deployment that answered; its predict policy and scoped keys apply; an
 * endpoint that does not exist yet is a 404 and an unready health until it is created.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform } from '../../src/platform.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { SAMPLE, freshHome, seedModel } from '../helpers/server.js';

describe('fluxops server --endpoint', () => {
  const home = freshHome('fluxops-default-endpoint-');
  const keys = { dev: '', predict: '', scoped: '', elsewhere: '' };
  beforeAll(async () => {
    assertBuilt();
    const p = await openPlatform({ home });
    try {
      await seedModel(p); // diabetes/1 @production
      await seedModel(p, { seed: 11, rows: 900, aliases: [] }); // diabetes/2
      keys.dev = (await p.keys.create('deployer', { role: 'developer' })).key;
      keys.predict = (await p.keys.create('scorer', { role: 'predict' })).key;
      keys.scoped = (await p.keys.create('prod-scorer', { role: 'predict', scopes: ['endpoint:diabetes-prod'] })).key;
      keys.elsewhere = (await p.keys.create('churn-scorer', { role: 'predict', scopes: ['endpoint:churn-prod'] })).key;
    } finally {
      await p.close();
    }
  }, 120_000);
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('serves the endpoint on /api/predict, /api/model-info, /api/health, /invocations and /ping', async () => {
    const s = await startCli(['--home', home, 'server', '--port', '0', '--endpoint', 'diabetes-prod'], /listening on (http:\/\/\S+).*serving endpoint diabetes-prod/);
    try {
      const url = s.match[1]!;
      const call = async (method: string, path: string, key: string | undefined, body?: unknown, headers: Record<string, string> = {}) => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, headers: res.headers, text, body: (text.trim() === '' ? {} : JSON.parse(text)) as Record<string, unknown> & { message?: string } };
      };
      const predict = (key = keys.predict, headers: Record<string, string> = {}) => call('POST', '/api/predict', key, { inputs: [SAMPLE] }, headers);

      // The endpoint does not exist yet: predictions are a 404 naming it, health is not ready.
      const missing = await predict();
      expect(missing.status).toBe(404);
      expect(missing.body.message).toContain("endpoint 'diabetes-prod'");
      const unhealthy = await call('GET', '/api/health', undefined);
      expect(unhealthy.status).toBe(503);
      expect(unhealthy.body.model).toMatchObject({ configured: true, ready: false, endpoint: 'diabetes-prod' });
      expect((await call('GET', '/ping', undefined)).status).toBe(503);

      expect((await call('POST', '/api/v1/endpoints', keys.dev, { name: 'diabetes-prod', environment: 'production' })).status).toBe(201);
      expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/blue', keys.dev, { model: 'diabetes/1' })).status).toBe(200);
      expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/green', keys.dev, { model: 'diabetes/2' })).status).toBe(200);
      expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/traffic', keys.dev, { traffic: { blue: 80, green: 20 } })).status).toBe(200);

      const health = await call('GET', '/api/health', undefined);
      expect(health.status).toBe(200);
      expect(health.body.model).toMatchObject({ configured: true, ready: true, endpoint: 'diabetes-prod', deployment: 'blue', ref: 'diabetes/1', name: 'diabetes', version: '1' });
      const info = await call('GET', '/api/model-info', undefined);
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({ model: 'diabetes', version: '1', endpoint: 'diabetes-prod', deployment: 'blue', kind: 'classifier' });

      // Through the split: both deployments answer, each naming itself in a header and a field.
      const seen = new Map<string, number>();
      for (let i = 0; i < 200; i++) {
        const p = await predict();
        expect(p.status).toBe(200);
        const d = p.body.deployment as string;
        expect(p.headers.get('x-fluxops-deployment')).toBe(d);
        expect(p.body).toMatchObject({ endpoint: 'diabetes-prod', model: 'diabetes', version: d === 'blue' ? '1' : '2' });
        expect(p.headers.get('x-fluxops-model-version')).toBe(`diabetes/${d === 'blue' ? '1' : '2'}`);
        seen.set(d, (seen.get(d) ?? 0) + 1);
      }
      expect(seen.get('blue')).toBeGreaterThan(120);
      expect(seen.get('green')).toBeGreaterThan(15);
      const pinned = await predict(keys.predict, { 'x-fluxops-deployment': 'green' });
      expect(pinned.body).toMatchObject({ deployment: 'green', version: '2' });

      // The endpoint's own scoped key may predict here; a key scoped elsewhere may not.
      expect((await predict(keys.scoped)).status).toBe(200);
      const refused = await predict(keys.elsewhere);
      expect(refused.status).toBe(403);
      expect(refused.body.message).toContain("endpoint 'diabetes-prod'");
      expect((await call('POST', '/api/predict', undefined, { inputs: [SAMPLE] })).status).toBe(401);

      // MLflow's scoring protocol on the same endpoint.
      const inv = await call('POST', '/invocations', keys.predict, { dataframe_records: [SAMPLE] }, { 'x-fluxops-deployment': 'green' });
      expect(inv.status).toBe(200);
      expect((inv.body.predictions as unknown[]).length).toBe(1);
      expect((await call('GET', '/ping', undefined)).status).toBe(200);

      // Only admins and predict policy matter: narrowing the endpoint to developer keys refuses the predict key.
      expect((await call('PATCH', '/api/v1/endpoints/diabetes-prod', keys.dev, { predictRoles: ['developer'] })).status).toBe(200);
      const narrowed = await predict(keys.predict);
      expect(narrowed.status).toBe(403);
      expect(narrowed.body.message).toContain('role developer');
      expect((await predict(keys.dev)).status).toBe(200);
    } finally {
      await stop(s.child);
    }
  }, 120_000);

  it('refuses --endpoint with --model, and a bad endpoint name, with a sentence', async () => {
    const both = await runCli(['--home', home, 'server', '--port', '0', '--endpoint', 'diabetes-prod', '--model', 'diabetes@production']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('--endpoint and --model');
    const bad = await runCli(['--home', home, 'server', '--port', '0', '--endpoint', 'Diabetes Prod']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--endpoint must be');
  }, 60_000);
});
