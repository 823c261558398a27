import { tracingConfig } from './config.js';
import { setTracing, tracing, type TracingLog } from './tracing.js';

/** Longest a shutdown waits for the last spans to be exported. */
const SHUTDOWN_MS = 5000;

export interface TracingHandle {
  /** What is exported where, for a banner: `OTLP http/json to http://…/v1/traces`. */
  readonly description: string;
  /** Stops tracing in this process: spans still queued are exported first (for up to 5 s). Never rejects; safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing in this process when the standard OpenTelemetry variables ask for it (see
 * tracingConfig): loads the SDK, registers its provider, and turns the hot paths' `tracing`
 * check on. Resolves to undefined, having loaded nothing, when tracing is off; throws a
 * FluxError on a setting it cannot honour. Call it before the platform opens.
 */
export async function startTracing(opts: { log?: TracingLog | undefined } = {}): Promise<TracingHandle | undefined> {
  const config = tracingConfig();
  if (config === undefined) return undefined;
  if (tracing !== undefined) throw new Error('tracing is already started in this process');
  const { startSdk } = await import('./sdk.js');
  const sdk = await startSdk(config, opts.log);
  setTracing(sdk.tracing);
  let closing: Promise<void> | undefined;
  return {
    description: `OTLP ${config.protocol} to ${config.url}`,
    shutdown: () =>
      (closing ??= (async () => {
        if (tracing === sdk.tracing) setTracing(undefined);
        // Never fails a clean exit, and never holds it past SHUTDOWN_MS (a collector that does not answer).
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), SHUTDOWN_MS).unref()));
        const done = sdk.shutdown().then(
          () => 'done' as const,
          (e: unknown) => void opts.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'traces not flushed on shutdown'),
        );
        if ((await Promise.race([done, late])) === 'late') opts.log?.warn({ ms: SHUTDOWN_MS }, 'traces not flushed on shutdown: the collector did not answer in time');
        clearTimeout(timer);
      })()),
  };
}
