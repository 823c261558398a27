import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/index.js';
import { EventBus, EventLog, type DomainEvent } from '../../src/events/index.js';
import { migrateToLatest, openDatabase, type MetadataDb } from '../../src/storage/db/index.js';
import { DeliveryRunner, KyselyWebhookStore, WebhookDeliverer, WebhookService, type NewDelivery } from '../../src/webhooks/index.js';
import { afterFile, type StoreBackend } from '../helpers/backends.js';

const SETTINGS = { ...resolveConfig({}, {}).webhooks, retryBaseMs: 20, retryMaxMs: 200, pollMs: 20, timeoutMs: 2000 };

/** A receiver counting what it gets, answering 200. */
async function receiver(): Promise<{ url: string; bodies: Array<{ id: string; event: { seq: number; type: string } }>; close(): Promise<void> }> {
  const bodies: Array<{ id: string; event: { seq: number; type: string } }> = [];
  const server = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(b) as (typeof bodies)[number]);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

function modelEvent(seq: number, model: string): DomainEvent {
  return { seq, type: 'model.created', time: Date.now(), model, runId: null, experimentId: null, endpoint: null, payload: { model }, actor: null };
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The webhook store suite, run on every metadata backend. "Two servers" are two store instances
 * on separate connections (their own Postgres pools, their own SQLite connections) over one
 * database: an event seen by both makes one delivery, and a due delivery is claimed by one of
 * them only, whatever the interleaving.
 */
export function describeWebhookStoreConformance(backend: StoreBackend): void {
  describe(`webhook store on ${backend.label}`, () => {
    let a!: MetadataDb;
    let b!: MetadataDb;
    let storeA!: KyselyWebhookStore;
    let storeB!: KyselyWebhookStore;
    let service!: WebhookService;
    let recv!: Awaited<ReturnType<typeof receiver>>;

    beforeAll(async () => {
      const url = await backend.freshDatabaseUrl();
      a = openDatabase(url);
      await migrateToLatest(a);
      b = openDatabase(url);
      afterFile(async () => {
        await a.close();
        await b.close();
      });
      storeA = new KyselyWebhookStore(a);
      storeB = new KyselyWebhookStore(b);
      service = new WebhookService(storeA, SETTINGS);
      recv = await receiver();
    });
    afterAll(async () => recv?.close());

    const delivery = (webhookId: string, seq: number | null, id: string): NewDelivery => ({
      id,
      webhookId,
      eventSeq: seq,
      event: { seq, type: 'model.created', time: 1, model: 'm', run_id: null, experiment_id: null, endpoint: null, payload: { model: 'm' }, actor: null },
      maxAttempts: 3,
      now: Date.now(),
    });

    it('creates, finds by id or name, lists without secrets, refuses a taken name, enables, disables and deletes', async () => {
      const { webhook, secret } = await service.createWebhook({ name: 'crud', url: recv.url, events: ['model.*', 'rollout.rolled_back'], filter: { model: 'diabetes' } });
      expect(webhook).toMatchObject({ name: 'crud', events: ['model.*', 'rollout.rolled_back'], filter: { model: 'diabetes', endpoint: null }, format: 'fluxops', enabled: true });
      expect(webhook.id).toMatch(/^wh-[0-9a-f]{12}$/);
      expect(secret).toMatch(/^whsec_/);
      expect(webhook).not.toHaveProperty('secret');
      expect(await service.getWebhook('crud')).toEqual(webhook);
      expect(await service.getWebhook(webhook.id)).toEqual(webhook);
      expect((await service.listWebhooks()).find((w) => w.id === webhook.id)).not.toHaveProperty('secret');
      await expect(service.createWebhook({ name: 'crud', url: recv.url, events: '*' })).rejects.toMatchObject({ code: 'RESOURCE_ALREADY_EXISTS' });
      expect((await service.setWebhookEnabled('crud', false)).enabled).toBe(false);
      expect((await storeB.enabled()).some((w) => w.id === webhook.id)).toBe(false);
      expect((await service.setWebhookEnabled('crud', true)).enabled).toBe(true);
      await storeA.enqueue([delivery(webhook.id, 1, 'whd-00000000000000c1')]);
      await service.deleteWebhook('crud');
      await expect(service.getWebhook('crud')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
      expect(await storeB.getDelivery('whd-00000000000000c1')).toBeUndefined();
    });

    it('refuses bad input naming the field', async () => {
      const base = { name: 'bad', url: recv.url, events: 'model.*' };
      const field = (input: Record<string, unknown>) => service.createWebhook({ ...base, ...input }).then(() => undefined, (e: { details?: { field?: string } }) => e.details?.field);
      expect(await field({ url: 'ftp://example.com/x' })).toBe('url');
      expect(await field({ url: 'not a url' })).toBe('url');
      expect(await field({ events: 'modle.*' })).toBe('events');
      expect(await field({ events: [] })).toBe('events');
      expect(await field({ events: 'Model.Created' })).toBe('events');
      expect(await field({ format: 'teams' })).toBe('format');
      expect(await field({ name: 'has space' })).toBe('name');
      expect(await field({ secret: 'short' })).toBe('secret');
      expect(await field({ filter: { run: 'x' } })).toBe('filter.run');
    });

    it('one event seen by two servers makes one delivery', async () => {
      const { webhook } = await service.createWebhook({ name: 'once', url: recv.url, events: '*' });
      const rows = (id: string) => [delivery(webhook.id, 4242, id)];
      // Both fan-outs at the same moment, each on its own connection.
      const added = await Promise.all([storeA.enqueue(rows('whd-00000000000000a1')), storeB.enqueue(rows('whd-00000000000000b1'))]);
      expect(added[0] + added[1]).toBe(1);
      expect(await storeA.enqueue(rows('whd-00000000000000a2'))).toBe(0);
      const list = await storeB.deliveries(webhook.id, { limit: 100 });
      expect(list.map((d) => d.eventSeq)).toEqual([4242]);
      // Test deliveries have no event: any number of them.
      await storeA.enqueue([delivery(webhook.id, null, 'whd-00000000000000a3'), delivery(webhook.id, null, 'whd-00000000000000a4')]);
      expect((await storeB.deliveries(webhook.id, { limit: 100 })).length).toBe(3);
      await service.deleteWebhook(webhook.id);
    });

    it('claims never overlap: every due delivery is claimed by exactly one of two racing servers', async () => {
      const { webhook } = await service.createWebhook({ name: 'race', url: recv.url, events: '*' });
      const n = 60;
      await storeA.enqueue(Array.from({ length: n }, (_, i) => delivery(webhook.id, 10_000 + i, `whd-${(0xd000 + i).toString(16).padStart(16, '0')}`)));
      const claimedBy: Record<string, string[]> = { a: [], b: [] };
      const racer = async (name: 'a' | 'b', store: KyselyWebhookStore) => {
        for (let empty = 0; empty < 3; ) {
          const now = Date.now();
          const got = await store.claim(name, now, now + 60_000, 4);
          if (got.length === 0) empty++;
          for (const d of got) {
            expect(d.leaseOwner).toBe(name);
            expect(d.attempts).toBe(1);
            claimedBy[name]!.push(d.id);
          }
        }
      };
      await Promise.all([racer('a', storeA), racer('b', storeB), racer('a', storeA), racer('b', storeB)]);
      const all = [...claimedBy.a!, ...claimedBy.b!];
      expect(all.length).toBe(n);
      expect(new Set(all).size).toBe(n);
      // A held lease is not claimed again.
      expect(await storeB.claim('c', Date.now(), Date.now() + 1000, 100)).toEqual([]);
      await service.deleteWebhook(webhook.id);
    });

    it('an expired lease is taken over; the old holder can no longer record; release gives the attempt back', async () => {
      const { webhook } = await service.createWebhook({ name: 'lease', url: recv.url, events: '*' });
      await storeA.enqueue([delivery(webhook.id, 777, 'whd-0000000000000777')]);
      const now = Date.now();
      const [first] = await storeA.claim('a', now, now + 30, 10);
      expect(first).toMatchObject({ id: 'whd-0000000000000777', attempts: 1, state: 'delivering' });
      expect(await storeB.claim('b', now + 10, now + 10_000, 10)).toEqual([]);
      const [second] = await storeB.claim('b', now + 31, now + 10_000, 10);
      expect(second).toMatchObject({ id: 'whd-0000000000000777', attempts: 2, leaseOwner: 'b' });
      const outcome = { state: 'pending' as const, nextAttemptAt: now, status: 500, response: 'no', error: 'HTTP 500', history: [], now };
      expect(await storeA.record(first!.id, 'a', 1, outcome)).toBe(false);
      expect(await storeB.release(second!.id, 'b', 2, Date.now())).toBe(true);
      const back = await storeA.getDelivery(first!.id);
      expect(back).toMatchObject({ state: 'pending', attempts: 1 });
      const [third] = await storeA.claim('a', Date.now(), Date.now() + 10_000, 10);
      expect(third).toMatchObject({ attempts: 2 });
      expect(await storeA.record(third!.id, 'a', 2, { ...outcome, state: 'succeeded', status: 200, error: null })).toBe(true);
      expect(await storeB.getDelivery(first!.id)).toMatchObject({ state: 'succeeded', lastStatus: 200, finishedAt: expect.any(Number) as number });
      await service.deleteWebhook(webhook.id);
    });

    it('a delivery whose last allowed attempt was claimed by a sender that died is failed, not sent again', async () => {
      const { webhook } = await service.createWebhook({ name: 'spent', url: recv.url, events: '*' });
      await storeA.enqueue([{ ...delivery(webhook.id, 888, 'whd-0000000000000888'), maxAttempts: 1 }]);
      const now = Date.now();
      const [first] = await storeA.claim('dead-server', now, now + 20, 10);
      expect(first).toMatchObject({ attempts: 1 });
      // dead-server never records; its lease runs out and server b takes the delivery over.
      const [taken] = await storeB.claim('b', now + 21, now + 10_000, 10);
      expect(taken).toMatchObject({ attempts: 2, maxAttempts: 1 });
      const before = recv.bodies.length;
      const done = await new DeliveryRunner(storeB, SETTINGS).run(taken!);
      expect(done).toMatchObject({ state: 'failed', lastError: expect.stringMatching(/stopped before recording/) as string });
      expect(recv.bodies.length).toBe(before);
      expect(await storeA.getDelivery(taken!.id)).toMatchObject({ state: 'failed' });
      await service.deleteWebhook(webhook.id);
    });

    it('the fan-out cursor only moves forward', async () => {
      const start = await storeA.cursor();
      await storeA.advanceCursor(start + 10);
      await storeB.advanceCursor(start + 5);
      expect(await storeB.cursor()).toBe(start + 10);
    });

    it('two deliverers on separate connections hearing the same events send each delivery once', async () => {
      const { webhook } = await service.createWebhook({ name: 'two-deliverers', url: recv.url, events: 'model.created', filter: { model: 'wanted' } });
      const busA = new EventBus();
      const busB = new EventBus();
      const da = new WebhookDeliverer(storeA, busA, new EventLog(a), SETTINGS, undefined, { owner: 'server-a' });
      const db = new WebhookDeliverer(storeB, busB, new EventLog(b), SETTINGS, undefined, { owner: 'server-b' });
      await da.start();
      await db.start();
      try {
        const before = recv.bodies.length;
        // Events far above any real seq, as both servers' dispatchers would hand them over.
        const events = [modelEvent(900_001, 'wanted'), modelEvent(900_002, 'other'), modelEvent(900_003, 'wanted'), modelEvent(900_004, 'wanted')];
        for (const e of events) await Promise.all([busA.deliver(e), busB.deliver(e)]);
        await waitFor(async () => (await storeA.deliveries(webhook.id, { limit: 100 })).every((d) => d.state === 'succeeded') && recv.bodies.length - before >= 3);
        await new Promise((r) => setTimeout(r, 200));
        await Promise.all([da.idle(), db.idle()]);
        const got = recv.bodies.slice(before);
        expect(got.map((x) => x.event.seq).sort()).toEqual([900_001, 900_003, 900_004]);
        const list = await storeB.deliveries(webhook.id, { limit: 100 });
        expect(list.map((d) => [d.eventSeq, d.state, d.attempts])).toEqual([
          [900_004, 'succeeded', 1],
          [900_003, 'succeeded', 1],
          [900_001, 'succeeded', 1],
        ]);
        expect(new Set(got.map((x) => x.id)).size).toBe(3);
      } finally {
        await da.stop();
        await db.stop();
        await service.deleteWebhook(webhook.id);
      }
    });
  });
}
