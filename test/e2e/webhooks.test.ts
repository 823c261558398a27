/**
 * Webhooks end to end: a real server on a port (buildApp over a platform with fast retries),
 * receivers started by the test that check every delivery's signature with `verifySignature`,
 * events from registering model versions, the API with its refusals and auth, and the CLI (the
 * TypeScript sources run in a child process) against the server and on a local home.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/api/index.js';
import { createLogger } from '../../src/logging/index.js';
import { openPlatform, type Platform } from '../../src/platform.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verifySignature, type WebhookDelivery } from '../../src/webhooks/index.js';
import { assertBuilt, runCli, type CliResult } from '../helpers/cli.js';
import { freshHome, seedModel } from '../helpers/server.js';

/** Retries 50 ms apart (doubling), four attempts, looks every 50 ms: the retry cases take well under a second. */
const WEBHOOKS = { retryBaseMs: 50, retryMaxMs: 400, maxAttempts: 4, pollMs: 50, timeoutMs: 3000 };

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

interface Receiver {
  url: string;
  got: Received[];
  /** Resolves once `n` requests arrived (the test timeout bounds the wait). */
  waitFor(n: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** An HTTP server started by the test; `answer` decides each response from the request count. */
async function startReceiver(answer: (n: number, r: Received) => { status: number; body?: string } = () => ({ status: 200, body: 'ok' })): Promise<Receiver> {
  const got: Received[] = [];
  const waiters: Array<{ n: number; resolve: (r: Received[]) => void }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      got.push(r);
      const a = answer(got.length, r);
      res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body ?? '');
      for (const w of [...waiters]) {
        if (got.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(got.slice());
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/fluxops`,
    got,
    waitFor: (n) => (got.length >= n ? Promise.resolve(got.slice()) : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const header = (r: Received, name: string): string => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
};

let home: string;
let platform: Platform;
let app: App;
let url: string;
let admin: string;
const receivers: Receiver[] = [];

beforeAll(async () => {
  home = freshHome('fluxops-webhooks-');
  platform = await openPlatform({ home, webhooks: WEBHOOKS });
  admin = (await platform.keys.create('webhook-admin', { role: 'admin' })).key;
  app = await buildApp({ platform, logger: createLogger({ level: 'silent' }), auth: 'required' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await app?.close();
  await platform?.close();
  for (const r of receivers) await r.close();
  fs.rmSync(home, { recursive: true, force: true });
});

async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

/** A call with the admin key, another key, or none (null). */
const api = async (method: string, p: string, body?: unknown, key: string | null = admin) => {
  const res = await fetch(`${url}/api/v1${p}`, {
    method,
    headers: { ...(key !== null ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> & { message?: string } };
};

interface Created {
  id: string;
  name: string;
  secret: string;
}
async function createWebhook(input: Record<string, unknown>): Promise<Created> {
  const res = await api('POST', '/webhooks', input);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as unknown as Created;
}

async function deliveries(id: string): Promise<WebhookDelivery[]> {
  const res = await api('GET', `/webhooks/${id}/deliveries`);
  expect(res.status).toBe(200);
  return (res.body as { deliveries: WebhookDelivery[] }).deliveries;
}

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Registers a new version of `diabetes` (trained on a few generated rows): a `model.version.created` event. */
const registerVersion = (seed = 3) => seedModel(platform, { rows: 300, seed, aliases: [] });

describe('webhook deliveries', () => {
  it('a receiver gets a correctly signed model.version.created delivery when a version is registered; a tampered body or a stale timestamp is refused', async () => {
    const r = await receiver();
    const hook = await createWebhook({ name: 'signed', url: r.url, events: ['model.version.created'] });
    expect(hook.secret).toMatch(/^whsec_/);
    const { version } = await registerVersion();
    const [got] = await r.waitFor(1);
    const sig = header(got!, SIGNATURE_HEADER);
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const verified = verifySignature(hook.secret, sig, got!.body);
    expect(verified).toEqual({ ok: true, timestamp: expect.any(Number) as number });
    const t = (verified as { timestamp: number }).timestamp;
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60);

    const body = JSON.parse(got!.body) as { id: string; event: { seq: number; type: string; model: string; payload: { model: string; version: string }; actor: string | null; time: number } };
    expect(header(got!, DELIVERY_HEADER)).toBe(body.id);
    expect(header(got!, EVENT_HEADER)).toBe('model.version.created');
    expect(header(got!, 'content-type')).toBe('application/json');
    expect(body.id).toMatch(/^whd-[0-9a-f]{16}$/);
    expect(body.event).toMatchObject({ type: 'model.version.created', model: 'diabetes', payload: { model: 'diabetes', version: version!.version } });
    expect(body.event.seq).toBeGreaterThan(0);

    // What a receiver must refuse.
    expect(verifySignature(hook.secret, sig, got!.body.replace('"diabetes"', '"diabetez"'))).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) as string });
    expect(verifySignature('whsec_not-the-secret', sig, got!.body).ok).toBe(false);
    expect(verifySignature(hook.secret, sig, got!.body, { now: t + 301 })).toMatchObject({ ok: false, reason: expect.stringMatching(/old/) as string });
    expect(verifySignature(hook.secret, sig, got!.body, { now: t - 301 })).toMatchObject({ ok: false, reason: expect.stringMatching(/future/) as string });
    expect(verifySignature(hook.secret, sig, got!.body, { now: t + 299 }).ok).toBe(true);
    expect(verifySignature(hook.secret, sig.replace(/t=\d+/, `t=${t + 1}`), got!.body).ok).toBe(false);
    expect(verifySignature(hook.secret, undefined, got!.body).ok).toBe(false);

    // Only the event asked for: the run and alias events of the same registration were not sent.
    await new Promise((res) => setTimeout(res, 300));
    expect(r.got.map((x) => header(x, EVENT_HEADER))).toEqual(['model.version.created']);
    const [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ id: body.id, eventSeq: body.event.seq, eventType: 'model.version.created', state: 'succeeded', attempts: 1, lastStatus: 200, lastResponse: 'ok', lastError: null });
    expect((await api('DELETE', `/webhooks/${hook.id}`)).status).toBe(200);
  });

  it('a receiver that fails twice (500) and then succeeds gets the event on the third try; the deliveries list shows the three attempts', async () => {
    const r = await receiver((n) => (n <= 2 ? { status: 500, body: `not yet (${n})` } : { status: 200, body: 'got it' }));
    const hook = await createWebhook({ name: 'flaky', url: r.url, events: 'model.version.created' });
    await registerVersion(4);
    const got = await r.waitFor(3);
    // The same delivery each time, the same bytes, each attempt signed anew.
    expect(new Set(got.map((x) => header(x, DELIVERY_HEADER))).size).toBe(1);
    expect(new Set(got.map((x) => x.body)).size).toBe(1);
    for (const x of got) expect(verifySignature(hook.secret, header(x, SIGNATURE_HEADER), x.body).ok).toBe(true);
    // Backed off: each retry waited (50 ms, then about 100 ms, ±20 %).
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(35);
    expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(75);
    const [d] = await until(
      () => deliveries(hook.id),
      (l) => l[0]?.state === 'succeeded',
    );
    expect(d).toMatchObject({ state: 'succeeded', attempts: 3, maxAttempts: 4, lastStatus: 200, lastResponse: 'got it', lastError: null });
    expect(d!.history.map((h) => [h.attempt, h.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(d!.history[0]!.error).toMatch(/HTTP 500/);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.got.length).toBe(3);
    await api('DELETE', `/webhooks/${hook.id}`);
  });

  it('a receiver that always fails gets every attempt, then the delivery fails with the reason', async () => {
    const r = await receiver(() => ({ status: 503, body: 'x'.repeat(5000) }));
    const hook = await createWebhook({ name: 'down', url: r.url, events: ['model.version.*'] });
    await registerVersion(5);
    const [d] = await until(
      () => deliveries(hook.id),
      (l) => l[0]?.state === 'failed',
    );
    expect(d).toMatchObject({ state: 'failed', attempts: 4, lastStatus: 503, lastError: expect.stringMatching(/gave up after 4 attempts: HTTP 503/) as string });
    expect(d!.lastResponse).toBe('x'.repeat(1024));
    expect(r.got.length).toBe(4);
    const failed = await api('GET', `/webhooks/${hook.id}/deliveries?state=failed&limit=5`);
    expect((failed.body as { deliveries: unknown[] }).deliveries).toHaveLength(1);
    await api('DELETE', `/webhooks/${hook.id}`);
  });

  it('the Slack format sends a Slack message with a readable sentence; a filter keeps other models out', async () => {
    const r = await receiver();
    const hook = await createWebhook({ name: 'slack', url: r.url, events: 'model.version.created,model.alias.changed', format: 'slack', filter: { model: 'diabetes' } });
    const other = await createWebhook({ name: 'other-model', url: r.url, events: '*', filter: { model: 'churn' } });
    await registerVersion(6);
    const [got] = await r.waitFor(1);
    expect(verifySignature(hook.secret, header(got!, SIGNATURE_HEADER), got!.body).ok).toBe(true);
    const msg = JSON.parse(got!.body) as { text: string; blocks: Array<{ type: string; text?: { type: string; text: string }; elements?: Array<{ text: string }> }> };
    expect(Object.keys(msg).sort()).toEqual(['blocks', 'text']);
    expect(msg.text).toMatch(/^Model `diabetes` has a new version \d+ from run `[0-9a-f]{32}`\.$/);
    expect(msg.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: msg.text } });
    expect(msg.blocks[1]!.type).toBe('context');
    expect(msg.blocks[1]!.elements![0]!.text).toMatch(/\*model\.version\.created\* · \d{4}-\d\d-\d\dT/);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.got.length).toBe(1);
    expect(await deliveries(other.id)).toEqual([]);
    await api('DELETE', `/webhooks/${hook.id}`);
    await api('DELETE', `/webhooks/${other.id}`);
  });

  it('test sends a signed webhook.test delivery at once and answers how it went', async () => {
    const r = await receiver();
    const hook = await createWebhook({ name: 'tested', url: r.url, events: '*' });
    const res = await api('POST', `/webhooks/${hook.name}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ eventType: 'webhook.test', eventSeq: null, state: 'succeeded', attempts: 1, maxAttempts: 1, lastStatus: 200 });
    expect(r.got).toHaveLength(1);
    const body = JSON.parse(r.got[0]!.body) as { id: string; event: { type: string; seq: null; payload: { webhook: string }; actor: string } };
    expect(body).toMatchObject({ id: res.body.id, event: { type: 'webhook.test', seq: null, payload: { webhook: hook.id }, actor: 'webhook-admin' } });
    expect(verifySignature(hook.secret, header(r.got[0]!, SIGNATURE_HEADER), r.got[0]!.body).ok).toBe(true);

    // Nothing listens there: the test fails at once, without retries, saying why.
    const gone = await receiver();
    await gone.close();
    const dead = await createWebhook({ name: 'dead-end', url: gone.url, events: '*' });
    const failed = await api('POST', `/webhooks/${dead.id}/test`);
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ state: 'failed', attempts: 1, lastStatus: null, lastError: expect.stringMatching(/ECONNREFUSED/) as string });
    await api('DELETE', `/webhooks/${hook.id}`);
    await api('DELETE', `/webhooks/${dead.id}`);
  });

  it('events committed while no server ran are delivered when one starts again', async () => {
    const r = await receiver();
    const h = freshHome('fluxops-webhooks-restart-');
    try {
      const first = await openPlatform({ home: h, webhooks: WEBHOOKS });
      const { secret } = await first.webhooks.createWebhook({ name: 'catch-up', url: r.url, events: 'model.version.created' });
      await first.close();
      // Registered by a process with no deliverer running (as the CLI does locally).
      const offline = await openPlatform({ home: h, webhooks: WEBHOOKS });
      await seedModel(offline, { rows: 300, seed: 8, aliases: [] });
      await offline.close();
      expect(r.got).toHaveLength(0);
      const server = await openPlatform({ home: h, webhooks: WEBHOOKS });
      try {
        await server.start();
        const [got] = await r.waitFor(1);
        expect(header(got!, EVENT_HEADER)).toBe('model.version.created');
        expect(verifySignature(secret, header(got!, SIGNATURE_HEADER), got!.body).ok).toBe(true);
        await until(
          () => server.webhooks.webhookDeliveries('catch-up'),
          (l) => l[0]?.state === 'succeeded',
        );
      } finally {
        await server.close();
      }
      // Started again: nothing is sent twice.
      const again = await openPlatform({ home: h, webhooks: WEBHOOKS });
      await again.start();
      await new Promise((res) => setTimeout(res, 300));
      await again.close();
      expect(r.got).toHaveLength(1);
    } finally {
      fs.rmSync(h, { recursive: true, force: true });
    }
  });
});

