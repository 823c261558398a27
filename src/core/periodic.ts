import type { Component } from './lifecycle.js';

export interface PeriodicOptions {
  /** The first run after this many ms (default: one period). */
  firstMs?: number | undefined;
  /** Told of a run that threw; the next tick runs as usual. */
  onError?: ((e: unknown) => void) | undefined;
}

/**
 * A background part that runs `job` every `everyMs`, one run at a time: a tick while a run is
 * under way is skipped, not queued. `stop` ends the ticks and waits for the run in flight, whose
 * `signal` is aborted so a run of several steps can end between two.
 */
export function periodic(name: string, everyMs: number, job: (signal: AbortSignal) => Promise<void>, opts: PeriodicOptions = {}): Component {
  const stopping = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running !== undefined || stopping.signal.aborted) return;
    running = job(stopping.signal)
      .catch((e: unknown) => opts.onError?.(e))
      .finally(() => (running = undefined));
  };
  return {
    name,
    start: () => {
      timers.push(setInterval(tick, everyMs));
      if (opts.firstMs !== undefined) timers.push(setTimeout(tick, opts.firstMs));
      for (const t of timers) t.unref();
    },
    stop: async () => {
      stopping.abort();
      for (const t of timers) clearTimeout(t);
      await running;
    },
  };
}
