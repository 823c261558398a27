import { describe, expect, it } from 'vitest';
import { bucketUpperMs, compactClasses, latencyBucket, mergeParts } from '../../src/rollouts/index.js';
import { DeploymentStats } from '../../src/serving/index.js';

describe('rollout window parts', () => {
  it('puts a latency in a bucket whose upper bound is at most 5 % above it', () => {
    for (const ms of [0.001, 0.01, 0.0101, 0.5, 1, 3.3, 49.9, 50, 1234.5, 60_000]) {
      const b = latencyBucket(ms);
      expect(bucketUpperMs(b)).toBeGreaterThanOrEqual(Math.min(ms, 0.01) - 1e-12);
      if (ms > 0.01) {
        expect(bucketUpperMs(b)).toBeGreaterThanOrEqual(ms * (1 - 1e-9));
        expect(bucketUpperMs(b)).toBeLessThanOrEqual(ms * 1.05 + 1e-12);
        expect(bucketUpperMs(b - 1)).toBeLessThan(ms);
      }
    }
  });

  it('adds the parts of several servers into the window of all their requests', () => {
    const servers = [new DeploymentStats(), new DeploymentStats(), new DeploymentStats()];
    const all = new DeploymentStats();
    const t = 1_000_000;
    for (let i = 0; i < 3000; i++) {
      const ms = 0.2 + ((i * 7919) % 1000) / 10; // 0.2 … 100 ms
      const ok = i % 50 !== 0;
      const label = [i % 3 === 0 ? 1 : 0];
      servers[i % 3]!.record(ms, ok, label, t + i);
      all.record(ms, ok, label, t + i);
    }
    const merged = mergeParts(servers.map((s) => s.part(t).part));
    const one = all.window(t);
    expect(merged).toEqual({ requests: one.requests, errors: one.errors, errorRate: one.errorRate, p50Ms: one.p50Ms, p95Ms: one.p95Ms, p99Ms: one.p99Ms, classes: one.classes });
    expect(merged.requests).toBe(3000);
    expect(merged.errors).toBe(60);
    expect(merged.classes).toEqual({ '0': 2000, '1': 1000 });
    // The exact p99 of the values recorded is 99.0 ms; the histogram's is its bucket's upper bound.
    expect(merged.p99Ms).toBeGreaterThanOrEqual(99);
    expect(merged.p99Ms).toBeLessThanOrEqual(99 * 1.05);
    // Requests before the window's start are not in it.
    expect(mergeParts(servers.map((s) => s.part(t + 1500).part)).requests).toBe(1500);
  });

  it('rounds a regressor\'s many distinct scores for storage, and leaves classes alone', () => {
    const scores: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) scores[String(100 + i / 997)] = 1;
    const compact = compactClasses(scores);
    expect(Object.keys(compact).length).toBeLessThan(600);
    expect(Object.values(compact).reduce((a, b) => a + b, 0)).toBe(5000);
    const classes = { setosa: 3, versicolor: 4 };
    expect(compactClasses(classes)).toBe(classes);
  });
});
