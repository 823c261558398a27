import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleGrants, type Role } from '../../src/auth/index.js';
import { installRouteAuth, permissionOf, type RouteEntry } from '../../src/http/index.js';
import { startTestServer, SAMPLE, type TestServer } from '../helpers/server.js';

/**
 * Who may call a route is part of its declaration (GUIDE §2.12), so this walks the route table
 * itself: every registered route, anonymously and with every role, and every route under the
 * path variants a URL-text check would miss. A route added without a declaration cannot start.
 */

type Keys = Record<Role, string> & { scopedOther: string; expired: string };

function concrete(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, 'x').replace(/\*$/, 'a/b.txt');
}

/** Variants of a path that a router may treat as the same route: doubled, trailing, encoded, cased. */
function variants(path: string): Array<{ kind: string; path: string; routes: boolean }> {
  const segs = path.split('/').filter((s) => s !== '');
  const out: Array<{ kind: string; path: string; routes: boolean }> = [
    { kind: 'leading double slash', path: `/${path}`, routes: true },
    { kind: 'trailing slash', path: `${path}/`, routes: false },
    { kind: 'upper case', path: path.toUpperCase(), routes: false },
  ];
  if (segs.length > 1) out.push({ kind: 'inner double slash', path: `/${segs[0]}//${segs.slice(1).join('/')}`, routes: true });
  const staticIdx = segs.findIndex((s, i) => i > 0 && /^[a-z]/.test(s));
  if (staticIdx >= 0) {
    const s = segs[staticIdx]!;
    const encoded = [...segs];
    encoded[staticIdx] = `%${s.charCodeAt(0).toString(16)}${s.slice(1)}`;
    out.push({ kind: 'percent-encoded letter', path: `/${encoded.join('/')}`, routes: false });
  }
  return out;
}

