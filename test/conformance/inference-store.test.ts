import { describe, expect, it } from 'vitest';
import { InferenceLog, type InferenceStore, type NewInference, type PendingInference } from '../../src/monitoring/index.js';
import { storeBackends } from '../helpers/backends.js';

function row(i: number, over: Partial<NewInference> = {}): NewInference {
  return {
    endpoint: 'diabetes-prod',
    deployment: i % 2 === 0 ? 'blue' : 'green',
    requestId: `req-${i}`,
    time: 1_000_000 + i * 1000,
    model: 'diabetes',
    version: '1',
    status: 200,
    latencyMs: 1.5,
    rows: 1,
    inputs: JSON.stringify({ inputs: [{ BMI: 20 + i, Age: 30 }] }),
    outputs: JSON.stringify({ predictions: [i % 2], probabilities: [[0.4, 0.6]], classes: [0, 1] }),
    error: null,
    ...over,
  };
}

/** Records of a window, counted through the port's listing. */
const count = async (s: InferenceStore, q: { endpoint: string; okOnly?: boolean }): Promise<number> => (await s.list({ ...q, limit: 1_000_000 })).length;

/** The inference table's port, once per backend: batches, windows, paging, labels, retention. */
for (const backend of storeBackends()) {
  describe(`inference store (${backend.label})`, () => {
    const open = async (): Promise<InferenceStore> => (await backend.open()).inferenceStore;

    it('writes a batch larger than one statement and reads windows in write order, filtered', async () => {
      const s = await open();
      await s.insertBatch(Array.from({ length: 600 }, (_, i) => row(i)));
      await s.insertBatch([row(600, { endpoint: 'other', requestId: 'x' }), row(601, { status: 500, outputs: null, error: 'boom' })]);
      const all = await s.list({ endpoint: 'diabetes-prod', limit: 10_000 });
      expect(all).toHaveLength(601);
      expect(all.map((r) => r.seq)).toEqual([...all.map((r) => r.seq)].sort((a, b) => a - b));
      expect(all[3]).toMatchObject({ requestId: 'req-3', deployment: 'green', version: '1', status: 200, latencyMs: 1.5, rows: 1, inputs: { inputs: [{ BMI: 23, Age: 30 }] }, outputs: { predictions: [1], classes: [0, 1] }, error: null });
      expect(all.at(-1)).toMatchObject({ status: 500, outputs: null, error: 'boom' });
      const window = await s.list({ endpoint: 'diabetes-prod', since: 1_000_000 + 100_000, until: 1_000_000 + 200_000, okOnly: true, limit: 10_000 });
      expect(window.map((r) => r.requestId)).toEqual(Array.from({ length: 100 }, (_, i) => `req-${i + 100}`));
      expect(await count(s, { endpoint: 'diabetes-prod', okOnly: true })).toBe(600);
      expect((await s.list({ endpoint: 'diabetes-prod', deployment: 'green', limit: 10_000 })).every((r) => r.deployment === 'green')).toBe(true);
      // Paging newest first by seq.
      const page1 = await s.list({ endpoint: 'diabetes-prod', limit: 10, newestFirst: true });
      const page2 = await s.list({ endpoint: 'diabetes-prod', limit: 10, newestFirst: true, afterSeq: page1.at(-1)!.seq });
      expect(page1[0]!.requestId).toBe('req-601');
      expect(page2[0]!.seq).toBe(page1.at(-1)!.seq - 1);
      expect(await s.endpoints()).toEqual(['diabetes-prod', 'other']);
    });

    it('upserts labels by request id and row, says how many name logged requests, and reads them back', async () => {
      const s = await open();
      await s.insertBatch([row(1), row(2)]);
      const r = await s.putLabels('diabetes-prod', [
        { requestId: 'req-1', row: 0, label: 1 },
        { requestId: 'req-2', row: 0, label: 'yes' },
        { requestId: 'not-logged', row: 0, label: 0 },
      ], 5);
      expect(r).toEqual({ written: 3, matched: 2 });
      await s.putLabels('diabetes-prod', [{ requestId: 'req-1', row: 0, label: 0 }], 6);
      const got = await s.labelsOf('diabetes-prod', ['req-1', 'req-2', 'absent']);
      expect(got.get('req-1')?.get(0)).toBe(0);
      expect(got.get('req-2')?.get(0)).toBe('yes');
      expect(got.has('absent')).toBe(false);
      expect((await s.labelsOf('other', ['req-1'])).size).toBe(0);
    });

    it('retention deletes the batches wholly older than the bound, of that endpoint', async () => {
      const s = await open();
      await s.insertBatch(Array.from({ length: 20 }, (_, i) => row(i)));
      await s.insertBatch(Array.from({ length: 30 }, (_, i) => row(20 + i)));
      await s.insertBatch([row(0, { endpoint: 'other' })]);
      // The first batch ends at 19 s, the second at 49 s: a bound at 25 s takes the first only.
      expect(await s.deleteOlderThan('diabetes-prod', 1_000_000 + 25_000)).toBe(20);
      expect(await count(s, { endpoint: 'diabetes-prod' })).toBe(30);
      expect(await count(s, { endpoint: 'other' })).toBe(1);
    });

    it('sums requests, errors and latency of a window from the batches that overlap it', async () => {
      const s = await open();
      await s.insertBatch(Array.from({ length: 10 }, (_, i) => row(i, { latencyMs: i < 8 ? 2 : 800, status: i === 9 ? 503 : 200 })));
      await s.insertBatch([row(100, { endpoint: 'other', status: 500 })]);
      expect(await s.aggregate('diabetes-prod', 0, 10_000_000, 500)).toEqual({ count: 10, errors: 1, slow: 2 });
      expect(await s.aggregate('diabetes-prod', 5_000_000, 10_000_000)).toEqual({ count: 0, errors: 0, slow: 0 });
      const h = await s.latencyHistogram('diabetes-prod', 0, 10_000_000);
      expect(h.counts.reduce((a, b) => a + b, 0)).toBe(10);
      expect(h.counts[h.boundsMs.indexOf(2.5)]).toBe(8);
      expect(h.counts[h.boundsMs.indexOf(1000)]).toBe(2);
    });

    it('the inference log writes what it samples in batches and counts what it drops by reason', async () => {
      const s = await open();
      const log = new InferenceLog(s, { flushMs: 10_000, maxQueue: 100, batchMax: 1000 });
      const p = (i: number): PendingInference => ({ endpoint: 'e', deployment: 'd', requestId: `r${i}`, time: 2_000_000 + i, model: 'm', version: '1', status: 200, latencyMs: 1, body: { inputs: [{ a: i }] }, result: { predictions: [0] }, error: null });
      for (let i = 0; i < 150; i++) log.record(p(i), 1);
      for (let i = 0; i < 1000; i++) log.record(p(1000 + i), 0);
      expect(log.stats().queued).toBe(100);
      expect(log.stats().dropped.get('e\u0000queue_full')).toBe(50);
      await log.drain();
      expect(await count(s, { endpoint: 'e' })).toBe(100);
      expect(log.stats().written.get('e')).toBe(100);
      const [first] = await s.list({ endpoint: 'e', limit: 1 });
      expect(first).toMatchObject({ requestId: 'r0', rows: 1, inputs: { inputs: [{ a: 0 }] }, outputs: { predictions: [0] } });
      await log.stop();
    });
  });
}

