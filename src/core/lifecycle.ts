import type { Logger } from '../logging/index.js';

/** A background part of the platform: a dispatcher, a listener, a poller, later schedulers. */
export interface Component {
  readonly name: string;
  start(): Promise<void> | void;
  /** Stops taking new work, finishes (flushes) what is in flight, releases its handles. */
  stop(): Promise<void> | void;
}

/**
 * Owns the start and stop of the platform's background parts. Components start in the order they
 * were added (a later one may rely on an earlier one: the dispatcher runs before the model server
 * subscribes to it) and stop in reverse. Adding to a started lifecycle starts the component on the
 * next `start()`, so a server can add its parts to a platform that is already running.
 */
export class Lifecycle {
  private readonly components: Component[] = [];
  private readonly started = new Set<Component>();
  private stopping: Promise<void> | undefined;

  constructor(private readonly log?: Pick<Logger, 'error' | 'debug'>) {}

  add(component: Component): void {
    this.components.push(component);
  }

  /** Starts every component not yet started, in order; stops the started ones if one fails. */
  async start(): Promise<void> {
    if (this.stopping !== undefined) throw new Error('the platform is shutting down');
    for (const c of this.components) {
      if (this.started.has(c)) continue;
      try {
        await c.start();
      } catch (e) {
        await this.stop();
        throw e;
      }
      this.started.add(c);
      this.log?.debug({ component: c.name }, 'component started');
    }
  }

  /** Stops every started component, newest first; one failing does not keep the others running. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const c of [...this.components].reverse()) {
        if (!this.started.delete(c)) continue;
        try {
          await c.stop();
          this.log?.debug({ component: c.name }, 'component stopped');
        } catch (e) {
          this.log?.error({ component: c.name, err: e instanceof Error ? e.message : String(e) }, 'component failed to stop');
        }
      }
    })();
    return this.stopping;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }
}
