/**
 * The prediction routes are served twice: by the data plane in front of Fastify (a JSON body
 * with a Content-Length) and by Fastify (anything else, here a chunked body). Every call below is
 * made both ways and must get the same status, the same error body or answer shape, and the same
 * headers; the server must survive every one of them (a refusal is never a crash or a hang).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, seedModel, startTestServer, type TestServer } from '../helpers/server.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** One POST, with a Content-Length (the data plane's case) or chunked (Fastify's). */
function post(url: string, path: string, headers: Record<string, string>, body: string, chunked: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: chunked ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${path}: no answer in 10 s`)));
    req.on('error', reject);
    if (chunked) {
      // Two chunks, so Node sends Transfer-Encoding: chunked.
      req.write(body.slice(0, 1));
      req.end(body.slice(1));
    } else req.end(body);
  });
}

describe('the data plane answers as Fastify does', () => {
  let s: TestServer;
  const k = { dev: '', viewer: '', predict: '', scoped: '', elsewhere: '' };
  beforeAll(async () => {
    s = await startTestServer({ model: 'diabetes@production', auth: 'required' });
    await seedModel(s.platform, { seed: 11, rows: 900, aliases: [] });
    const make = async (name: string, opts: Parameters<TestServer['platform']['keys']['create']>[1]) => (await s.platform.keys.create(name, opts)).key;
    k.dev = await make('deployer', { role: 'developer' });
    k.viewer = await make('watcher', { role: 'viewer' });
    k.predict = await make('scorer', { role: 'predict' });
    k.scoped = await make('prod-scorer', { role: 'predict', scopes: ['endpoint:dp'] });
    k.elsewhere = await make('other-scorer', { role: 'predict', scopes: ['endpoint:churn'] });
    await s.platform.endpoints.createEndpoint({ name: 'dp' });
    await s.platform.endpoints.deploy('dp', { name: 'blue', model: 'diabetes/1' });
    await s.platform.endpoints.deploy('dp', { name: 'green', model: 'diabetes/2', traffic: 0 });
    await s.app.router.refresh();
  }, 120_000);
  afterAll(async () => s?.close());

  const json = { 'content-type': 'application/json' };
  const good = JSON.stringify({ inputs: [SAMPLE] });
  const cases: Array<{ name: string; path: string; key?: keyof typeof k | 'bad'; headers?: Record<string, string>; body?: string; status: number; code?: string }> = [
    { name: 'a prediction', path: '/api/v1/endpoints/dp/predict', key: 'predict', status: 200 },
    { name: 'a pinned prediction', path: '/api/v1/endpoints/dp/predict', key: 'predict', headers: { 'x-fluxops-deployment': 'green' }, status: 200 },
    { name: 'a prediction by the endpoint-scoped key', path: '/api/v1/endpoints/dp/predict', key: 'scoped', status: 200 },
    { name: '/api/predict', path: '/api/predict', key: 'predict', status: 200 },
    { name: 'a query string', path: '/api/predict?verbose=1', key: 'predict', status: 200 },
    { name: 'no key', path: '/api/v1/endpoints/dp/predict', status: 401, code: 'UNAUTHENTICATED' },
    { name: 'an unknown key', path: '/api/v1/endpoints/dp/predict', key: 'bad', status: 401, code: 'UNAUTHENTICATED' },
    { name: 'a viewer key', path: '/api/v1/endpoints/dp/predict', key: 'viewer', status: 403, code: 'PERMISSION_DENIED' },
    { name: 'a key scoped elsewhere', path: '/api/v1/endpoints/dp/predict', key: 'elsewhere', status: 403, code: 'PERMISSION_DENIED' },
    { name: 'a key scoped elsewhere on /api/predict', path: '/api/predict', key: 'scoped', status: 403, code: 'PERMISSION_DENIED' },
    { name: 'an unknown endpoint', path: '/api/v1/endpoints/nope/predict', key: 'predict', status: 404, code: 'RESOURCE_DOES_NOT_EXIST' },
    { name: 'an unknown pinned deployment', path: '/api/v1/endpoints/dp/predict', key: 'predict', headers: { 'x-fluxops-deployment': 'purple' }, status: 400, code: 'INVALID_PARAMETER_VALUE' },
    { name: 'a bad deadline', path: '/api/v1/endpoints/dp/predict', key: 'predict', headers: { 'x-fluxops-timeout-ms': '-5' }, status: 400, code: 'INVALID_PARAMETER_VALUE' },
    { name: 'malformed JSON', path: '/api/v1/endpoints/dp/predict', key: 'predict', body: '{"inputs": [', status: 400, code: 'MALFORMED_REQUEST' },
    { name: 'a prototype-poisoning body', path: '/api/predict', key: 'predict', body: '{"inputs": [], "__proto__": {"x": 1}}', status: 400 },
    { name: 'a missing feature', path: '/api/v1/endpoints/dp/predict', key: 'predict', body: JSON.stringify({ inputs: [{ Age: 3 }] }), status: 400, code: 'INVALID_PARAMETER_VALUE' },
    { name: 'a body that is a list', path: '/api/predict', key: 'predict', body: '[1, 2]', status: 400, code: 'INVALID_PARAMETER_VALUE' },
    { name: 'too many rows', path: '/api/predict', key: 'predict', body: JSON.stringify({ inputs: Array.from({ length: 10_001 }, () => SAMPLE) }), status: 413 },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.status} on both paths`, async () => {
      const key = c.key === undefined ? undefined : c.key === 'bad' ? 'flx_000000000000_not-a-key' : k[c.key];
      const headers = { ...json, ...(key ? { authorization: `Bearer ${key}` } : {}), ...c.headers, 'x-request-id': `dp-${c.status}` };
      const fast = await post(s.url, c.path, headers, c.body ?? good, false);
      const slow = await post(s.url, c.path, headers, c.body ?? good, true);
      for (const a of [fast, slow]) {
        expect(a.status, JSON.stringify(a.body)).toBe(c.status);
        expect(a.headers['x-request-id']).toBe(`dp-${c.status}`);
        expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
        if (c.code !== undefined) expect(a.body.error_code).toBe(c.code);
        if (c.status === 401) expect(a.headers['www-authenticate']).toBe('Bearer realm="fluxops"');
      }
      if (c.status !== 200) {
        expect(fast.body).toEqual(slow.body);
        return;
      }
      expect(Object.keys(fast.body)).toEqual(Object.keys(slow.body));
      expect({ ...fast.body, request_id: '' }).toEqual({ ...slow.body, request_id: '' });
      expect(fast.headers['x-fluxops-deployment']).toBe(slow.headers['x-fluxops-deployment']);
      expect(fast.headers['x-fluxops-model-version']).toBe(slow.headers['x-fluxops-model-version']);
    });
  }

  it('counts both paths in the same route series', async () => {
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${k.viewer}` } })).text();
    const count = (status: number) => Number(new RegExp(`fluxops_http_requests_total\\{method="POST",route="/api/v1/endpoints/:name/predict",status="${status}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    // Two calls per case (one each way) on that route.
    expect(count(200)).toBe(2 * cases.filter((c) => c.path.startsWith('/api/v1/endpoints') && c.status === 200).length);
    expect(count(401)).toBe(2 * cases.filter((c) => c.path.startsWith('/api/v1/endpoints') && c.status === 401).length);
  });

  it('leaves every other request to Fastify: path variants, other content types, other methods', async () => {
    const headers = { authorization: `Bearer ${k.predict}` };
    const variants = await Promise.all([
      fetch(`${s.url}/api/v1/endpoints/dp/predict/`, { method: 'POST', headers: { ...headers, ...json }, body: good }),
      fetch(`${s.url}/api/v1/endpoints/d%70/predict`, { method: 'POST', headers: { ...headers, ...json }, body: good }),
      fetch(`${s.url}//api/predict`, { method: 'POST', headers: { ...headers, ...json }, body: good }),
      fetch(`${s.url}/api/predict`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: good }),
      fetch(`${s.url}/api/predict`, { method: 'PUT', headers: { ...headers, ...json }, body: good }),
    ]);
    expect(variants.map((r) => r.status)).toEqual([404, 200, 200, 415, 404]);
  });
});
