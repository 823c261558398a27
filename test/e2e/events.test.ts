/** The events route and `fluxops events tail`, locally and with --url, against a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { startTestServer, seedModel, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  assertBuilt();
  s = await startTestServer({ model: 'diabetes@production' });
  await seedModel(s.platform, { seed: 5, aliases: [] }); // v2
});
afterAll(async () => {
  await s.close();
});

interface EventsBody {
  events: Array<{ seq: number; type: string; model: string | null; run_id: string | null; payload: Record<string, unknown>; actor: string | null }>;
  next_after: number;
}
const get = async (query: string) => fetch(`${s.url}/api/v1/events${query}`);

describe('GET /api/v1/events', () => {
  it('pages through the events in order from a cursor, filtered by type', async () => {
    const all = (await (await get('?limit=1000')).json()) as EventsBody;
    const types = all.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['run.created', 'run.finished', 'model.created', 'model.version.created', 'model.alias.changed', 'key.created']));
    expect(all.next_after).toBe(all.events.at(-1)!.seq);

    const seqs: number[] = [];
    for (let after = 0; ; ) {
      const page = (await (await get(`?after=${after}&limit=3`)).json()) as EventsBody;
      if (page.events.length === 0) break;
      expect(page.events.length).toBeLessThanOrEqual(3);
      seqs.push(...page.events.map((e) => e.seq));
      after = page.next_after;
    }
    expect(seqs).toEqual(all.events.map((e) => e.seq));

    const versions = (await (await get('?type=model.version.created,model.created')).json()) as EventsBody;
    expect(versions.events.map((e) => e.type)).toEqual(['model.created', 'model.version.created', 'model.version.created']);
    const repeated = (await (await get('?type=model.version.created&type=model.created')).json()) as EventsBody;
    expect(repeated).toEqual(versions);
    expect(versions.events[1]).toMatchObject({ model: 'diabetes', payload: { model: 'diabetes', version: '1' } });
  });

  it('refuses bad parameters with 400 and our error shape', async () => {
    for (const q of ['?after=-1', '?after=abc', '?limit=0', '?limit=1001', '?type=no.such', '?wait_ms=60001']) {
      const res = await get(q);
      expect(res.status, q).toBe(400);
      const body = (await res.json()) as { error_code: string; message: string };
      expect(body.error_code, q).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('a long poll returns the alias move made while it waited, and the served model follows it', async () => {
    const client = new FluxClient({ url: s.url });
    const { nextAfter } = await client.readEvents({ limit: 1000 });
    const waiting = client.readEvents({ after: nextAfter, waitMs: 30_000, types: ['model.alias.changed'] });
    await client.setAlias('diabetes', 'production', '2');
    const page = await waiting;
    expect(page.events.map((e) => e.payload)).toEqual([{ model: 'diabetes', alias: 'production', version: '2', previous_version: '1' }]);
    for (;;) {
      const info = (await (await fetch(`${s.url}/api/model-info`)).json()) as { version: string };
      if (info.version === '2') break;
      await new Promise((r) => setTimeout(r, 10));
    }
  });
});

describe('fluxops events tail', () => {
  it('prints the events of the local home, as lines or JSON lines, filtered by type', async () => {
    const human = await runCli(['--home', s.home, 'events', 'tail', '--type', 'model.alias.changed']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/model\.alias\.changed\s+diabetes@production - → 1/);
    const json = await runCli(['--home', s.home, '--json', 'events', 'tail', '--after', '0']);
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((e, i) => i === 0 || e.seq > lines[i - 1]!.seq)).toBe(true);
    const bad = await runCli(['--home', s.home, 'events', 'tail', '--after', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--after must be a non-negative integer/);
  });

  it('follows a server with --url --follow until interrupted', async () => {
    const client = new FluxClient({ url: s.url });
    const { nextAfter } = await client.readEvents({ limit: 1000 });
    const following = startCli(['--url', s.url, 'events', 'tail', '--follow', '--after', String(nextAfter)], /model\.alias\.changed.*staging/);
    await client.setAlias('diabetes', 'staging', '1');
    const { child, stdout } = await following;
    expect(stdout()).toMatch(/diabetes@staging - → 1/);
    expect(await stop(child)).toBe(0);
  });
});
