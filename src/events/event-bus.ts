import type { Logger } from '../logging/index.js';
import type { DomainEvent, EventType } from './types.js';

export type EventHandler = (event: DomainEvent) => void | Promise<void>;

interface Subscription {
  types: ReadonlySet<EventType> | '*';
  handler: EventHandler;
}

/**
 * In-process subscribers of domain events. The dispatcher hands it each event once, in seq order;
 * a subscriber that throws is logged and the others still get the event.
 */
export class EventBus {
  private readonly subs = new Set<Subscription>();

  constructor(private readonly log?: Pick<Logger, 'error'>) {}

  /** Calls `handler` for every later event of these types ('*' for all); returns the unsubscribe. */
  subscribe(types: readonly EventType[] | EventType | '*', handler: EventHandler): () => void {
    const sub: Subscription = { types: types === '*' ? '*' : new Set(typeof types === 'string' ? [types] : types), handler };
    this.subs.add(sub);
    return () => {
      this.subs.delete(sub);
    };
  }

  get size(): number {
    return this.subs.size;
  }

  /** Delivers one event to every matching subscriber and waits for them all. Never throws. */
  async deliver(event: DomainEvent): Promise<void> {
    const pending: Array<Promise<void>> = [];
    for (const s of this.subs) {
      if (s.types !== '*' && !s.types.has(event.type)) continue;
      pending.push(
        (async () => {
          try {
            await s.handler(event);
          } catch (e) {
            this.log?.error({ err: e instanceof Error ? e.message : String(e), event: event.type, seq: event.seq }, 'event subscriber failed');
          }
        })(),
      );
    }
    if (pending.length > 0) await Promise.all(pending);
  }
}
