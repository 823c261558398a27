import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Component, WebhookSettings } from '../core/index.js';
import type { DomainEvent, EventBus, EventLog } from '../events/index.js';
import type { Logger } from '../logging/index.js';
import { DeliveryRunner } from './delivery-runner.js';
import type { ClaimedDelivery, NewDelivery, WebhookStore } from './webhook-store.js';
import { eventBody, wants, type WebhookRecord } from './types.js';

export interface DelivererOptions {
  /** Names this sender in the leases it takes (default: host, pid and a random suffix). */
  owner?: string | undefined;
  /** Attempts in flight at once (default 16). */
  concurrency?: number | undefined;
}

const CATCH_UP_PAGE = 500;
/** The shortest wait between two looks scheduled by time. */
const MIN_GAP_MS = 20;
/** How long a stop waits for attempts in flight before cutting them short. */
const STOP_GRACE_MS = 2000;

export function newDeliveryId(): string {
  return `whd-${randomBytes(8).toString('hex')}`;
}

/**
 * The background part that turns events into webhook deliveries and sends them.
 *
 * Fan-out: it subscribes to the bus and, for each event and each enabled webhook that wants it,
 * inserts a delivery; every server does this for every event, and the unique key (webhook,
 * event) leaves one row. How far it got is kept in the store (`webhook_cursor`), so a server that
 * starts again first catches up on the events committed while none was running.
 *
 * Sending: a loop claims due deliveries by a conditional update (a lease), so two servers never
 * make the same attempt, and sends them, up to `concurrency` at a time. It is woken by this
 * process's new deliveries and finished attempts, by the earliest retry it knows is due, and by a
 * poll (`pollMs`) for what other servers enqueued or left behind (an expired lease).
 */
export class WebhookDeliverer implements Component {
  readonly name = 'webhook-deliverer';
  readonly owner: string;
  private readonly runner: DeliveryRunner;
  private readonly concurrency: number;
  private running = false;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private ticking: Promise<void> | undefined;
  private again = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  /** Highest seq fanned out by this process, and the point to read the outbox again from after a failure. */
  private fanned = 0;
  private persisted = 0;
  private catchUpFrom: number | undefined;
  /** Whether the last look at the webhooks found any enabled: without, there is no cursor to keep. */
  private listening = false;

  constructor(
    private readonly store: WebhookStore,
    private readonly bus: EventBus,
    private readonly log: EventLog,
    private readonly settings: WebhookSettings,
    private readonly logger?: Pick<Logger, 'warn' | 'debug' | 'error'>,
    opts: DelivererOptions = {},
  ) {
    this.owner = opts.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.concurrency = opts.concurrency ?? 16;
    this.runner = new DeliveryRunner(store, settings, logger);
  }

  async start(): Promise<void> {
    // Subscribe first, then decide where catching up starts: an event between the two is seen twice at worst.
    this.unsubscribe = this.bus.subscribe('*', (e) => this.onEvent(e));
    this.running = true;
    const stored = await this.store.cursor();
    this.fanned = stored;
    this.persisted = stored;
    this.catchUpFrom = stored;
    this.wake();
  }

  /** Asks for a look at due deliveries now; wake-ups during a look coalesce into one more. */
  wake(): void {
    if (!this.running) return;
    this.again = true;
    this.ticking ??= this.loop().finally(() => {
      this.ticking = undefined;
    });
  }

