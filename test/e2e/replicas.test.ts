/**
 * Two real `fluxops server` processes on one Postgres database and one artifact folder, both
 * serving diabetes@production. An alias moved through A must reach B through the outbox and
 * NOTIFY: B's alias poll and outbox poll are set to 60 s, so only the event can move it in time.
 */
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import { assertBuilt, startCli, stop } from '../helpers/cli.js';
import { openPlatformOn, postgresBackend, tmpDir } from '../helpers/backends.js';
import { seedModel } from '../helpers/server.js';

const pgUrl = inject('pgUrl');

describe.skipIf(!pgUrl)(pgUrl ? 'replicas on one Postgres database' : 'replicas — SKIPPED: Postgres not reachable', () => {
  const servers: Array<{ child: ChildProcess; url: string }> = [];

  beforeAll(async () => {
    assertBuilt();
    const databaseUrl = await postgresBackend(pgUrl).freshDatabaseUrl();
    const artifactRoot = path.join(tmpDir(), 'artifacts');
    const seed = await openPlatformOn(databaseUrl, { artifactRoot });
    await seedModel(seed); // v1, production
    await seedModel(seed, { seed: 99, aliases: [] }); // v2
    await seed.close();
    for (const name of ['a', 'b']) {
      const home = tmpDir(`fluxops-replica-${name}-`);
      const env = { FLUXOPS_DATABASE_URL: databaseUrl, FLUXOPS_ARTIFACT_ROOT: artifactRoot, FLUXOPS_EVENTS_POLL_MS: '60000' };
      const s = await startCli(['--home', home, 'server', '--port', '0', '--model', 'diabetes@production', '--alias-poll-ms', '60000'], /listening on (http:\/\/\S+)/, { env });
      servers.push({ child: s.child, url: s.match[1]! });
    }
  });

  afterAll(async () => {
    for (const s of servers) await stop(s.child);
  });

  const versionOn = async (url: string): Promise<string> => ((await (await fetch(`${url}/api/model-info`)).json()) as { version: string }).version;

  it('an alias moved through A hot-swaps B well before its poll would', async () => {
    const [a, b] = [servers[0]!, servers[1]!];
    expect(await versionOn(a.url)).toBe('1');
    expect(await versionOn(b.url)).toBe('1');
    const client = new FluxClient({ url: a.url });
    for (const target of ['2', '1', '2']) {
      const t0 = performance.now();
      await client.setAlias('diabetes', 'production', target);
      while ((await versionOn(b.url)) !== target) await new Promise((r) => setTimeout(r, 2));
      const ms = performance.now() - t0;
      console.log(`replica propagation: alias moved to v${target} through A, B served it after ${ms.toFixed(1)} ms (poll fallback 60 s)`);
    }
    // B saw the change as an event too, in its own log of the shared outbox.
    const events = await new FluxClient({ url: b.url }).readEvents({ types: ['model.alias.changed'] });
    expect(events.events.slice(-3).map((e) => e.payload)).toEqual([
      { model: 'diabetes', alias: 'production', version: '2', previous_version: '1' },
      { model: 'diabetes', alias: 'production', version: '1', previous_version: '2' },
      { model: 'diabetes', alias: 'production', version: '2', previous_version: '1' },
    ]);
  });

  it('a long poll on B returns the event committed through A; both servers shut down cleanly on SIGINT', async () => {
    const [a, b] = [servers[0]!, servers[1]!];
    const bClient = new FluxClient({ url: b.url });
    const { nextAfter } = await bClient.readEvents({ limit: 1000 });
    const waiting = bClient.readEvents({ after: nextAfter, waitMs: 30_000 });
    await new FluxClient({ url: a.url }).setAlias('diabetes', 'staging', '1');
    const page = await waiting;
    expect(page.events.map((e) => e.type)).toEqual(['model.alias.changed']);
    // A long poll in progress does not hold up the shutdown.
    const idle = bClient.readEvents({ after: page.nextAfter, waitMs: 30_000 }).catch(() => undefined);
    const codes = [];
    for (const s of servers.splice(0)) codes.push(await stop(s.child));
    await idle;
    expect(codes).toEqual([0, 0]);
  });
});

