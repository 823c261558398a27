import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { FluxError, type Component } from '../core/index.js';
import { EVENT_TYPES, type DomainEvent, type EventBus, type EventLog, type WriteContext } from '../events/index.js';
import type { Logger } from '../logging/index.js';
import { isUniqueViolation, type Database, type MetadataDb } from '../storage/db/index.js';
import { interpolate } from './expressions.js';
import { parsePipeline } from './parse-pipeline.js';
import type { PipelineService } from './pipeline-service.js';

export interface PipelineTrigger {
  id: string;
  pipeline: string;
  event: string;
  /** Payload fields (or the event's model/endpoint) that must equal these values. */
  filter: Record<string, string | number | boolean>;
  /** The run's params; may read `${{ event.payload.version }}`. */
  params: Record<string, unknown>;
  baseDir: string | null;
  createdBy: string | null;
  createdAt: number;
  /** The newest event when it was registered: only later events start it. */
  createdSeq: number;
}

/** An event pattern: an exact type, or a prefix with `*` (`model.*`). */
function matchesType(pattern: string, type: string): boolean {
  return pattern === '*' || pattern === type || (pattern.endsWith('*') && type.startsWith(pattern.slice(0, -1)));
}

export function triggerMatches(t: Pick<PipelineTrigger, 'event' | 'filter'>, e: DomainEvent): boolean {
  if (!matchesType(t.event, e.type)) return false;
  const payload = e.payload as Record<string, unknown>;
  return Object.entries(t.filter).every(([k, want]) => {
    const got = k in payload ? payload[k] : k === 'model' ? e.model : k === 'endpoint' ? e.endpoint : undefined;
    return (typeof got === 'string' || typeof got === 'number' || typeof got === 'boolean') && String(got) === String(want);
  });
}

/**
 * Registered pipelines and their event triggers: `register` keeps a pipeline file's `on:` list
 * (replacing what the pipeline had), and `PipelineTriggerer` starts a run for each event that
 * matches one. Every server hears every event; the run of (trigger, event) is started with a
 * key, so several servers hearing the same event start it once.
 */
export class PipelineTriggers {
  private readonly db: Kysely<Database>;

  constructor(
    m: MetadataDb,
    /** The newest event's seq (the outbox's), recorded with each trigger. */
    private readonly latestSeq: () => Promise<number>,
  ) {
    this.db = m.db;
  }

  async register(text: string, source: string, baseDir: string | undefined, ctx?: WriteContext): Promise<PipelineTrigger[]> {
    const p = parsePipeline(text, source);
    if (p.triggers.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', `${source} has no triggers: add an on: list such as [{ event: model.version.created, filter: { model: diabetes } }]`, { field: 'on' });
    p.triggers.forEach((t, i) => {
      if (!EVENT_TYPES.some((type) => matchesType(t.event, type))) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `on[${i}].event '${t.event}' matches no event type (types: ${EVENT_TYPES.join(', ')})`, { field: `on[${i}].event` });
      }
    });
    const now = Date.now();
    const createdSeq = await this.latestSeq();
    const rows = p.triggers.map((t, i) => ({
      id: `tr-${randomBytes(6).toString('hex')}`,
      pipeline: p.name,
      position: i,
      event: t.event,
      filter: JSON.stringify(t.filter ?? {}),
      params: JSON.stringify(t.params ?? {}),
      spec: text,
      base_dir: baseDir ?? null,
      created_by: ctx?.actor ?? null,
      created_at: now,
      created_seq: createdSeq,
    }));
    const replace = () =>
      this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('pipeline_triggers').where('pipeline', '=', p.name).execute();
        await trx.insertInto('pipeline_triggers').values(rows).execute();
      });
    // The outbox is read for triggers from here on, even if no server runs until later (the
    // cursor is kept only while triggers exist, so it may be behind: move it up to now).
    await this.advanceCursor(createdSeq);
    try {
      await replace();
    } catch (e) {
      // Registered by another server at the same moment: the unique (pipeline, position) key
      // refused our insert; replace theirs once more, so the last register wins whole.
      if (!isUniqueViolation(e)) throw e;
      await replace();
    }
    return this.list(p.name);
  }

  async list(pipeline?: string): Promise<PipelineTrigger[]> {
    let q = this.db.selectFrom('pipeline_triggers').select(['id', 'pipeline', 'event', 'filter', 'params', 'base_dir', 'created_by', 'created_at', 'created_seq']);
    if (pipeline !== undefined) q = q.where('pipeline', '=', pipeline);
    const rows = await q.orderBy('pipeline').orderBy('position').execute();
    return rows.map((r) => ({
      id: r.id,
      pipeline: r.pipeline,
      event: r.event,
      filter: JSON.parse(r.filter) as PipelineTrigger['filter'],
      params: JSON.parse(r.params) as Record<string, unknown>,
      baseDir: r.base_dir,
      createdBy: r.created_by,
      createdAt: Number(r.created_at),
      createdSeq: Number(r.created_seq),
    }));
  }

  async unregister(pipeline: string): Promise<void> {
    const r = await this.db.deleteFrom('pipeline_triggers').where('pipeline', '=', pipeline).executeTakeFirst();
    if (r.numDeletedRows === 0n) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `pipeline ${pipeline} is not registered`);
  }

  /** How far the triggers have read the outbox; undefined before any process read it. */
  async cursor(): Promise<number | undefined> {
    const r = await this.db.selectFrom('pipeline_trigger_cursor').select('seq').where('name', '=', 'triggers').executeTakeFirst();
    return r === undefined ? undefined : Number(r.seq);
  }

  /** Moves the cursor forward (never back), whichever server gets there first. */
  async advanceCursor(seq: number): Promise<void> {
    await this.db
      .insertInto('pipeline_trigger_cursor')
      .values({ name: 'triggers', seq })
      .onConflict((oc) => oc.column('name').doUpdateSet({ seq: (eb) => eb.ref('excluded.seq') }).where('pipeline_trigger_cursor.seq', '<', seq))
      .execute();
  }

  async specOf(triggerId: string): Promise<string | undefined> {
    return (await this.db.selectFrom('pipeline_triggers').select('spec').where('id', '=', triggerId).executeTakeFirst())?.spec;
  }
}

