/**
 * GET /api/v1/endpoints/:name/live: each deployment's recent traffic on this server as JSON, or
 * as a server-sent event stream that the web UI's endpoint page follows.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, seedModel, startTestServer, type TestServer } from '../helpers/server.js';

/** Reads `count` events of an SSE stream, then closes it. */
function readEvents(url: string, count: number): Promise<{ status: number; type: string | undefined; events: Array<{ event: string; data: unknown }> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      const events: Array<{ event: string; data: unknown }> = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
          if (events.length >= count) {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], events });
            return;
          }
        }
      });
    });
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
  });
}

describe('endpoint live figures', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
    await seedModel(s.platform);
    const put = (method: string, p: string, body: unknown) => fetch(`${s.url}${p}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put('POST', '/api/v1/endpoints', { name: 'live' })).status).toBe(201);
    expect((await put('PUT', '/api/v1/endpoints/live/deployments/blue', { model: 'diabetes/1' })).status).toBe(200);
  }, 60_000);
  afterAll(async () => s?.close());

  it('answers JSON: requests, rate, error rate and percentiles per deployment over the window, and no rollout', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${s.url}/api/v1/endpoints/live/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, body: JSON.stringify({ inputs: [SAMPLE] }) });
      expect(r.status).toBe(200);
    }
    const r = await fetch(`${s.url}/api/v1/endpoints/live/live?window_ms=60000`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { endpoint: string; windowMs: number; traffic: Record<string, number>; deployments: Record<string, { requests: number; errors: number; requestsPerSecond: number; errorRate: number; p95Ms: number | null; totalRequests: number }>; rollout: unknown };
    expect(body).toMatchObject({ endpoint: 'live', windowMs: 60_000, traffic: { blue: 100 }, rollout: null });
    const blue = body.deployments.blue!;
    expect(blue).toMatchObject({ requests: 20, errors: 0, errorRate: 0, totalRequests: 20 });
    expect(blue.requestsPerSecond).toBeCloseTo(20 / 60, 6);
    expect(blue.p95Ms).toBeGreaterThan(0);
  });

  it('streams the figures as server-sent events on an interval', async () => {
    const t0 = Date.now();
    const { status, type, events } = await readEvents(`${s.url}/api/v1/endpoints/live/live?interval_ms=250`, 3);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/event-stream/);
    expect(events.map((e) => e.event)).toEqual(['figures', 'figures', 'figures']);
    expect(events.every((e) => (e.data as { endpoint: string }).endpoint === 'live')).toBe(true);
    // Two intervals between the first and the third.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });

  it('refuses an unknown endpoint and a bad window with a sentence, before any stream opens', async () => {
    const missing = await fetch(`${s.url}/api/v1/endpoints/nope/live`, { headers: { accept: 'text/event-stream' } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toMatch(/nope/);
    const bad = await fetch(`${s.url}/api/v1/endpoints/live/live?window_ms=5`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/window_ms/);
  });
});
