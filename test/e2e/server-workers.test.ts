/**
 * `fluxops server --workers 2`: two serving processes on one port, both answering; a worker
 * killed with SIGKILL is replaced and requests keep being answered; SIGINT stops them all.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform } from '../../src/platform.js';
import { assertBuilt, startCli, stop } from '../helpers/cli.js';
import { SAMPLE, freshHome, seedModel } from '../helpers/server.js';

describe('fluxops server --workers', () => {
  const home = freshHome('fluxops-workers-');
  let key = '';
  beforeAll(async () => {
    assertBuilt();
    const p = await openPlatform({ home });
    try {
      await seedModel(p);
      key = (await p.keys.create('scorer', { role: 'predict' })).key;
    } finally {
      await p.close();
    }
  }, 120_000);
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  /** One prediction on a new connection; the worker that answered. */
  const predictOn = async (url: string): Promise<string> => {
    const res = await fetch(`${url}/api/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ inputs: [SAMPLE] }),
      // A connection node:cluster hands to a worker in the instant it dies is lost (the
      // primary never hears it was taken); the client gives up on it and tries again.
      signal: AbortSignal.timeout(3000),
    });
    expect(res.status).toBe(200);
    return res.headers.get('x-fluxops-worker')!;
  };

  it('serves from every worker on one port, and replaces a worker that dies', async () => {
    const s = await startCli(['--home', home, 'server', '--port', '0', '--workers', '2'], /listening on (http:\/\/\S+)[\s\S]*serving with 2 worker processes \(pids (\d+), (\d+)\)/);
    try {
      const url = s.match[1]!;
      const pids = [s.match[2]!, s.match[3]!];
      const predict = () => predictOn(url);
      let lost = 0;
      const tryPredict = async (): Promise<string | undefined> => {
        try {
          return await predict();
        } catch {
          lost++;
          return undefined;
        }
      };
      const seen = new Set<string>();
      for (let i = 0; i < 40 && seen.size < 2; i++) {
        const w = await tryPredict();
        if (w !== undefined) seen.add(w);
      }
      expect(seen).toEqual(new Set(pids));
      expect(lost).toBe(0);

      process.kill(Number(pids[0]), 'SIGKILL');
      // Requests keep being answered while the dead worker is replaced.
      const after = new Set<string>();
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && after.size < 2) {
        const w = await tryPredict();
        if (w !== undefined) after.add(w);
        await new Promise((r) => setTimeout(r, 20));
      }
      // At most the connections in flight to the killed worker are lost.
      expect(lost).toBeLessThanOrEqual(2);
      expect(after.has(pids[1]!)).toBe(true);
      expect(after.size).toBe(2);
      expect(after.has(pids[0]!)).toBe(false);
    } finally {
      expect(await stop(s.child)).toBe(0);
    }
  }, 90_000);

  it('answers /metrics on any worker for all of them (the primary adds the workers up)', async () => {
    const s = await startCli(['--home', home, 'server', '--port', '0', '--workers', '2'], /listening on (http:\/\/\S+)[\s\S]*serving with 2 worker processes/);
    try {
      const url = s.match[1]!;
      const byWorker = new Map<string, number>();
      for (let i = 0; i < 40; i++) {
        const w = await predictOn(url);
        byWorker.set(w, (byWorker.get(w) ?? 0) + 1);
      }
      expect(byWorker.size).toBe(2);
      const seenFrom = new Set<string>();
      for (let i = 0; i < 20 && seenFrom.size < 2; i++) {
        const res = await fetch(`${url}/metrics`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(8000) });
        expect(res.status).toBe(200);
        seenFrom.add(res.headers.get('x-fluxops-worker')!);
        const text = await res.text();
        const served = Number(/fluxops_http_requests_total\{method="POST",route="\/api\/predict",status="200"\} (\d+)/.exec(text)?.[1]);
        // Each worker served fewer than 40; every scrape counts all 40.
        expect(served).toBe(40);
      }
      expect(seenFrom.size).toBe(2);
    } finally {
      expect(await stop(s.child)).toBe(0);
    }
  }, 90_000);
});