describe('the webhooks API', () => {
  it('creates (201, the secret once), lists, gets, disables, enables and deletes; the secret is never shown again', async () => {
    const created = await api('POST', '/webhooks', { name: 'crud', url: 'https://hooks.example.com/x', events: ['model.*', 'pipeline.run.failed'], secret: 'a-secret-of-my-own-1234' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'crud', url: 'https://hooks.example.com/x', events: ['model.*', 'pipeline.run.failed'], format: 'fluxops', enabled: true, createdBy: 'webhook-admin', secret: 'a-secret-of-my-own-1234', filter: { model: null, endpoint: null } });
    const id = created.body.id as string;
    const got = await api('GET', `/webhooks/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('secret');
    expect((await api('GET', '/webhooks/crud')).body).toEqual(got.body);
    const list = await api('GET', '/webhooks');
    expect(JSON.stringify(list.body)).not.toContain('a-secret-of-my-own');
    expect((list.body as { webhooks: Array<{ id: string }> }).webhooks.map((w) => w.id)).toContain(id);
    expect((await api('PATCH', `/webhooks/${id}`, { enabled: false })).body).toMatchObject({ enabled: false });
    expect((await api('PATCH', `/webhooks/${id}`, { enabled: true })).body).toMatchObject({ enabled: true });
    expect((await api('POST', '/webhooks', { name: 'crud', url: 'https://hooks.example.com/y', events: '*' })).body).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS' });
    expect((await api('DELETE', `/webhooks/${id}`)).status).toBe(200);
    expect((await api('GET', `/webhooks/${id}`)).status).toBe(404);
    expect((await api('GET', `/webhooks/${id}/deliveries`)).status).toBe(404);
  });

  it('refuses a bad URL, an unknown event pattern or format with a 400 naming the field', async () => {
    const refusal = async (body: Record<string, unknown>) => {
      const res = await api('POST', '/webhooks', { name: 'bad', url: 'https://hooks.example.com/x', events: '*', ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      return res.body.message!;
    };
    expect(await refusal({ url: 'ftp://files.example.com/in' })).toMatch(/^url must be an http:\/\/ or https:\/\/ URL/);
    expect(await refusal({ url: 'hooks.example.com/x' })).toMatch(/^url must be/);
    expect(await refusal({ events: ['model.*', 'modle.created'] })).toMatch(/^events: 'modle.created' matches no event type/);
    expect(await refusal({ events: 'pipeline.run.exploded' })).toMatch(/^events: 'pipeline.run.exploded' matches no event type/);
    expect(await refusal({ events: [] })).toMatch(/^events must name/);
    expect(await refusal({ format: 'teams' })).toMatch(/format/);
    expect(await refusal({ name: 'no spaces please' })).toMatch(/^name must be/);
    expect(await refusal({ url: undefined })).toMatch(/url/);
    expect((await api('GET', '/webhooks')).body).toMatchObject({ webhooks: expect.not.arrayContaining([expect.objectContaining({ name: 'bad' })]) as unknown[] });
  });

  it('is for admin keys only', async () => {
    const keys: Record<string, string> = {};
    for (const role of ['viewer', 'developer', 'predict', 'approver'] as const) keys[role] = (await platform.keys.create(`wh-${role}`, { role })).key;
    const hook = await createWebhook({ name: 'guarded', url: 'https://hooks.example.com/g', events: '*' });
    const calls: Array<[string, string, unknown?]> = [
      ['POST', '/webhooks', { name: 'sneaky', url: 'https://evil.example.com', events: '*' }],
      ['GET', '/webhooks'],
      ['GET', `/webhooks/${hook.id}`],
      ['PATCH', `/webhooks/${hook.id}`, { enabled: false }],
      ['DELETE', `/webhooks/${hook.id}`],
      ['POST', `/webhooks/${hook.id}/test`],
      ['GET', `/webhooks/${hook.id}/deliveries`],
    ];
    for (const [method, p, body] of calls) {
      expect((await api(method, p, body, null)).status, `anonymous ${method} ${p}`).toBe(401);
      for (const [role, key] of Object.entries(keys)) expect((await api(method, p, body, key)).status, `${role} ${method} ${p}`).toBe(403);
    }
    expect((await api('GET', `/webhooks/${hook.id}`)).body).toMatchObject({ enabled: true });
    expect((await api('GET', '/webhooks')).body).toMatchObject({ webhooks: expect.not.arrayContaining([expect.objectContaining({ name: 'sneaky' })]) as unknown[] });
    await api('DELETE', `/webhooks/${hook.id}`);
  });
});

// ---- the CLI ----

/** The built CLI in a child process (`npm test` builds it first). */
function cli(args: string[]): Promise<CliResult> {
  assertBuilt();
  return runCli(args, { env: { FLUXOPS_URL: '', FLUXOPS_API_KEY: '' }, timeoutMs: 90_000 });
}

describe('fluxops webhooks', () => {
  it('create, list, test, deliveries and delete against a server (--url)', async () => {
    const r = await receiver();
    const remote = ['--url', url, '--api-key', admin];
    const made = await cli([...remote, 'webhooks', 'create', 'cli-hook', r.url, '--events', 'model.version.created,pipeline.run.failed', '--format', 'slack']);
    expect(made.code, made.stderr).toBe(0);
    const secret = made.stdout.split('\n')[0]!;
    expect(secret).toMatch(/^whsec_/);
    expect(made.stdout).toMatch(/it is not shown again/);

    const [list, tested] = await Promise.all([cli([...remote, '--json', 'webhooks', 'list']), cli([...remote, 'webhooks', 'test', 'cli-hook'])]);
    expect(list.code, list.stderr).toBe(0);
    const hooks = JSON.parse(list.stdout) as Array<{ name: string; format: string; events: string[] }>;
    expect(hooks.find((h) => h.name === 'cli-hook')).toMatchObject({ format: 'slack', events: ['model.version.created', 'pipeline.run.failed'] });
    expect(list.stdout).not.toContain(secret);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/state\s+succeeded/);
    expect(tested.stdout).toMatch(/status\s+200/);
    expect(r.got).toHaveLength(1);
    expect(verifySignature(secret, header(r.got[0]!, SIGNATURE_HEADER), r.got[0]!.body).ok).toBe(true);
    expect((JSON.parse(r.got[0]!.body) as { text: string }).text).toMatch(/test delivery/);

    const [table, bad, urlFlag] = await Promise.all([
      cli([...remote, 'webhooks', 'deliveries', 'cli-hook']),
      cli([...remote, 'webhooks', 'create', 'bad', r.url, '--events', 'modle.*']),
      cli([...remote, 'webhooks', 'create', 'bad', '--url', r.url, '--events', '*']),
    ]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/webhook\.test.*succeeded.*1\/1.*200/);
    const deleted = await cli([...remote, 'webhooks', 'delete', 'cli-hook']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/events: 'modle\.\*' matches no event type/);
    expect(urlFlag.code).toBe(2);
    expect(urlFlag.stderr).toMatch(/--url names the FluxOps server/);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toMatch(/deleted webhook cli-hook/);
    expect((await api('GET', '/webhooks/cli-hook')).status).toBe(404);
  }, 180_000);

  it('works on a local home too; a test that reaches nobody exits 1', async () => {
    const r = await receiver();
    const h = freshHome('fluxops-webhooks-cli-');
    try {
      const made = await cli(['--home', h, 'webhooks', 'create', 'local-hook', '--to', r.url, '--events', '*', '--model', 'diabetes']);
      expect(made.code, made.stderr).toBe(0);
      const secret = made.stdout.split('\n')[0]!;
      const gone = await receiver();
      await gone.close();
      const [tested, createdDead] = await Promise.all([cli(['--home', h, '--json', 'webhooks', 'test', 'local-hook']), cli(['--home', h, 'webhooks', 'create', 'dead', gone.url, '--events', '*'])]);
      expect(tested.code, tested.stderr).toBe(0);
      expect(JSON.parse(tested.stdout)).toMatchObject({ state: 'succeeded', lastStatus: 200 });
      expect(verifySignature(secret, header(r.got[0]!, SIGNATURE_HEADER), r.got[0]!.body).ok).toBe(true);
      expect(createdDead.code, createdDead.stderr).toBe(0);
      const [dead, list] = await Promise.all([cli(['--home', h, 'webhooks', 'test', 'dead']), cli(['--home', h, 'webhooks', 'list'])]);
      expect(dead.code).toBe(1);
      expect(dead.stdout).toMatch(/state\s+failed/);
      expect(dead.stdout).toMatch(/ECONNREFUSED/);
      expect(list.stdout).toMatch(/local-hook.*model=diabetes/);
    } finally {
      fs.rmSync(h, { recursive: true, force: true });
    }
  }, 180_000);
});