describe('inference log back-pressure', () => {
  it('halves sampling while writing is slow, drops a batch that keeps failing as write_error, and recovers', async () => {
    let fail = true;
    let delay = 0;
    const written: NewInference[] = [];
    const store = {
      insertBatch: async (rows: NewInference[]) => {
        await new Promise((r) => setTimeout(r, delay));
        if (fail) throw new Error('disk I/O error');
        written.push(...rows);
      },
    } as unknown as InferenceStore;
    const log = new InferenceLog(store, { flushMs: 5, maxQueue: 10_000 });
    const p = (i: number): PendingInference => ({ endpoint: 'e', deployment: 'd', requestId: `r${i}`, time: i, model: 'm', version: '1', status: 200, latencyMs: 1, body: {}, result: undefined, error: 'x' });
    for (let i = 0; i < 10; i++) log.record(p(i), 1);
    for (let k = 0; k < 3; k++) await log.drain();
    expect(log.stats().dropped.get('e\u0000write_error')).toBe(10);
    expect(log.stats().pressure).toBeLessThan(1);
    fail = false;
    delay = 20;
    // A flush slower than the interval keeps the factor down; fast ones bring it back to 1.
    for (let i = 0; i < 200; i++) log.record(p(i), 1);
    await log.drain();
    expect(log.stats().pressure).toBeLessThan(1);
    delay = 0;
    // Fast flushes bring it back; a loaded machine can make some of them slow, so allow a few dozen.
    for (let k = 0; k < 40 && log.stats().pressure < 1; k++) {
      log.record(p(k), 1);
      await log.drain();
    }
    expect(log.stats().pressure).toBe(1);
    expect(log.stats().dropped.get('e\u0000backpressure') ?? 0).toBeGreaterThan(0);
    await log.stop();
  });
});
