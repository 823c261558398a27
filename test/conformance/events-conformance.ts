import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { outboxFor, type DomainEvent, type EventBus, type EventType } from '../../src/events/index.js';
import { serializeModel } from '../../src/models/index.js';
import type { Platform } from '../../src/platform.js';
import { openPlatformOn, type StoreBackend } from '../helpers/backends.js';
import { tinyModel } from '../helpers/model-fixture.js';

const uid = () => randomBytes(4).toString('hex');

/** Resolves with the first event on the bus that matches; the test timeout bounds the wait. */
function nextEvent(bus: EventBus, match: (e: DomainEvent) => boolean): Promise<DomainEvent> {
  return new Promise((resolve) => {
    const off = bus.subscribe('*', (e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });
}

/** Every event after `after`, paging through the log. */
async function allAfter(p: Platform, after: number, types?: EventType[]): Promise<DomainEvent[]> {
  const out: DomainEvent[] = [];
  for (let cursor = after; ; ) {
    const page = await p.events.log.read({ after: cursor, limit: 7, types });
    out.push(...page.events);
    if (page.events.length === 0) return out;
    cursor = page.nextAfter;
  }
}

/**
 * The outbox conformance suite, run on every metadata backend: each change and its event commit
 * together, in one strictly increasing order, readable from a cursor and delivered to subscribers
 * of this and of another instance on the same database.
 */
export function describeEventConformance(backend: StoreBackend): void {
  describe(`events on ${backend.label}`, () => {
    let url!: string;
    let p!: Platform;
    beforeAll(async () => {
      url = await backend.freshDatabaseUrl();
      // No poll: in-process delivery must come from the commit wake-up alone.
      p = await openPlatformOn(url, { eventsPollMs: 0 });
      await p.start();
    });
    afterAll(async () => {
      await p?.close();
    });

    const trainedRun = async (experimentId: string) => {
      const run = await p.tracking.createRun({ experimentId });
      await p.tracking.logArtifact(run.info.runId, 'model/fluxops-model.json', serializeModel(tinyModel()));
      return run;
    };

    it('each change appends its event, in commit order, with its subject and payload', async () => {
      const start = await p.events.log.latestSeq();
      const name = `events-${uid()}`;
      const expId = await p.tracking.createExperiment({ name });
      const run = await trainedRun(expId);
      const runId = run.info.runId;
      await p.tracking.endRun(runId);
      await p.tracking.endRun(runId); // FINISHED again: no second event
      await p.registry.createRegisteredModel({ name });
      await p.registry.createModelVersion({ name, source: `runs:/${runId}/model` });
      await p.registry.createModelVersion({ name, source: `runs:/${runId}/model` });
      await p.registry.setAlias(name, 'production', '1');
      await p.registry.setAlias(name, 'production', '1'); // no move: no event
      await p.registry.setAlias(name, 'production', '2');
      await p.registry.setAlias(name, 'staging', '1');
      await p.registry.deleteAlias(name, 'production');
      await p.registry.deleteModelVersion(name, '1'); // takes staging with it
      const { info } = await p.keys.create(`k-${name}`);
      await p.keys.revoke(info.keyId);

      const events = await allAfter(p, start);
      expect(events.map((e) => e.type)).toEqual([
        'experiment.created',
        'run.created',
        'run.finished',
        'model.created',
        'model.version.created',
        'model.version.created',
        'model.alias.changed',
        'model.alias.changed',
        'model.alias.changed',
        'model.alias.changed',
        'model.alias.changed',
        'model.version.deleted',
        'key.created',
        'key.revoked',
      ]);
      const seqs = events.map((e) => e.seq);
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
      expect(events[0]).toMatchObject({ experimentId: expId, payload: { experiment_id: expId, name }, actor: null });
      expect(events[1]).toMatchObject({ runId, experimentId: expId, payload: { run_id: runId, experiment_id: expId } });
      expect(events[2]).toMatchObject({ runId, payload: { status: 'FINISHED', previous_status: 'RUNNING' } });
      expect(events[4]).toMatchObject({ model: name, runId, payload: { model: name, version: '1', run_id: runId } });
      const aliases = events.filter((e) => e.type === 'model.alias.changed').map((e) => e.payload);
      expect(aliases).toEqual([
        { model: name, alias: 'production', version: '1', previous_version: null },
        { model: name, alias: 'production', version: '2', previous_version: '1' },
        { model: name, alias: 'staging', version: '1', previous_version: null },
        { model: name, alias: 'production', version: null, previous_version: '2' },
        { model: name, alias: 'staging', version: null, previous_version: '1' },
      ]);
      expect(events[11]).toMatchObject({ model: name, payload: { model: name, version: '1' } });
      expect(events[13]).toMatchObject({ payload: { key_id: info.keyId, name: `k-${name}` } });
      for (const e of events) expect(e.time).toBeGreaterThan(0);
    });

    it('a change whose event cannot be written is rolled back whole, and a rolled-back change leaves no event', async () => {
      const name = `atomic-${uid()}`;
      await p.registry.createRegisteredModel({ name });
      const run = await trainedRun(await p.tracking.ensureExperiment('events-atomic'));
      await p.registry.createModelVersion({ name, source: `runs:/${run.info.runId}/model` });
      await p.registry.setAlias(name, 'production', '1');
      const before = await p.events.log.latestSeq();

      // The outbox refuses this one alias's event: the alias move must not commit without it.
      await refuseEventsFor(p, name);
      try {
        await p.registry.createModelVersion({ name, source: `runs:/${run.info.runId}/model` });
        await expect(p.registry.setAlias(name, 'production', '2')).rejects.toThrow(/outbox refused/);
        expect((await p.registry.getVersionByAlias(name, 'production')).version).toBe('1');
      } finally {
        await allowEvents(p);
      }
      expect((await allAfter(p, before)).map((e) => e.type)).toEqual(['model.version.created']);

      // And the other way: an event appended in a transaction that then fails is gone with it.
      const outbox = outboxFor(p.db);
      let woken = 0;
      const off = outbox.onCommitted(() => woken++);
      await expect(
        outbox.transaction(async (trx) => {
          await outbox.append(trx, { type: 'model.created', model: name, payload: { model: name }, actor: null });
          throw new FluxError('INVALID_STATE', 'change refused');
        }),
      ).rejects.toThrow('change refused');
      off();
      expect(woken).toBe(0);
      expect((await allAfter(p, before)).map((e) => e.type)).toEqual(['model.version.created']);
    });

    it('reads from a cursor in pages, filtered by type, and refuses bad cursors, limits and types', async () => {
      const start = await p.events.log.latestSeq();
      const name = `paging-${uid()}`;
      for (let i = 0; i < 12; i++) await p.registry.createRegisteredModel({ name: `${name}-${i}` });
      await p.tracking.createExperiment({ name });
      const pages: number[][] = [];
      let cursor = start;
      for (;;) {
        const page = await p.events.log.read({ after: cursor, limit: 5 });
        if (page.events.length === 0) {
          expect(page.nextAfter).toBe(cursor);
          break;
        }
        pages.push(page.events.map((e) => e.seq));
        expect(page.nextAfter).toBe(page.events.at(-1)!.seq);
        cursor = page.nextAfter;
      }
      expect(pages.map((x) => x.length)).toEqual([5, 5, 3]);
      const flat = pages.flat();
      expect(new Set(flat).size).toBe(13);
      expect(flat.every((s, i) => i === 0 || s > flat[i - 1]!)).toBe(true);

      const onlyExperiments = await p.events.log.read({ after: start, types: ['experiment.created'] });
      expect(onlyExperiments.events.map((e) => e.payload)).toEqual([expect.objectContaining({ name })]);
      const both = await p.events.log.read({ after: start, types: ['experiment.created', 'model.created'], limit: 1000 });
      expect(both.events).toHaveLength(13);

      for (const bad of [{ after: -1 }, { after: 1.5 }, { limit: 0 }, { limit: 1001 }, { types: ['no.such.type'] }, { waitMs: -1 }]) {
        await expect(p.events.log.read(bad)).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
      }
    });

    it('a reader following the cursor during concurrent writes sees every event exactly once, in order', async () => {
      const start = await p.events.log.latestSeq();
      const name = `concurrent-${uid()}`;
      const seen: number[] = [];
      let writing = true;
      const reader = (async () => {
        let cursor = start;
        for (;;) {
          const done = !writing;
          const page = await p.events.log.read({ after: cursor, limit: 3 });
          seen.push(...page.events.map((e) => e.seq));
          cursor = page.nextAfter;
          if (done && page.events.length === 0) return;
        }
      })();
      await Promise.all(Array.from({ length: 24 }, (_, i) => p.registry.createRegisteredModel({ name: `${name}-${i}` })));
      writing = false;
      await reader;
      const all = (await allAfter(p, start)).map((e) => e.seq);
      expect(all).toHaveLength(24);
      expect(seen).toEqual(all);
    });

    it('delivers events to subscribers in order; a throwing subscriber does not stop the others; unsubscribe stops delivery', async () => {
      const name = `bus-${uid()}`;
      const got: string[] = [];
      const offThrowing = p.events.bus.subscribe('*', () => {
        throw new Error('subscriber bug');
      });
      const offModels = p.events.bus.subscribe(['model.created'], (e) => {
        if (e.model?.startsWith(name)) got.push(e.model);
      });
      const last = nextEvent(p.events.bus, (e) => e.model === `${name}-2`);
      for (let i = 0; i < 3; i++) await p.registry.createRegisteredModel({ name: `${name}-${i}` });
      await last;
      expect(got).toEqual([`${name}-0`, `${name}-1`, `${name}-2`]);
      offModels();
      offThrowing();
      await p.registry.createRegisteredModel({ name: `${name}-3` });
      await p.events.dispatcher.flush();
      expect(got).toHaveLength(3);
    });

    it('records the actor a write names', async () => {
      const name = `actor-${uid()}`;
      const start = await p.events.log.latestSeq();
      await p.registry.createRegisteredModel({ name }, { actor: 'ci-deployer' });
      await p.registry.createRegisteredModel({ name: `${name}-anon` });
      expect((await allAfter(p, start)).map((e) => e.actor)).toEqual(['ci-deployer', null]);
    });

    it(`an event written through one instance reaches a subscriber of another instance on the same database (${backend.name === 'postgres' ? 'NOTIFY' : 'outbox poll'})`, async () => {
      // On Postgres B has no poll at all, so only NOTIFY can wake it; on SQLite its short poll does.
      const b = await openPlatformOn(url, { eventsPollMs: backend.name === 'postgres' ? 0 : 100 });
      await b.start();
      try {
        const name = `replica-${uid()}`;
        const seen = nextEvent(b.events.bus, (e) => e.model === name);
        await p.registry.createRegisteredModel({ name });
        expect(await seen).toMatchObject({ type: 'model.created', model: name });

        if (backend.name === 'postgres') {
          // The LISTEN connection drops: it reconnects and delivery goes on.
          const pid = b.events.listener!.backendPid!;
          await sql`select pg_terminate_backend(${pid})`.execute(p.db.db);
          const again = `${name}-after-drop`;
          const after = nextEvent(b.events.bus, (e) => e.model === again);
          while (b.events.listener!.backendPid === pid || !b.events.listener!.connected) await new Promise((r) => setTimeout(r, 20));
          await p.registry.createRegisteredModel({ name: again });
          expect(await after).toMatchObject({ model: again });
        }
      } finally {
        await b.close();
      }
    });

    it('a long-poll read waits for the next event and returns it', async () => {
      const after = await p.events.log.latestSeq();
      const name = `wait-${uid()}`;
      const waiting = p.events.log.read({ after, waitMs: 60_000 });
      await p.registry.createRegisteredModel({ name });
      const page = await waiting;
      expect(page.events.map((e) => e.model)).toEqual([name]);
      const aborted = new AbortController();
      const idle = p.events.log.read({ after: page.nextAfter, waitMs: 60_000, signal: aborted.signal });
      aborted.abort();
      expect((await idle).events).toEqual([]);
    });
  });
}

/** Makes the outbox refuse events about one model (a trigger), as a failing write inside the transaction. */
async function refuseEventsFor(p: Platform, model: string): Promise<void> {
  const m = sql.lit(model);
  if (p.db.dialect === 'sqlite') {
    await sql`create trigger refuse_events before insert on events when new.model = ${m} and new.type = 'model.alias.changed' begin select raise(abort, 'outbox refused'); end`.execute(p.db.db);
  } else {
    await sql`create function refuse_events() returns trigger language plpgsql as $$ begin if new.model = ${m} and new.type = 'model.alias.changed' then raise exception 'outbox refused'; end if; return new; end $$`.execute(p.db.db);
    await sql`create trigger refuse_events before insert on events for each row execute function refuse_events()`.execute(p.db.db);
  }
}

async function allowEvents(p: Platform): Promise<void> {
  if (p.db.dialect === 'sqlite') {
    await sql`drop trigger refuse_events`.execute(p.db.db);
  } else {
    await sql`drop trigger refuse_events on events`.execute(p.db.db);
    await sql`drop function refuse_events()`.execute(p.db.db);
  }
}
