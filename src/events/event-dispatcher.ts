import type { Component } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import type { EventBus } from './event-bus.js';
import type { EventLog } from './event-log.js';
import type { Outbox } from './outbox.js';

export interface DispatcherOptions {
  /** Reads the outbox this often even without a wake-up (0: never). Other processes on one SQLite file are only seen this way. */
  pollMs: number;
  /** Events read per query while catching up. */
  batchSize?: number;
}

/**
 * Reads new events from the outbox after its cursor and delivers them, in seq order, to the bus.
 * The cursor moves past an event only once every subscriber has had it, so within a process
 * delivery is at least once (a read that fails is retried at the next wake-up). It starts at the
 * newest event: subscribers hear of what happens from then on; history is read from `EventLog`.
 * Wake-ups come from this process's commits (`Outbox.onCommitted`), Postgres notifications from
 * other replicas (`PgListener`) and the poll.
 */
export class EventDispatcher implements Component {
  readonly name = 'event-dispatcher';
  private cursor = 0;
  private running = false;
  private pending = false;
  private draining: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly bus: EventBus,
    private readonly outbox: Outbox,
    private readonly opts: DispatcherOptions,
    private readonly logger?: Pick<Logger, 'warn'>,
  ) {}

  /** The seq of the last event delivered. */
  get position(): number {
    return this.cursor;
  }

  async start(): Promise<void> {
    this.cursor = await this.log.latestSeq();
    this.running = true;
    this.unsubscribe = this.outbox.onCommitted(() => this.wake());
    if (this.opts.pollMs > 0) {
      this.timer = setInterval(() => this.wake(), this.opts.pollMs);
      this.timer.unref();
    }
  }

  /** Asks for a read of the outbox; wake-ups during a read coalesce into one more read after it. */
  wake(): void {
    if (!this.running) return;
    this.pending = true;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Resolves once everything committed before the call has been delivered. */
  async flush(): Promise<void> {
    this.wake();
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    const batch = this.opts.batchSize ?? 500;
    while (this.pending && this.running) {
      this.pending = false;
      try {
        for (;;) {
          const page = await this.log.read({ after: this.cursor, limit: batch });
          for (const event of page.events) {
            await this.bus.deliver(event);
            this.cursor = event.seq;
          }
          if (page.events.length < batch || !this.running) break;
        }
      } catch (e) {
        // The store is unreachable: keep the cursor; the next wake-up (or poll) tries again.
        this.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, 'reading the event outbox failed');
      }
    }
  }

  /** Stops the wake-ups, delivers what was committed until now (a flush), then stops. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    if (this.running) await this.flush();
    this.running = false;
  }
}
