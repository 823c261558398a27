import type { Selectable } from 'kysely';
import { FluxError } from '../core/index.js';
import type { Database, MetadataDb } from '../storage/db/index.js';
import type { EventBus } from './event-bus.js';
import { isEventType, type DomainEvent, type EventType } from './types.js';

export interface EventPage {
  events: DomainEvent[];
  /** The cursor to read on from: the last returned event's seq, or `after` when none came. */
  nextAfter: number;
}

export interface ReadEventsInput {
  /** Events with a seq above this; 0 reads from the start. */
  after?: number | undefined;
  /** At most this many (1–1000, default 100). */
  limit?: number | undefined;
  /** Only these types; all when empty or absent. */
  types?: readonly string[] | undefined;
  /** When nothing is there yet, wait up to this many ms for an event (a long poll; at most 60 s). */
  waitMs?: number | undefined;
  /** Ends a wait early (the client went away, the server is closing). */
  signal?: AbortSignal | undefined;
}

export const MAX_EVENT_PAGE = 1000;
export const MAX_EVENT_WAIT_MS = 60_000;

/**
 * The read side of the outbox: events in seq order from a cursor. With a bus (fed by a running
 * dispatcher) a read can wait for the next event instead of the caller polling.
 */
export class EventLog {
  constructor(
    private readonly m: MetadataDb,
    private readonly bus?: EventBus,
  ) {}

  async read(input: ReadEventsInput = {}): Promise<EventPage> {
    const after = input.after ?? 0;
    const limit = input.limit ?? 100;
    if (!Number.isSafeInteger(after) || after < 0) throw new FluxError('INVALID_PARAMETER_VALUE', `after must be a non-negative integer, got ${String(input.after)}`, { field: 'after' });
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `limit must be an integer from 1 to ${MAX_EVENT_PAGE}, got ${String(input.limit)}`, { field: 'limit' });
    }
    const types = input.types ?? [];
    const unknown = types.filter((t) => !isEventType(t));
    if (unknown.length > 0) throw new FluxError('INVALID_PARAMETER_VALUE', `unknown event type '${unknown[0]}'`, { field: 'type' });
    const waitMs = input.waitMs ?? 0;
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_EVENT_WAIT_MS) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `wait must be an integer from 0 to ${MAX_EVENT_WAIT_MS} ms, got ${String(input.waitMs)}`, { field: 'wait_ms' });
    }
    if (waitMs === 0 || this.bus === undefined || input.signal?.aborted === true) return this.query(after, limit, types as EventType[]);

    // Subscribe before reading: an event committed between the read and the wait still ends it.
    let wake: () => void = () => undefined;
    const woke = new Promise<void>((resolve) => (wake = resolve));
    const unsubscribe = this.bus.subscribe(types.length > 0 ? (types as EventType[]) : '*', (e) => {
      if (e.seq > after) wake();
    });
    const timer = setTimeout(wake, waitMs);
    input.signal?.addEventListener('abort', wake, { once: true });
    try {
      const first = await this.query(after, limit, types as EventType[]);
      if (first.events.length > 0) return first;
      await woke;
      return await this.query(after, limit, types as EventType[]);
    } finally {
      clearTimeout(timer);
      unsubscribe();
      input.signal?.removeEventListener('abort', wake);
    }
  }

  private async query(after: number, limit: number, types: EventType[]): Promise<EventPage> {
    let q = this.m.db.selectFrom('events').selectAll().where('seq', '>', after);
    if (types.length > 0) q = q.where('type', 'in', types);
    const rows = await q.orderBy('seq').limit(limit).execute();
    const events = rows.map(toEvent);
    return { events, nextAfter: events.at(-1)?.seq ?? after };
  }

  /** The highest seq written so far (0 for none): where a new subscriber starts. */
  async latestSeq(): Promise<number> {
    const r = await this.m.db
      .selectFrom('events')
      .select(({ fn }) => fn.max('seq').as('max'))
      .executeTakeFirst();
    return Number(r?.max ?? 0);
  }
}

function toEvent(r: Selectable<Database['events']>): DomainEvent {
  return {
    seq: Number(r.seq),
    type: r.type as EventType,
    time: Number(r.time),
    model: r.model,
    runId: r.run_id,
    experimentId: r.experiment_id,
    endpoint: r.endpoint ?? null,
    payload: JSON.parse(r.payload) as DomainEvent['payload'],
    actor: r.actor,
  } as DomainEvent;
}
