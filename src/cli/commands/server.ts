import type { Command } from 'commander';
import { buildApp, type App } from '../../api/index.js';
import { FluxError, createLogger } from '../../core/index.js';
import { openPlatform, type Platform } from '../../platform.js';
import type { GlobalOptions } from '../context.js';

export interface ServeOptions {
  port: number;
  host: string;
  model?: string | undefined;
  /** Fallback re-resolution of the served alias, in ms; events move it at once (default 2 s). */
  aliasPollMs?: number | undefined;
}

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 15_000;

export function parsePollMs(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 50 || n > 24 * 3_600_000) throw new FluxError('INVALID_PARAMETER_VALUE', `${flag} must be an integer number of ms from 50 to 86400000, got '${v}'`);
  return n;
}

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new FluxError('INVALID_PARAMETER_VALUE', `--port must be an integer from 0 to 65535, got '${v}'`);
  return n;
}

/** Listens and resolves once listening; closes cleanly on SIGINT/SIGTERM. */
export async function startServing(platform: Platform, opts: ServeOptions): Promise<{ app: App; url: string }> {
  const app = await buildApp({ platform, model: opts.model, logger: createLogger({}, true), aliasPollMs: opts.aliasPollMs });
  try {
    await app.listen({ port: opts.port, host: opts.host });
  } catch (e) {
    await app.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new FluxError('INVALID_PARAMETER_VALUE', `port ${opts.port} on ${opts.host} is already in use; pass --port <another>`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new FluxError('INVALID_PARAMETER_VALUE', `cannot listen on host '${opts.host}'`);
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  let closing = false;
  // Graceful: stop accepting, let requests in flight finish, stop the background parts (model
  // poll, LISTEN client, a last event flush), close the store. A second signal, or a shutdown that
  // hangs, exits at once.
  const shutdown = (signal: string) => {
    if (closing) process.exit(1);
    closing = true;
    app.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    void app
      .close()
      .then(() => platform.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          app.log.error({ err: e instanceof Error ? e.message : String(e) }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return { app, url };
}

/** The model a server serves when none is named: the first model with a `production` alias. */
async function defaultModel(platform: Platform): Promise<string | undefined> {
  const page = await platform.registry.searchRegisteredModels({ maxResults: 1000 });
  const m = page.items.find((x) => x.aliases.some((a) => a.alias === 'production'));
  return m ? `${m.name}@production` : undefined;
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run the API server: tracking and registry under /api/v1, prediction under /api, docs at /api/docs')
    .option('--port <n>', 'port to listen on', '8000')
    .option('--host <host>', 'interface to bind (0.0.0.0 to accept remote clients)', '127.0.0.1')
    .option('--model <ref>', 'model served by /api/predict (name@alias; default: FLUXOPS_MODEL, else the first model with a production alias)')
    .option('--alias-poll-ms <ms>', 'fallback re-check of the served alias; alias events swap at once (default: FLUXOPS_ALIAS_POLL_MS or 2000)')
    .action(async (o: { port: string; host: string; model?: string; aliasPollMs?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const port = parsePort(o.port);
      const pollText = o.aliasPollMs ?? process.env.FLUXOPS_ALIAS_POLL_MS;
      const aliasPollMs = pollText !== undefined && pollText !== '' ? parsePollMs(pollText, '--alias-poll-ms') : undefined;
      const platform = await openPlatform({ home: g.home });
      try {
        const model = o.model ?? process.env.FLUXOPS_MODEL ?? (await defaultModel(platform));
        const { url } = await startServing(platform, { port, host: o.host, model, aliasPollMs });
        process.stdout.write(`FluxOps listening on ${url}  (store: ${platform.db.location}${model ? `, serving ${model}` : ''})\nAPI docs: ${url}/api/docs\n`);
      } catch (e) {
        await platform.close();
        throw e;
      }
    });
}
