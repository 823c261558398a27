import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_DIR, uiBuilt, uiRoutes } from '../../src/api/routes/ui.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the web UI at / (served by the API server)', () => {
  let s: TestServer;
  beforeAll(async () => {
    if (!uiBuilt()) throw new Error(`the web UI is not built (${UI_DIR}): run npm run build (npm test does)`);
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it('answers its pages with index.html, never cached, under a same-origin Content-Security-Policy', async () => {
    for (const page of ['/', '/runs', '/runs/0123456789abcdef']) {
      const r = await fetch(`${s.url}${page}`);
      expect(r.status, page).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await r.text()).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
    }
  });

  it('serves the hashed assets as immutable, and 404s (as JSON, like the API) what is not there', async () => {
    const html = await (await fetch(`${s.url}/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const a of assets) {
      const r = await fetch(`${s.url}${a}`);
      expect(r.status, a).toBe(200);
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await r.arrayBuffer()).byteLength).toBe(fs.statSync(path.join(UI_DIR, a)).size);
    }
    // An encoded `..` is not resolved by the client, so the server sees the traversal attempt itself.
    for (const missing of ['/assets/nope.js', '/assets/%2e%2e/index.html', '/assets/..%2findex.html', '/runs/a/b', '/api/nope']) {
      const r = await fetch(`${s.url}${missing}`);
      expect(r.status, missing).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/json/);
    }
  });

  it('keeps the API where it was: JSON routes and the MLflow API answer as before', async () => {
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
    const r = await fetch(`${s.url}/api/2.0/mlflow/experiments/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"max_results": 10}' });
    expect(r.status).toBe(200);
  });
});

describe('an installation without a built UI', () => {
  it('answers the pages with a sentence saying how to build it', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-no-ui-'));
    const app = Fastify();
    await app.register(async (scope) => uiRoutes(scope, { dir: empty }));
    try {
      const r = await app.inject({ method: 'GET', url: '/' });
      expect(r.statusCode).toBe(404);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect(r.body).toBe('The web UI is not built in this installation: run `npm run build` in the FluxOps folder, then restart the server.\n');
    } finally {
      await app.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
