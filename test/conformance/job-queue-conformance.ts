import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { JobWorker, openJobQueue, type ClaimedJob, type JobQueue } from '../../src/jobs/index.js';
import { migrateToLatest, openDatabase, type MetadataDb } from '../../src/storage/db/index.js';
import type { StoreBackend } from '../helpers/backends.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The job queue port, held to one contract on every backend: the embedded queue on SQLite and
 * pg-boss on Postgres. Several instances over one database (each its own connections) stand
 * for several worker processes.
 */
export function describeJobQueueConformance(backend: StoreBackend): void {
  describe(`job queue conformance (${backend.label})`, () => {
    const opened: Array<{ q: JobQueue; m: MetadataDb }> = [];
    let url = '';
    /** Each test starts on its own empty database, so a job one test leaves cannot reach another. */
    beforeEach(() => {
      url = '';
    });
    afterAll(async () => {
      for (const { q, m } of opened.reverse()) {
        await q.close();
        await m.close();
      }
    });
    async function queue(): Promise<JobQueue> {
      if (url === '') {
        url = await backend.freshDatabaseUrl();
        const m = openDatabase(url);
        await migrateToLatest(m);
        await m.close();
      }
      const m = openDatabase(url);
      const q = await openJobQueue(m, { databaseUrl: url, superviseSeconds: 1 });
      await q.start();
      opened.push({ q, m });
      return q;
    }
    /** Claims until one comes (pg-boss's start_after is `< now()`, so a job just sent may wait a tick). */
    async function claimOne(q: JobQueue, leaseMs = 5000, waitMs = 3000): Promise<ClaimedJob | undefined> {
      const until = Date.now() + waitMs;
      for (;;) {
        const j = await q.claim('w', leaseMs);
        if (j !== undefined || Date.now() > until) return j;
        await sleep(25);
      }
    }

    it('runs a job through enqueue, claim and complete, and keeps its output', async () => {
      const q = await queue();
      const id = await q.enqueue({ kind: 'echo', data: { n: 1 } });
      expect((await q.get(id))?.state).toBe('queued');
      const job = await claimOne(q);
      expect(job).toMatchObject({ id, kind: 'echo', data: { n: 1 }, attempt: 1 });
      expect((await q.get(id))?.state).toBe('active');
      expect(await q.complete(job!, { answer: 42 })).toBe(true);
      const rec = await q.get(id);
      expect(rec).toMatchObject({ state: 'completed', output: { answer: 42 }, attempts: 1 });
      expect(await q.complete(job!, { answer: 43 })).toBe(false);
    });

    it('enqueues a chosen id once', async () => {
      const q = await queue();
      const id = crypto.randomUUID();
      expect(await q.enqueue({ kind: 'once', data: { a: 1 }, id })).toBe(id);
      expect(await q.enqueue({ kind: 'once', data: { a: 2 }, id })).toBe(id);
      const job = await claimOne(q);
      expect(job?.data).toEqual({ a: 1 });
      await q.complete(job!, {});
      expect(await claimOne(q, 5000, 300)).toBeUndefined();
    });

    it('hands each job to exactly one of several claimers racing on separate connections', async () => {
      const qs = [await queue(), await queue(), await queue()];
      const ids = new Set<string>();
      for (let i = 0; i < 60; i++) ids.add(await qs[i % 3]!.enqueue({ kind: 'race', data: { i } }));
      await sleep(50);
      const claimed: string[] = [];
      await Promise.all(
        qs.flatMap((q) =>
          [0, 1].map(async () => {
            for (let idle = 0; idle < 20; ) {
              const j = await q.claim('w', 5000);
              if (j === undefined) {
                idle++;
                await sleep(20);
                continue;
              }
              if (j.kind !== 'race') continue;
              claimed.push(j.id);
              await q.complete(j, {});
            }
          }),
        ),
      );
      expect(claimed.length).toBe(60);
      expect(new Set(claimed)).toEqual(ids);
    });

    it('retries a failed attempt up to the limit, then fails it with the reason', async () => {
      const q = await queue();
      const id = await q.enqueue({ kind: 'flaky', data: {}, retryLimit: 2 });
      for (let attempt = 1; attempt <= 3; attempt++) {
        const j = await claimOne(q);
        expect(j).toMatchObject({ id, attempt });
        expect(await q.fail(j!, `boom ${attempt}`)).toBe(true);
      }
      const rec = await q.get(id);
      expect(rec).toMatchObject({ state: 'failed', attempts: 3, error: 'boom 3' });
      expect(await claimOne(q, 5000, 300)).toBeUndefined();
    });

    it('waits the retry delay before the next attempt', async () => {
      const q = await queue();
      await q.enqueue({ kind: 'later', data: {}, retryLimit: 1, retryDelayMs: 1000 });
      const j = await claimOne(q);
      await q.fail(j!, 'once');
      expect(await q.claim('w', 5000)).toBeUndefined();
      const again = await claimOne(q, 5000, 4000);
      expect(again?.attempt).toBe(2);
      await q.complete(again!, {});
    });

    it('holds a job while its worker heartbeats, and retries it once the lease runs out', async () => {
      const q = await queue();
      const id = await q.enqueue({ kind: 'lease', data: {}, retryLimit: 1 });
      const j = await claimOne(q, 1000);
      for (let i = 0; i < 6; i++) {
        await sleep(300);
        expect(await q.heartbeat(j!, 1000)).toBe(true);
      }
      expect(await q.expire()).toBe(0);
      expect((await q.get(id))?.state).toBe('active');
      // The worker dies: no more heartbeats.
      await sleep(1300);
      // Expired by this call or by pg-boss's own supervisor, whichever comes first.
      await q.expire();
      await expect.poll(async () => (await q.get(id))?.state, { timeout: 3000 }).toBe('queued');
      const again = await claimOne(q);
      expect(again).toMatchObject({ id, attempt: 2 });
      // The first attempt's worker comes back: it holds nothing any more.
      expect(await q.heartbeat(j!, 1000)).toBe(false);
      expect(await q.complete(j!, { late: true })).toBe(false);
      expect(await q.complete(again!, { ok: true })).toBe(true);
      expect((await q.get(id))?.output).toEqual({ ok: true });
    });

    it('fails a job whose lease ran out on its last attempt, saying why', async () => {
      const q = await queue();
      const id = await q.enqueue({ kind: 'dies', data: {} });
      await claimOne(q, 300);
      await sleep(600);
      await q.expire();
      await expect.poll(async () => (await q.get(id))?.state, { timeout: 3000 }).toBe('failed');
      const rec = await q.get(id);
      expect(rec?.error).toMatch(/lease expired/);
    });

    it('cancels queued and active jobs; the holder of a cancelled job learns it at its next heartbeat', async () => {
      const q = await queue();
      const a = await q.enqueue({ kind: 'c', data: {} });
      expect(await q.cancel(a)).toBe(true);
      expect((await q.get(a))?.state).toBe('cancelled');
      expect(await q.cancel(a)).toBe(false);
      const b = await q.enqueue({ kind: 'c', data: {} });
      const j = await claimOne(q);
      expect(j?.id).toBe(b);
      expect(await q.cancel(b)).toBe(true);
      expect(await q.heartbeat(j!, 1000)).toBe(false);
      expect(await q.complete(j!, {})).toBe(false);
      expect((await q.get(b))?.state).toBe('cancelled');
    });

    it('takes a released job back without spending one of its retries, and fences the old holder', async () => {
      const q = await queue();
      const id = await q.enqueue({ kind: 'released', data: {} });
      const j = await claimOne(q);
      expect(await q.release(j!, 'its worker stopped')).toBe(true);
      const again = await claimOne(q);
      expect(again).toMatchObject({ id, attempt: 2 });
      expect(await q.heartbeat(j!, 1000)).toBe(false);
      // The retry limit was 0: the release gave one more, so a failure of this attempt is final.
      expect(await q.fail(again!, 'broke')).toBe(true);
      expect((await q.get(id))?.state).toBe('failed');
    });

    it('does not hand out a job before its start time', async () => {
      const q = await queue();
      const id = await q.enqueue({ kind: 'timed', data: {}, startAfter: Date.now() + 1200 });
      expect(await q.claim('w', 5000)).toBeUndefined();
      const j = await claimOne(q, 5000, 4000);
      expect(j?.id).toBe(id);
      await q.complete(j!, {});
    });

    it('runs jobs through JobWorker, aborting one that is cancelled while it runs', async () => {
      const q = await queue();
      const started = new Set<string>();
      let aborted = 0;
      const handlers = new Map([
        ['sum', async (job: ClaimedJob) => ({ sum: (job.data['a'] as number) + (job.data['b'] as number) })],
        [
          'forever',
          (job: ClaimedJob, ctx: { signal: AbortSignal }) =>
            new Promise<Record<string, unknown>>((_, reject) => {
              started.add(job.id);
              ctx.signal.addEventListener('abort', () => {
                aborted++;
                reject(new Error('aborted'));
              });
            }),
        ],
      ]);
      const worker = new JobWorker(q, handlers, { concurrency: 3, leaseMs: 600, pollMs: 50 });
      const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => q.enqueue({ kind: 'sum', data: { a: i, b: 1 } })));
      const long = await q.enqueue({ kind: 'forever', data: {} });
      worker.start();
      try {
        await expect.poll(async () => (await Promise.all(ids.map((id) => q.get(id)))).every((r) => r?.state === 'completed'), { timeout: 10_000 }).toBe(true);
        expect((await q.get(ids[3]!))?.output).toEqual({ sum: 4 });
        await expect.poll(() => started.has(long), { timeout: 5000 }).toBe(true);
        await q.cancel(long);
        await expect.poll(() => aborted, { timeout: 5000 }).toBe(1);
        expect((await q.get(long))?.state).toBe('cancelled');
      } finally {
        await worker.stop();
      }
    });
  });
}
