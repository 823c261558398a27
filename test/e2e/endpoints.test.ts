import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, seedModel, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Endpoints over the real server and store: deployments, the traffic split, pinning, sticky
 * routing, scoped and role-limited predictions, alias-following deployments, and the refusals.
 */
describe('endpoints: deployments, traffic, routing', () => {
  let s: TestServer;
  const k = { dev: '', viewer: '', predict: '', scoped: '', scopedModel: '', elsewhere: '' };

  beforeAll(async () => {
    s = await startTestServer({ seed: true, auth: 'required' });
    // diabetes/1 is @production (seeded); diabetes/2 is trained on other data.
    await seedModel(s.platform, { seed: 11, rows: 900, aliases: [] });
    const make = async (name: string, opts: Parameters<TestServer['platform']['keys']['create']>[1]) => (await s.platform.keys.create(name, opts)).key;
    k.dev = await make('deployer', { role: 'developer' });
    k.viewer = await make('watcher', { role: 'viewer' });
    k.predict = await make('scorer', { role: 'predict' });
    k.scoped = await make('prod-scorer', { role: 'predict', scopes: ['endpoint:diabetes-prod'] });
    k.scopedModel = await make('model-scorer', { role: 'predict', scopes: ['model:diabetes'] });
    k.elsewhere = await make('other-scorer', { role: 'predict', scopes: ['endpoint:churn-prod'] });
  }, 120_000);
  afterAll(async () => s?.close());

  async function call(method: string, path: string, key: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> & { message?: string } };
  }
  const predict = (endpoint: string, key: string, headers: Record<string, string> = {}) => call('POST', `/api/v1/endpoints/${endpoint}/predict`, key, { inputs: [SAMPLE] }, headers);

  it('creates an endpoint, deploys a version that takes all traffic, and answers through it naming the deployment', async () => {
    expect((await call('POST', '/api/v1/endpoints', k.viewer, { name: 'diabetes-prod' })).status).toBe(403);
    const made = await call('POST', '/api/v1/endpoints', k.dev, { name: 'diabetes-prod', environment: 'production', description: 'the diabetes model' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'diabetes-prod', environment: 'production', deployments: [], traffic: {} });
    const again = await call('POST', '/api/v1/endpoints', k.dev, { name: 'diabetes-prod' });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS', message: "endpoint 'diabetes-prod' already exists" });

    // Nothing deployed yet: no deployment takes traffic.
    expect((await predict('diabetes-prod', k.predict)).status).toBe(503);

    const blue = await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/blue', k.dev, { model: 'diabetes/1' });
    expect(blue.status).toBe(200);
    expect(blue.body).toMatchObject({ traffic: { blue: 100 }, status: [{ name: 'blue', model: 'diabetes/1', version: '1', error: null, traffic: 100 }] });
    const p = await predict('diabetes-prod', k.predict);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ endpoint: 'diabetes-prod', deployment: 'blue', model: 'diabetes', version: '1' });
    expect(p.headers.get('x-fluxops-deployment')).toBe('blue');
    expect(p.headers.get('x-fluxops-model-version')).toBe('diabetes/1');
    expect((p.body.predictions as unknown[]).length).toBe(1);
  });

  it('a new deployment takes no traffic until told; the pin header reaches it in isolation', async () => {
    const green = await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/green', k.dev, { model: 'diabetes/2' });
    expect(green.body).toMatchObject({ traffic: { blue: 100, green: 0 } });
    for (let i = 0; i < 20; i++) expect((await predict('diabetes-prod', k.predict)).body.deployment).toBe('blue');
    const pinned = await predict('diabetes-prod', k.predict, { 'x-fluxops-deployment': 'green' });
    expect(pinned.body).toMatchObject({ deployment: 'green', version: '2' });
    const unknown = await predict('diabetes-prod', k.predict, { 'x-fluxops-deployment': 'purple' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain("no deployment 'purple'");
  });

  it('splits traffic by the weights (integers summing to 100) and refuses bad splits naming the field', async () => {
    const bad = await call('PUT', '/api/v1/endpoints/diabetes-prod/traffic', k.dev, { traffic: { blue: 50, green: 40 } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('must sum to 100');
    const ghost = await call('PUT', '/api/v1/endpoints/diabetes-prod/traffic', k.dev, { traffic: { blue: 50, purple: 50 } });
    expect(ghost.status).toBe(400);
    expect(ghost.body.message).toContain("no deployment 'purple'");
    expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/traffic', k.viewer, { traffic: { blue: 50, green: 50 } })).status).toBe(403);

    const set = await call('PUT', '/api/v1/endpoints/diabetes-prod/traffic', k.dev, { traffic: { blue: 70, green: 30 } });
    expect(set.body).toMatchObject({ traffic: { blue: 70, green: 30 } });
    const counts: Record<string, number> = { blue: 0, green: 0 };
    const n = 400;
    const answers = await Promise.all(Array.from({ length: n }, () => predict('diabetes-prod', k.predict)));
    for (const a of answers) {
      expect(a.status).toBe(200);
      counts[a.body.deployment as string]! += 1;
      // The version answering is the deployment's.
      expect(a.body.version).toBe(a.body.deployment === 'blue' ? '1' : '2');
    }
    // 400 draws at 30 %: the share lies within ±9 points with overwhelming probability (> 4 sd).
    expect(counts.green! / n).toBeGreaterThan(0.21);
    expect(counts.green! / n).toBeLessThan(0.39);
  });

  it('deploy --traffic gives one deployment its share and scales the others', async () => {
    const r = await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/green', k.dev, { model: 'diabetes/2', traffic: 50 });
    expect(r.body).toMatchObject({ traffic: { blue: 50, green: 50 } });
  });

  it('refuses to remove a deployment that takes traffic, and removes it once it takes none', async () => {
    const refused = await call('DELETE', '/api/v1/endpoints/diabetes-prod/deployments/green', k.dev);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error_code: 'INVALID_STATE' });
    expect(refused.body.message).toContain('takes 50 %');
    await call('PUT', '/api/v1/endpoints/diabetes-prod/traffic', k.dev, { traffic: { blue: 100 } });
    const removed = await call('DELETE', '/api/v1/endpoints/diabetes-prod/deployments/green', k.dev);
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ traffic: { blue: 100 }, deployments: [{ name: 'blue' }] });
    expect((await predict('diabetes-prod', k.predict, { 'x-fluxops-deployment': 'green' })).status).toBe(400);
  });

  it('refuses deployments of models that do not resolve, and bad names, naming the field', async () => {
    const missing = await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/green', k.dev, { model: 'diabetes/99' });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('diabetes/99 cannot be deployed');
    const bare = await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/green', k.dev, { model: 'diabetes' });
    expect(bare.status).toBe(400);
    expect(bare.body.message).toContain('name a version or an alias');
    expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/Green_1', k.dev, { model: 'diabetes/1' })).status).toBe(400);
    expect((await call('POST', '/api/v1/endpoints', k.dev, { name: 'Bad Name' })).status).toBe(400);
    expect((await predict('no-such-endpoint', k.predict)).status).toBe(404);
  });

  it('keys scoped to the endpoint or its model may predict; keys scoped elsewhere may not; predict roles narrow who may', async () => {
    expect((await predict('diabetes-prod', k.scoped)).status).toBe(200);
    expect((await predict('diabetes-prod', k.scopedModel)).status).toBe(200);
    const elsewhere = await predict('diabetes-prod', k.elsewhere);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.message).toContain("endpoint 'diabetes-prod'");
    expect((await predict('diabetes-prod', k.viewer)).status).toBe(403);
    expect((await predict('diabetes-prod', '')).status).toBe(401);

    await call('PATCH', '/api/v1/endpoints/diabetes-prod', k.dev, { predictRoles: ['developer'] });
    const byRole = await predict('diabetes-prod', k.predict);
    expect(byRole.status).toBe(403);
    expect(byRole.body.message).toContain('role developer');
    expect((await predict('diabetes-prod', k.dev)).status).toBe(200);
    await call('PATCH', '/api/v1/endpoints/diabetes-prod', k.dev, { predictRoles: null });
    expect((await predict('diabetes-prod', k.predict)).status).toBe(200);
  });

  it('sticky routing keeps a caller on one deployment at a given split', async () => {
    await call('POST', '/api/v1/endpoints', k.dev, { name: 'sticky', stickyHeader: 'X-User-Id' });
    await call('PUT', '/api/v1/endpoints/sticky/deployments/blue', k.dev, { model: 'diabetes/1' });
    await call('PUT', '/api/v1/endpoints/sticky/deployments/green', k.dev, { model: 'diabetes/2', traffic: 50 });
    const seen = new Map<string, Set<string>>();
    for (let u = 0; u < 30; u++) {
      for (let i = 0; i < 4; i++) {
        const r = await predict('sticky', k.predict, { 'x-user-id': `user-${u}` });
        const set = seen.get(`user-${u}`) ?? new Set<string>();
        set.add(r.body.deployment as string);
        seen.set(`user-${u}`, set);
      }
    }
    for (const set of seen.values()) expect(set.size).toBe(1);
    const landed = new Set([...seen.values()].map((x) => [...x][0]));
    expect(landed).toEqual(new Set(['blue', 'green']));
  });

  it('a deployment that follows an alias swaps when the alias moves', async () => {
    await call('POST', '/api/v1/endpoints', k.dev, { name: 'follow' });
    await call('PUT', '/api/v1/endpoints/follow/deployments/main', k.dev, { model: 'diabetes@production' });
    expect((await predict('follow', k.predict)).body.version).toBe('1');
    await s.platform.registry.setAlias('diabetes', 'production', '2');
    const deadline = Date.now() + 10_000;
    let version = '';
    while (Date.now() < deadline && version !== '2') {
      version = (await predict('follow', k.predict)).body.version as string;
      if (version !== '2') await new Promise((r) => setTimeout(r, 50));
    }
    expect(version).toBe('2');
    await s.platform.registry.setAlias('diabetes', 'production', '1');
  });

  it('a mirrored deployment gets copies of live requests; the caller sees only the live answer; agreement is what the two give', async () => {
    await call('POST', '/api/v1/endpoints', k.dev, { name: 'shadowed' });
    await call('PUT', '/api/v1/endpoints/shadowed/deployments/blue', k.dev, { model: 'diabetes/1' });
    await call('PUT', '/api/v1/endpoints/shadowed/deployments/green', k.dev, { model: 'diabetes/2' });
    expect((await call('PUT', '/api/v1/endpoints/shadowed/mirror', k.dev, { mirror: { green: 101 } })).status).toBe(400);
    const set = await call('PUT', '/api/v1/endpoints/shadowed/mirror', k.dev, { mirror: { green: 100 } });
    expect(set.body).toMatchObject({ traffic: { blue: 100, green: 0 }, mirror: { green: 100 } });
    const inputs = Array.from({ length: 30 }, (_, i) => ({ ...SAMPLE, PlasmaGlucose: 60 + i * 6, BMI: 18 + i }));
    for (const input of inputs) {
      const r = await call('POST', '/api/v1/endpoints/shadowed/predict', k.predict, { inputs: [input] });
      expect(r.body.deployment).toBe('blue');
    }
    let stats: Record<string, { requests: number; rows: number; agreedRows: number; errors: number; percent: number; meanAbsScoreDiff: number }> = {};
    for (let i = 0; i < 100; i++) {
      stats = (await call('GET', '/api/v1/endpoints/shadowed/mirror', k.viewer)).body.mirror as typeof stats;
      if ((stats.green?.requests ?? 0) >= inputs.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(stats.green).toMatchObject({ requests: inputs.length, errors: 0, rows: inputs.length, percent: 100 });
    // The same inputs answered by each deployment directly: the agreement the mirror must have measured.
    let agreed = 0;
    let diff = 0;
    for (const input of inputs) {
      const b = await call('POST', '/api/v1/endpoints/shadowed/predict', k.predict, { inputs: [input] }, { 'x-fluxops-deployment': 'blue' });
      const g = await call('POST', '/api/v1/endpoints/shadowed/predict', k.predict, { inputs: [input] }, { 'x-fluxops-deployment': 'green' });
      if ((b.body.predictions as unknown[])[0] === (g.body.predictions as unknown[])[0]) agreed++;
      diff += Math.abs((b.body.probabilities as number[][])[0]![1]! - (g.body.probabilities as number[][])[0]![1]!);
    }
    expect(stats.green!.agreedRows).toBe(agreed);
    expect(stats.green!.meanAbsScoreDiff).toBeCloseTo(diff / inputs.length, 9);
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${k.viewer}` } })).text();
    expect(metrics).toMatch(/fluxops_mirror_requests_total\{endpoint="shadowed",deployment="green",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/fluxops_endpoint_requests_total\{endpoint="shadowed",deployment="blue",status="200"\} \d+/);
    expect(metrics).toMatch(/fluxops_endpoint_predictions_total\{endpoint="shadowed",deployment="blue",class="[01]"\} \d+/);
    expect(metrics).toMatch(/fluxops_endpoint_prediction_score_bucket\{le="0\.5",endpoint="shadowed",deployment="blue"\} \d+/);
    expect(metrics).toMatch(/fluxops_endpoint_prediction_score_count\{endpoint="shadowed",deployment="blue"\} \d+/);
    expect(metrics).toMatch(/fluxops_endpoint_predict_duration_seconds_bucket\{le="\+Inf",endpoint="shadowed",deployment="blue"\} \d+/);
    // The mirror's agreement as a ratio, the same figure the mirror stats give.
    const ratio = /fluxops_mirror_agreement_ratio\{endpoint="shadowed",deployment="green"\} ([\d.e-]+)/.exec(metrics);
    expect(ratio).not.toBeNull();
    expect(Number(ratio![1])).toBeCloseTo(stats.green!.agreedRows / stats.green!.rows, 9);
    await call('DELETE', '/api/v1/endpoints/shadowed', k.dev);
  });

  it('lists, shows and deletes endpoints; every change is an event naming the key', async () => {
    const list = await call('GET', '/api/v1/endpoints', k.viewer);
    expect((list.body.endpoints as Array<{ name: string }>).map((e) => e.name)).toEqual(['diabetes-prod', 'follow', 'sticky']);
    const shown = await call('GET', '/api/v1/endpoints/sticky', k.viewer);
    expect(shown.body).toMatchObject({ stickyHeader: 'x-user-id', traffic: { blue: 50, green: 50 } });
    expect((await call('DELETE', '/api/v1/endpoints/sticky', k.viewer)).status).toBe(403);
    expect((await call('DELETE', '/api/v1/endpoints/sticky', k.dev)).status).toBe(200);
    expect((await call('GET', '/api/v1/endpoints/sticky', k.viewer)).status).toBe(404);
    expect((await predict('sticky', k.predict)).status).toBe(404);

    const events = await s.platform.events.log.read({ limit: 1000, types: ['endpoint.created', 'deployment.created', 'traffic.changed', 'endpoint.deleted'] });
    const sticky = events.events.filter((e) => e.endpoint === 'sticky');
    // The first deployment takes all traffic (a change of split); the second is deployed with 50 %.
    expect(sticky.map((e) => e.type)).toEqual(['endpoint.created', 'deployment.created', 'traffic.changed', 'deployment.created', 'traffic.changed', 'endpoint.deleted']);
    expect(new Set(sticky.map((e) => e.actor))).toEqual(new Set(['deployer']));
  });
});