  /** Resolves once no look is running and no attempt is in flight (tests use it). */
  async idle(): Promise<void> {
    while (this.ticking !== undefined || this.inFlight.size > 0) {
      await this.ticking;
      await Promise.all(this.inFlight.values());
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    // Attempts in flight get a moment to be answered (most receivers answer in milliseconds; cutting
    // one the receiver already took would send it twice); those still waiting then are cut short and
    // given back uncounted, for another sender (or this one, started again) to make.
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(STOP_GRACE_MS, this.settings.timeoutMs))));
      await Promise.race([Promise.all(this.inFlight.values()), grace]);
      clearTimeout(timer);
    }
    this.stopping.abort();
    await Promise.all(this.inFlight.values());
    await this.persistCursor();
  }

  private async onEvent(e: DomainEvent): Promise<void> {
    if (!this.running) return;
    try {
      const hooks = await this.store.enabled();
      this.listening = hooks.length > 0;
      await this.fanOut([e], hooks);
      if (e.seq > this.fanned) this.fanned = e.seq;
    } catch (err) {
      // Read the outbox again from before this event at the next look.
      this.catchUpFrom = Math.min(this.catchUpFrom ?? Infinity, e.seq - 1);
      throw err;
    }
  }

  private async fanOut(events: readonly DomainEvent[], hooks: readonly WebhookRecord[]): Promise<void> {
    const rows: NewDelivery[] = [];
    const now = Date.now();
    for (const e of events) {
      for (const w of hooks) {
        if (wants(w, e)) rows.push({ id: newDeliveryId(), webhookId: w.id, eventSeq: e.seq, event: eventBody(e), maxAttempts: this.settings.maxAttempts, now });
      }
    }
    if (rows.length === 0) return;
    const added = await this.store.enqueue(rows);
    if (added > 0) this.wake();
  }

  /** Reads the outbox after `from` to its end and fans every event out (rows that exist are skipped). */
  private async catchUp(from: number): Promise<void> {
    let hooks = await this.store.enabled();
    this.listening = hooks.length > 0;
    // Nothing listens: nothing to catch up on (a webhook made later starts after the newest event then).
    if (hooks.length === 0) return;
    // No webhook hears of events from before it was made.
    let cursor = Math.max(from, Math.min(...hooks.map((h) => h.createdSeq)));
    while (this.running) {
      const page = await this.log.read({ after: cursor, limit: CATCH_UP_PAGE });
      if (page.events.length === 0) break;
      await this.fanOut(page.events, hooks);
      cursor = page.nextAfter;
      if (cursor > this.fanned) this.fanned = cursor;
      if (page.events.length < CATCH_UP_PAGE) break;
      hooks = await this.store.enabled();
    }
  }

  private async persistCursor(): Promise<void> {
    // With no webhook there is nothing to catch up on after a restart, and an idle server writes nothing.
    if (!this.listening) return;
    const upTo = this.catchUpFrom !== undefined ? Math.min(this.catchUpFrom, this.fanned) : this.fanned;
    if (upTo <= this.persisted) return;
    try {
      await this.store.advanceCursor(upTo);
      this.persisted = upTo;
    } catch (e) {
      this.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, 'saving the webhook fan-out cursor failed');
    }
  }

  private async loop(): Promise<void> {
    while (this.again && this.running) {
      this.again = false;
      try {
        await this.look();
      } catch (e) {
        // The store is unreachable: the poll tries again.
        this.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, 'looking for due webhook deliveries failed');
      }
    }
  }

  private async look(): Promise<void> {
    const from = this.catchUpFrom;
    if (from !== undefined) {
      this.catchUpFrom = undefined;
      try {
        await this.catchUp(from);
      } catch (e) {
        this.catchUpFrom = Math.min(this.catchUpFrom ?? Infinity, from);
        throw e;
      }
    }
    await this.persistCursor();
    const room = this.concurrency - this.inFlight.size;
    // Full: each attempt that finishes wakes the loop again.
    if (room <= 0) return;
    const now = Date.now();
    const claimed = await this.store.claim(this.owner, now, this.runner.leaseUntil(now), room);
    for (const d of claimed) this.send(d);
    if (claimed.length === room) {
      this.again = true; // there may be more due
      return;
    }
    // The earliest retry due (whichever server scheduled it), else the poll. A row due now but not
    // claimed is another server's claim in progress: looked at again shortly, not in a busy loop.
    const next = await this.store.nextDue();
    const at = Date.now();
    this.schedule(Math.min(next !== undefined ? Math.max(next, at + MIN_GAP_MS) : Infinity, at + this.settings.pollMs));
  }

  private send(d: ClaimedDelivery): void {
    const p = this.runner
      .run(d, this.stopping.signal)
      .catch((e: unknown) => {
        // Recording failed: the lease runs out and the attempt is made again.
        this.logger?.error({ delivery: d.id, err: e instanceof Error ? e.message : String(e) }, 'webhook delivery attempt failed to record');
      })
      .finally(() => {
        this.inFlight.delete(d.id);
        this.wake();
      });
    this.inFlight.set(d.id, p.then(() => undefined));
  }

  private schedule(at: number): void {
    if (!this.running) return;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.wake();
      },
      Math.max(0, at - Date.now()),
    );
    this.timer.unref();
  }
}
