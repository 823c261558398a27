import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { COMMAND_JOB } from '../../src/jobs/index.js';
import { openPlatformOn, postgresBackend, tmpDir } from '../helpers/backends.js';
import { assertBuilt, startCli } from '../helpers/cli.js';

const pgUrl = inject('pgUrl');
const JOBS = 200;

/**
 * The must-show of the shared queue: two `fluxops worker` processes on one Postgres run 200
 * command jobs while one of them is killed with SIGKILL midway. Every job completes once, none
 * is lost, and the jobs the dead worker held are retried by the other once their lease ran out.
 * Each command appends "<job> <attempt> <worker>" to a ledger file when it ends, so the ledger
 * shows which attempts ran to the end.
 */
describe.skipIf(!pgUrl)('two fluxops workers on Postgres, one killed with SIGKILL', () => {
  it(`run ${JOBS} queued jobs with none lost and none completed twice`, async () => {
    assertBuilt();
    const url = await postgresBackend(pgUrl).freshDatabaseUrl();
    const platform = await openPlatformOn(url);
    const queue = await platform.jobs();
    const dir = tmpDir();
    const ledger = path.join(dir, 'ledger.txt');
    fs.writeFileSync(ledger, '');
    const ids = new Set<string>();
    for (let i = 0; i < JOBS; i++) {
      ids.add(await queue.enqueue({ kind: COMMAND_JOB, data: { command: `sleep 0.05 && echo "$FLUXOPS_JOB_ID $FLUXOPS_JOB_ATTEMPT $FLUXOPS_WORKER" >> ${ledger}`, cwd: dir }, retryLimit: 3 }));
    }
    const env = { FLUXOPS_DATABASE_URL: url, FLUXOPS_HOME: tmpDir() };
    const args = ['worker', '--concurrency', '2', '--lease', '2s'];
    const a = await startCli(args, /worker (\S+) taking jobs/, { env });
    const b = await startCli(args, /worker (\S+) taking jobs/, { env });
    const [killed, survivor] = [a.match[1]!, b.match[1]!];
    try {
      await expect.poll(async () => (await queue.counts()).completed, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(JOBS / 4);
      const atKill = await queue.counts();
      a.child.kill('SIGKILL');
      await expect.poll(async () => (await queue.counts()).completed, { timeout: 90_000, interval: 200 }).toBe(JOBS);
      const counts = await queue.counts();
      expect(counts).toMatchObject({ completed: JOBS, failed: 0, queued: 0, active: 0 });
      const records = await queue.list({ limit: 1000 });
      expect(new Set(records.map((r) => r.id))).toEqual(ids);

      const lines = fs.readFileSync(ledger, 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string, string]);
      const byJob = new Map<string, Array<{ attempt: number; worker: string }>>();
      for (const [id, attempt, worker] of lines) byJob.set(id, [...(byJob.get(id) ?? []), { attempt: Number(attempt), worker }]);
      // None lost: every job's command ran to its end at least once.
      expect(new Set(byJob.keys())).toEqual(ids);
      const retried = records.filter((r) => r.attempts > 1);
      for (const r of records) {
        const ran = byJob.get(r.id)!;
        // No attempt ran twice, and none ran that the queue did not start.
        expect(new Set(ran.map((x) => x.attempt)).size).toBe(ran.length);
        for (const x of ran) expect(x.attempt).toBeLessThanOrEqual(r.attempts);
        // A job ran to its end more than once only when the killed worker's attempt (whose command,
        // in its own process group, outlived the worker) was retried by the survivor.
        if (ran.length > 1) {
          expect(r.attempts).toBeGreaterThan(1);
          expect(ran.filter((x) => x.worker === killed).length).toBe(1);
        }
      }
      // The killed worker held at most its concurrency; those were retried and finished by the survivor.
      expect(retried.length).toBeGreaterThanOrEqual(1);
      expect(retried.length).toBeLessThanOrEqual(2);
      for (const r of retried) expect(byJob.get(r.id)!.some((x) => x.worker === survivor && x.attempt === r.attempts)).toBe(true);
      const share = lines.filter(([, , w]) => w === killed).length;
      console.log(`${JOBS} jobs: ${atKill.completed} completed when worker ${killed} was killed (it ran ${share} to the end); ${retried.length} retried after their lease ran out; ${lines.length} command ends for ${JOBS} jobs`);
      expect(share).toBeGreaterThan(0);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGINT');
      await new Promise((r) => b.child.once('close', r));
    }
  }, 180_000);
});