describe('route auth: every route declares who may call it, checked on the matched route', () => {
  let s: TestServer;
  let keys: Keys;
  let table: readonly RouteEntry[];

  beforeAll(async () => {
    s = await startTestServer({ model: 'diabetes@production', auth: 'required' });
    const make = async (name: string, opts: Parameters<TestServer['platform']['keys']['create']>[1]) => (await s.platform.keys.create(name, opts)).key;
    keys = {
      viewer: await make('ann-viewer', { role: 'viewer' }),
      developer: await make('dev-bot', { role: 'developer' }),
      predict: await make('scorer', { role: 'predict' }),
      approver: await make('release-manager', { role: 'approver' }),
      admin: s.key,
      scopedOther: await make('other-scorer', { role: 'predict', scopes: ['model:churn'] }),
      expired: await make('gone', { role: 'admin', expires: Date.now() + 200 }),
    };
    table = s.app.routeTable;
    await new Promise((r) => setTimeout(r, 250));
  }, 120_000);
  afterAll(async () => s?.close());

  const call = (method: string, path: string, key?: string, body?: unknown, extra: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });

  const hasBody = (m: string) => m !== 'GET' && m !== 'HEAD';

  it('has a route table covering the native API, the MLflow API, serving and docs', () => {
    const urls = new Set(table.map((r) => `${r.method} ${r.url}`));
    for (const u of ['POST /api/v1/keys', 'GET /api/v1/audit', 'POST /api/predict', 'GET /api/health', 'POST /api/2.0/mlflow/runs/log-metric', 'PUT /api/2.0/mlflow-artifacts/artifacts/*', 'GET /api/docs/json']) {
      expect(urls).toContain(u);
    }
    expect(table.length).toBeGreaterThan(150);
  });

  it('answers 401 to anonymous calls on every non-public route', async () => {
    const wrong: string[] = [];
    for (const r of table) {
      if (permissionOf(r.auth) === 'public') continue;
      const res = await call(r.method, concrete(r.url), undefined, hasBody(r.method) ? {} : undefined);
      if (res.status !== 401) wrong.push(`${r.method} ${r.url} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('answers 403 to every role lacking the permission, and lets every role with it through', async () => {
    const wrong: string[] = [];
    const roles: Role[] = ['viewer', 'developer', 'predict', 'approver', 'admin'];
    for (const r of table) {
      const perm = permissionOf(r.auth);
      if (perm === 'public') continue;
      for (const role of roles) {
        const allowed = roleGrants(role).has(perm);
        const res = await call(r.method, concrete(r.url), keys[role], hasBody(r.method) ? {} : undefined);
        if (!allowed && res.status !== 403) wrong.push(`${role}: ${r.method} ${r.url} → ${res.status}, expected 403`);
        if (allowed && (res.status === 401 || res.status === 403)) wrong.push(`${role}: ${r.method} ${r.url} → ${res.status}, expected it through`);
      }
    }
    expect(wrong).toEqual([]);
  }, 300_000);

  it("takes the web UI's session cookie as the key on every route, and refuses a state-changing call with it unless the CSRF token is repeated", async () => {
    // Signing in: a bad key is refused by field; a good one sets the HttpOnly, SameSite=Strict session and the CSRF cookie.
    const bad = await call('POST', '/api/v1/session', undefined, { key: 'flx_not-a-key' });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { message: string }).message).toMatch(/API key is not valid/);
    const signIn = await call('POST', '/api/v1/session', undefined, { key: keys.admin });
    expect(signIn.status).toBe(200);
    const set = signIn.headers.getSetCookie();
    const session = set.find((c) => c.startsWith('fluxops_session='))!;
    const csrfCookie = set.find((c) => c.startsWith('fluxops_csrf='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Strict/i);
    expect(csrfCookie).not.toMatch(/HttpOnly/i);
    expect(csrfCookie).toMatch(/SameSite=Strict/i);
    const csrf = /^fluxops_csrf=([^;]+)/.exec(csrfCookie)![1]!;
    const cookie = `fluxops_session=${encodeURIComponent(keys.admin)}; fluxops_csrf=${csrf}`;
    const wrong: string[] = [];
    for (const r of table) {
      if (permissionOf(r.auth) === 'public') continue;
      const url = concrete(r.url);
      const body = hasBody(r.method) ? {} : undefined;
      if (!hasBody(r.method)) {
        const res = await call(r.method, url, undefined, body, { cookie });
        if (res.status === 401 || res.status === 403) wrong.push(`${r.method} ${r.url} with the session cookie → ${res.status}`);
        continue;
      }
      const without = await call(r.method, url, undefined, body, { cookie });
      const refusal = (await without.json().catch(() => ({}))) as { message?: string; error?: string };
      const message = refusal.message ?? refusal.error ?? '';
      if (without.status !== 403 || !message.includes('CSRF')) wrong.push(`${r.method} ${r.url} without the CSRF header → ${without.status} ${message}`);
      const forged = await call(r.method, url, undefined, body, { cookie, 'x-fluxops-csrf': `${csrf}x` });
      if (forged.status !== 403) wrong.push(`${r.method} ${r.url} with a wrong CSRF header → ${forged.status}`);
      const withToken = await call(r.method, url, undefined, body, { cookie, 'x-fluxops-csrf': csrf });
      if (withToken.status === 401 || withToken.status === 403) wrong.push(`${r.method} ${r.url} with the CSRF header → ${withToken.status}`);
    }
    expect(wrong).toEqual([]);
    // The session is the key's: its role decides, and GET /api/v1/session says what it may do.
    const viewerCookie = `fluxops_session=${encodeURIComponent(keys.viewer)}; fluxops_csrf=${csrf}`;
    const me = (await (await call('GET', '/api/v1/session', undefined, undefined, { cookie: viewerCookie })).json()) as { auth: string; signedIn: boolean; key: { role: string }; permissions: string[] };
    expect(me).toMatchObject({ auth: 'required', signedIn: true, key: { role: 'viewer' }, permissions: ['read'] });
    expect((await call('PUT', '/api/v1/models/x/aliases/staging', undefined, { version: '1' }, { cookie: viewerCookie, 'x-fluxops-csrf': csrf })).status).toBe(403);
    const out = await call('DELETE', '/api/v1/session', undefined, undefined, { cookie });
    expect(out.headers.getSetCookie().every((c) => /Max-Age=0/i.test(c))).toBe(true);
  }, 300_000);

  it('lets a run-scoped developer key (a pipeline step\'s token) read wherever a viewer may, and write only to its own run', async () => {
    const exp = await s.platform.tracking.ensureExperiment('scoped-runs');
    const own = (await s.platform.tracking.createRun({ experimentId: exp })).info.runId;
    const other = (await s.platform.tracking.createRun({ experimentId: exp })).info.runId;
    const stepKey = (await s.platform.keys.create('step-token', { role: 'developer', scopes: [`run:${own}`] })).key;
    const at = (url: string, run: string) => concrete(url.replace(':runId', run).replace(/\/artifacts\/\*$/, `/artifacts/${exp}/${run}/artifacts/a.txt`));
    const wrong: string[] = [];
    const through: string[] = [];
    for (const r of table) {
      const perm = permissionOf(r.auth);
      if (perm !== 'read' && perm !== 'write') continue;
      const res = await call(r.method, at(r.url, other), stepKey, hasBody(r.method) ? { run_id: other } : undefined);
      if (perm === 'read' && (res.status === 401 || res.status === 403)) wrong.push(`read ${r.method} ${r.url} → ${res.status}`);
      // A route whose resource is read from the body validates the body first: this empty one is a 400 before the check.
      if (perm === 'write' && res.status !== 403 && !(res.status === 400 && typeof r.auth === 'object')) wrong.push(`write to another run ${r.method} ${r.url} → ${res.status}, expected 403`);
      if (perm !== 'write') continue;
      const mine = await call(r.method, at(r.url, own), stepKey, hasBody(r.method) ? { run_id: own } : undefined);
      // A body refused by the route's schema never reached a resource check made on the body: not through.
      const bodyChecked = typeof r.auth === 'object' && r.auth.from !== 'url';
      const refusedBody = bodyChecked && mine.status === 400 && /^invalid request: body\b/.test(((await mine.json().catch(() => ({}))) as { message?: string }).message ?? '');
      if (mine.status !== 403 && mine.status !== 401 && !refusedBody) through.push(`${r.method} ${r.url}`);
    }
    expect(wrong).toEqual([]);
    // Exactly the routes that write to a run let it through for its own run.
    const runWrites = (u: string) => /\/runs\/(update|delete|restore|log-metric|log-parameter|set-tag|delete-tag|log-batch|log-inputs|log-model|outputs)$/.test(u) || /^\/api\/v1\/runs\/:runId/.test(u) || /mlflow-artifacts\/artifacts\/\*$/.test(u);
    expect(through.sort()).toEqual(table.filter((r) => permissionOf(r.auth) === 'write' && runWrites(r.url)).map((r) => `${r.method} ${r.url}`).sort());
  }, 300_000);

  it('refuses path variants of every non-public route (doubled and trailing slashes, percent-encoding, case)', async () => {
    const wrong: string[] = [];
    const seen = new Set<string>();
    for (const r of table) {
      if (permissionOf(r.auth) === 'public' || r.method === 'HEAD') continue;
      for (const v of variants(concrete(r.url))) {
        const id = `${r.method} ${v.path}`;
        if (seen.has(id)) continue;
        seen.add(id);
        for (const key of [undefined, keys.predict]) {
          const res = await call(r.method, v.path, key, hasBody(r.method) ? {} : undefined);
          const refusedAs = key === undefined ? 401 : 403;
          // A variant the router takes as the route must meet the route's check; one it does not
          // route ends in a not-found answer. Nothing else — above all no 2xx.
          const ok = v.routes ? res.status === refusedAs || (key !== undefined && r.url === '/api/predict') : [refusedAs, 404, 501].includes(res.status);
          if (!ok && !(key !== undefined && permissionOf(r.auth) === 'predict')) wrong.push(`${key ? 'predict key' : 'anonymous'} ${v.kind}: ${id} → ${res.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 300_000);

  it('lets no one mint or revoke keys without an admin key (the doubled-slash finding)', async () => {
    for (const path of ['/api/v1/keys', '/api//v1/keys', '//api/v1/keys', '/api/v1//keys', '/api/v1/keys/', '/api/v1/%6beys']) {
      const anon = await call('POST', path, undefined, { name: 'intruder', role: 'admin' });
      expect([401, 404]).toContain(anon.status);
      const asPredict = await call('POST', path, keys.predict, { name: 'intruder', role: 'admin' });
      expect([403, 404]).toContain(asPredict.status);
      expect((await call('GET', path)).status).not.toBe(200);
    }
    const adminId = (await s.platform.keys.list()).find((k) => k.name === 'test')!.keyId;
    expect((await call('DELETE', `/api/v1/keys/${adminId}`, keys.predict)).status).toBe(403);
    expect((await call('DELETE', `/api/v1/keys/${adminId}`, keys.developer)).status).toBe(403);
    expect((await s.platform.keys.list()).find((k) => k.keyId === adminId)!.revokedAt).toBeNull();
    expect((await s.platform.keys.list()).some((k) => k.name === 'intruder')).toBe(false);
    const made = await call('POST', '/api/v1/keys', keys.admin, { name: 'ci', role: 'developer', expires: '30d' });
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ name: 'ci', role: 'developer', key: expect.stringMatching(/^flx_/) as string });
  });

  it('scoped predict keys predict only on their models; expired keys are refused', async () => {
    const body = { inputs: [SAMPLE] };
    expect((await call('POST', '/api/predict', keys.predict, body)).status).toBe(200);
    const other = await call('POST', '/api/predict', keys.scopedOther, body);
    expect(other.status).toBe(403);
    expect(((await other.json()) as { message: string }).message).toMatch(/scoped to model:churn/);
    const scoped = (await s.platform.keys.create('diabetes-scorer', { role: 'predict', scopes: ['model:diabetes'] })).key;
    expect((await call('POST', '/api/predict', scoped, body)).status).toBe(200);
    const expired = await call('GET', '/api/v1/keys', keys.expired);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { message: string }).message).toMatch(/expired/);
  });

  it('protects the production alias and stage: developers move other aliases, admins move production', async () => {
    const dev = await call('PUT', '/api/v1/models/diabetes/aliases/production', keys.developer, { version: '1' });
    expect(dev.status).toBe(403);
    expect(((await dev.json()) as { message: string }).message).toMatch(/protected alias/);
    expect((await call('PUT', '/api/v1/models/diabetes/aliases/staging', keys.developer, { version: '1' })).status).toBe(200);
    expect((await call('PUT', '/api/v1/models/diabetes/aliases/production', keys.approver, { version: '1' })).status).toBe(403);
    expect((await call('PUT', '/api/v1/models/diabetes/aliases/production', keys.admin, { version: '1' })).status).toBe(200);
    const mlflowAlias = await call('POST', '/api/2.0/mlflow/registered-models/alias', keys.developer, { name: 'diabetes', alias: 'Production', version: '1' });
    expect(mlflowAlias.status).toBe(403);
    const stage = await call('POST', '/api/2.0/mlflow/model-versions/transition-stage', keys.developer, { name: 'diabetes', version: '1', stage: 'Production', archive_existing_versions: false });
    expect(stage.status).toBe(403);
    expect((await call('POST', '/api/2.0/mlflow/model-versions/transition-stage', keys.developer, { name: 'diabetes', version: '1', stage: 'Staging', archive_existing_versions: false })).status).toBe(200);
  });

  it('takes the same keys on the MLflow routes as a bearer token or as the HTTP Basic password, and records the key as the user', async () => {
    const basic = `Basic ${Buffer.from(`anyone:${keys.developer}`).toString('base64')}`;
    const viaBasic = await call('POST', '/api/2.0/mlflow/runs/create', undefined, { experiment_id: '0', user_id: 'spoofed' }, { authorization: basic });
    expect(viaBasic.status).toBe(200);
    const run = ((await viaBasic.json()) as { run: { info: { user_id: string; run_id: string } } }).run.info;
    expect(run.user_id).toBe('dev-bot');
    const badBasic = `Basic ${Buffer.from('anyone:flx_000000000000_nope').toString('base64')}`;
    expect((await call('GET', `/api/2.0/mlflow/runs/get?run_id=${run.run_id}`, undefined, undefined, { authorization: badBasic })).status).toBe(401);
    expect((await call('GET', `/api/2.0/mlflow/runs/get?run_id=${run.run_id}`, undefined, undefined, { authorization: 'Token abc' })).status).toBe(401);
    expect((await call('GET', `/api/2.0/mlflow/runs/get?run_id=${run.run_id}`, keys.viewer)).status).toBe(200);
    expect((await call('POST', '/api/2.0/mlflow/runs/log-metric', keys.viewer, { run_id: run.run_id, key: 'm', value: 1, timestamp: 1 })).status).toBe(403);
  });

  it('audits state-changing calls, refused ones included, for admins only', async () => {
    const since = Date.now() - 1;
    const ok = await call('POST', '/api/2.0/mlflow/experiments/create', keys.developer, { name: `audited-${since}` });
    const reqId = ok.headers.get('x-request-id');
    await call('POST', '/api/v1/keys', keys.viewer, { name: 'nope' });
    expect((await call('GET', '/api/v1/audit', keys.viewer)).status).toBe(403);
    const res = await call('GET', `/api/v1/audit?since=${since}`, keys.admin);
    expect(res.status).toBe(200);
    const { entries } = (await res.json()) as { entries: Array<{ keyName: string; role: string; route: string; status: number; requestId: string; target: string }> };
    expect(entries).toContainEqual(expect.objectContaining({ keyName: 'dev-bot', role: 'developer', route: '/api/2.0/mlflow/experiments/create', status: 200, requestId: reqId, target: `name=audited-${since}` }));
    expect(entries).toContainEqual(expect.objectContaining({ keyName: 'ann-viewer', role: 'viewer', route: '/api/v1/keys', status: 403 }));
    // Reads are not audited.
    expect(entries.some((e) => e.route === '/api/v1/audit')).toBe(false);
    // The domain event of the change names the same key as its actor.
    const ev = (await (await call('GET', '/api/v1/events?type=experiment.created&limit=1000', keys.viewer)).json()) as { events: Array<{ actor: string | null; payload: { name: string } }> };
    expect(ev.events.find((e) => e.payload.name === `audited-${since}`)?.actor).toBe('dev-bot');
  });

  it('tells anonymous callers whether the store is up, and only key holders why not', async () => {
    const h = (await (await call('GET', '/api/health')).json()) as { store: { ok: boolean; error?: string } };
    expect(h.store.ok).toBe(true);
    expect(h).not.toHaveProperty('store.error');
  });
});

