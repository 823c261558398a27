import pg from 'pg';
import type { Component } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import { CHANNEL_EXPRESSION } from './outbox.js';

export interface PgListenerOptions {
  /** First reconnect delay in ms; doubles per failed attempt up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A dedicated Postgres connection that LISTENs on the store's channel and calls `onWake` for each
 * notification, i.e. after every commit of an event by any replica. Notifications sent while it
 * is disconnected are lost, so after each (re)connect it calls `onWake` once more: the dispatcher
 * then reads the outbox and catches up; the outbox, not the notification, is the source of truth.
 */
export class PgListener implements Component {
  readonly name = 'pg-listener';
  private client: pg.Client | undefined;
  private stopped = true;
  private retry: NodeJS.Timeout | undefined;
  private backoff: number;
  private pid: number | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly onWake: () => void,
    private readonly logger?: Pick<Logger, 'warn' | 'info'>,
    private readonly opts: PgListenerOptions = {},
  ) {
    this.backoff = opts.minBackoffMs ?? 100;
  }

  /** The server process id of the listening connection (tests end it to exercise the reconnect). */
  get backendPid(): number | undefined {
    return this.pid;
  }

  get connected(): boolean {
    return this.pid !== undefined;
  }

  async start(): Promise<void> {
    this.stopped = false;
    // A failed first attempt does not fail the start: the platform works without wake-ups (the
    // polls remain) and the listener keeps trying in the background.
    await this.connect();
  }

  private connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: 'fluxops-events-listener' });
    this.client = client;
    let dropped = false;
    const onDrop = (err?: Error) => {
      if (dropped) return;
      dropped = true;
      this.pid = undefined;
      if (this.stopped) return;
      this.logger?.warn({ err: err?.message }, 'event listener connection lost; reconnecting');
      this.scheduleReconnect();
    };
    client.on('error', onDrop);
    client.on('end', () => onDrop());
    client.on('notification', () => this.onWake());
    try {
      await client.connect();
      const { rows } = await client.query<{ channel: string; pid: number }>(`select ${CHANNEL_EXPRESSION} as channel, pg_backend_pid() as pid`);
      const channel = rows[0]!.channel;
      await client.query(`listen "${channel.replace(/"/g, '""')}"`);
      if (this.stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.pid = rows[0]!.pid;
      this.backoff = this.opts.minBackoffMs ?? 100;
      this.onWake(); // catch up on what was committed while not listening
    } catch (e) {
      await client.end().catch(() => undefined);
      onDrop(e as Error);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry !== undefined) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, delay);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    if (this.connecting !== undefined) await this.connecting;
    const client = this.client;
    this.client = undefined;
    this.pid = undefined;
    if (client !== undefined) await client.end().catch(() => undefined);
  }
}