/**
 * Starts the runs of matching triggers for each event: the ones this process hears, and on start
 * the ones committed since the stored cursor (while no process ran), so an event is not missed
 * because no server was up when it was committed. Every event is handled at least once; the
 * runs' keys make a repeat (here or on another server) start nothing new.
 */
export class PipelineTriggerer implements Component {
  readonly name = 'pipeline triggers';
  private unsubscribe: (() => void) | undefined;
  private cache: { at: number; triggers: PipelineTrigger[] } | undefined;
  private catchingUp: Promise<void> | undefined;

  constructor(
    private readonly triggers: PipelineTriggers,
    private readonly pipelines: PipelineService,
    private readonly bus: EventBus,
    private readonly log: EventLog,
    private readonly logger?: Pick<Logger, 'warn' | 'info'>,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe('*', async (e) => {
      // Without triggers there is nothing to start and no cursor to keep: no write per event.
      if ((await this.current()).length === 0) return;
      await this.onEvent(e);
      await this.triggers.advanceCursor(e.seq).catch(() => undefined);
    });
    this.catchingUp = this.catchUp().catch((err: unknown) => this.logger?.warn({ err }, 'event triggers could not catch up with the outbox'));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.catchingUp;
  }

  /** The events since the stored cursor (from now on a store whose triggers never read it). */
  private async catchUp(): Promise<void> {
    const stored = await this.triggers.cursor();
    if (stored === undefined || (await this.current()).length === 0) return;
    const latest = await this.log.latestSeq();
    for (let after = stored; after < latest; ) {
      const page = await this.log.read({ after, limit: 1000 });
      if (page.events.length === 0) break;
      for (const e of page.events) if (e.seq <= latest) await this.onEvent(e);
      after = page.nextAfter;
      await this.triggers.advanceCursor(Math.min(after, latest));
    }
  }

  private async current(): Promise<PipelineTrigger[]> {
    if (this.cache === undefined || Date.now() - this.cache.at > 2000) this.cache = { at: Date.now(), triggers: await this.triggers.list() };
    return this.cache.triggers;
  }

  async onEvent(e: DomainEvent): Promise<void> {
    // A run's own events never start runs: a pipeline triggered by pipeline.* would loop.
    if (e.type.startsWith('pipeline.') || e.type.startsWith('approval.')) return;
    for (const t of await this.current()) {
      if (e.seq <= t.createdSeq || !triggerMatches(t, e)) continue;
      try {
        const spec = await this.triggers.specOf(t.id);
        if (spec === undefined) continue; // re-registered meanwhile
        const params = interpolate(t.params, { event: { type: e.type, seq: e.seq, time: e.time, actor: e.actor, model: e.model, endpoint: e.endpoint, payload: e.payload } }) as Record<string, unknown>;
        const run = await this.pipelines.start({ text: spec, source: `trigger of ${t.pipeline}`, params, baseDir: t.baseDir ?? undefined, trigger: `event:${e.type}`, key: `trigger:${t.id}:${e.seq}` }, { actor: t.createdBy });
        this.logger?.info({ pipelineRun: run.id, event: e.seq, trigger: t.id }, 'event started a pipeline run');
      } catch (err) {
        this.logger?.warn({ err, trigger: t.id, event: e.seq }, 'an event trigger could not start its pipeline');
      }
    }
  }
}