describe('route auth with auth off (a loopback server)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ model: 'diabetes@production', auth: 'off' });
  }, 120_000);
  afterAll(async () => s?.close());

  it('opens tracking and the registry, never key management or predictions', async () => {
    const post = (path: string, body: unknown, key?: string) =>
      fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });
    expect((await post('/api/2.0/mlflow/experiments/create', { name: 'open' })).status).toBe(200);
    expect((await post('/api/v1/keys', { name: 'x', role: 'admin' })).status).toBe(401);
    expect((await post('//api/v1/keys', { name: 'x', role: 'admin' })).status).toBe(401);
    expect((await post('/api/predict', { inputs: [SAMPLE] })).status).toBe(401);
    expect((await post('/api/predict', { inputs: [SAMPLE] }, s.key)).status).toBe(200);
    const predictKey = (await s.platform.keys.create('p', { role: 'predict' })).key;
    expect((await post('/api/v1/keys', { name: 'x' }, predictKey)).status).toBe(403);
    // A bad key is refused even where anonymous callers are let through.
    expect((await post('/api/2.0/mlflow/experiments/create', { name: 'open2' }, 'flx_000000000000_bad')).status).toBe(401);
  });
});

describe('a route without an auth declaration', () => {
  it('cannot be registered: the app fails to start', async () => {
    const app = Fastify();
    const stub = {} as never;
    installRouteAuth(app, { keys: stub, audit: stub, policy: { mode: 'required', protectedAliases: new Set() } });
    expect(() => app.get('/api/v1/new-thing', async () => ({}))).toThrow(/declares no auth/);
    app.get('/api/v1/declared', { config: { auth: 'read' } }, async () => ({}));
    await app.close();
  });
});
