import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import type { Prediction } from '../../src/models/index.js';
import { MicroBatcher } from '../../src/serving/index.js';

/**
 * The micro-batcher against a predictor whose answers are a function of each row (so a row handed
 * the wrong slice of a batch is caught) and whose run time the test controls.
 */
class RowPredictor {
  readonly kind = 'classifier' as const;
  readonly classes = [0, 1];
  readonly inputNames = ['a', 'b'];
  calls: number[] = [];
  /** Resolves runs when the test says (release), or at once when `auto`. */
  private pending: Array<() => void> = [];
  constructor(
    private readonly auto = true,
    private readonly fail = false,
  ) {}
  predictMatrix(X: Float64Array, n: number): Promise<Prediction> {
    this.calls.push(n);
    const run = (): Prediction => {
      if (this.fail) throw new Error('model exploded');
      const labels: number[] = [];
      const probabilities = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        const p = X[i * 2]! / 1000;
        labels.push(p > 0.5 ? 1 : 0);
        probabilities[i * 2] = 1 - p;
        probabilities[i * 2 + 1] = p;
      }
      return { labels, probabilities };
    };
    if (this.auto) return Promise.resolve().then(run);
    return new Promise((resolve, reject) => {
      this.pending.push(() => {
        try {
          resolve(run());
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const r of p) r();
  }
}

const rows = (...values: number[]): Float64Array => Float64Array.from(values.flatMap((v) => [v, 0]));
const later = (ms = 1000) => performance.now() + ms;

describe('MicroBatcher', () => {
  it('runs a lone request at once, without waiting for companions that are not due', async () => {
    const p = new RowPredictor();
    const b = new MicroBatcher(p, { maxBatch: 32, maxWaitMs: 50 });
    const t0 = performance.now();
    const out = await b.submit(rows(700), 1, later());
    expect(performance.now() - t0).toBeLessThan(40);
    expect(out.labels).toEqual([1]);
    expect(Array.from(out.probabilities!)).toEqual([0.30000000000000004, 0.7]);
    expect(p.calls).toEqual([1]);
  });

  it('gathers requests that arrive while a batch runs into one call, each answered with its own rows', async () => {
    const p = new RowPredictor(false);
    const b = new MicroBatcher(p, { maxBatch: 100, maxWaitMs: 0 });
    const first = b.submit(rows(100), 1, later());
    // The first runs at once; these wait for it and run together.
    const rest = [b.submit(rows(200, 900), 2, later()), b.submit(rows(300), 1, later()), b.submit(rows(800, 100, 600), 3, later())];
    expect(p.calls).toEqual([1]);
    p.release();
    expect((await first).labels).toEqual([0]);
    await new Promise((r) => setImmediate(r));
    expect(p.calls).toEqual([1, 6]);
    p.release();
    const [a, c, d] = await Promise.all(rest);
    expect(a!.labels).toEqual([0, 1]);
    expect(Array.from(a!.probabilities!)).toEqual([0.8, 0.2, 0.09999999999999998, 0.9]);
    expect(c!.labels).toEqual([0]);
    expect(d!.labels).toEqual([1, 0, 1]);
    expect(Array.from(d!.probabilities!).filter((_, i) => i % 2 === 1)).toEqual([0.8, 0.1, 0.6]);
    expect(b.batches).toBe(2);
    expect(b.batchedRows).toBe(7);
  });

  it('never puts more than maxBatch rows in a call, but runs a larger request alone', async () => {
    const p = new RowPredictor(false);
    const b = new MicroBatcher(p, { maxBatch: 4, maxWaitMs: 0 });
    const all = [b.submit(rows(1), 1, later())];
    for (let i = 0; i < 9; i++) all.push(b.submit(rows(i, i), 2, later()));
    all.push(b.submit(rows(1, 2, 3, 4, 5, 6), 6, later()));
    for (let i = 0; i < 10 && p.calls.length < 7; i++) {
      p.release();
      await new Promise((r) => setImmediate(r));
    }
    p.release();
    await Promise.all(all);
    expect(p.calls.slice(0, 6)).toEqual([1, 4, 4, 4, 4, 2]);
    expect(p.calls.at(-1)).toBe(6);
  });

  it('waits up to maxWaitMs for companions when arrivals are frequent, and a full batch runs at once', async () => {
    const p = new RowPredictor();
    const b = new MicroBatcher(p, { maxBatch: 8, maxWaitMs: 30 });
    // Frequent arrivals teach it that companions are due.
    for (let i = 0; i < 8; i++) await b.submit(rows(1), 1, later());
    p.calls = [];
    const burst = Array.from({ length: 8 }, () => b.submit(rows(1), 1, later()));
    await Promise.all(burst);
    expect(p.calls).toEqual([8]);
  });

  it('answers 503 at the deadline to requests running or queued on a predictor that never answers', async () => {
    const p = new RowPredictor(false);
    const b = new MicroBatcher(p, { maxBatch: 10, maxWaitMs: 0 });
    const t0 = performance.now();
    const running = b.submit(rows(1), 1, performance.now() + 60);
    const queued = b.submit(rows(1), 1, performance.now() + 120);
    await expect(running).rejects.toMatchObject({ code: 'TEMPORARILY_UNAVAILABLE', httpStatus: 503 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    await expect(queued).rejects.toThrow(/deadline/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('refuses at once a request that batches are too slow to answer before its deadline', async () => {
    const p = new RowPredictor(false);
    const b = new MicroBatcher(p, { maxBatch: 1, maxWaitMs: 0 });
    // Teach it that a batch takes about 80 ms.
    const slow = b.submit(rows(1), 1, later());
    await new Promise((r) => setTimeout(r, 80));
    p.release();
    await slow;
    const blocker = b.submit(rows(1), 1, later());
    const hopeless = b.submit(rows(1), 1, performance.now() + 20);
    await new Promise((r) => setTimeout(r, 5));
    p.release();
    await blocker;
    await expect(hopeless).rejects.toThrow(/cannot be answered before its deadline/);
  });

  it('refuses requests beyond a full queue, fails a whole batch with its error, and drains with 503', async () => {
    const p = new RowPredictor(false);
    const b = new MicroBatcher(p, { maxBatch: 1, maxWaitMs: 0 });
    const first = b.submit(rows(1), 1, later());
    const queued = Array.from({ length: 64 }, () => b.submit(rows(1), 1, later()));
    await expect(b.submit(rows(1), 1, later())).rejects.toThrow(/queue is full/);
    b.drain('the deployment was replaced');
    for (const q of queued) await expect(q).rejects.toThrow('the deployment was replaced');
    p.release();
    await first;

    const broken = new MicroBatcher(new RowPredictor(true, true), { maxBatch: 10, maxWaitMs: 0 });
    const e = await broken.submit(rows(1), 1, later()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(FluxError);
    expect((e as Error).message).toBe('model exploded');
  });
});
