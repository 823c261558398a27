import type { Command } from 'commander';
import { buildApp, type App } from '../../api/index.js';
import { FluxError, createLogger } from '../../core/index.js';
import { openPlatform, type Platform } from '../../platform.js';
import type { GlobalOptions } from '../context.js';

export interface ServeOptions {
  port: number;
  host: string;
  model?: string | undefined;
}

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new FluxError('INVALID_PARAMETER_VALUE', `--port must be an integer from 0 to 65535, got '${v}'`);
  return n;
}

/** Listens and resolves once listening; closes cleanly on SIGINT/SIGTERM. */
export async function startServing(platform: Platform, opts: ServeOptions): Promise<{ app: App; url: string }> {
  const app = await buildApp({ platform, model: opts.model, logger: createLogger({}, true) });
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
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    void app
      .close()
      .then(() => platform.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
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
    .action(async (o: { port: string; host: string; model?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const port = parsePort(o.port);
      const platform = await openPlatform({ home: g.home });
      try {
        const model = o.model ?? process.env.FLUXOPS_MODEL ?? (await defaultModel(platform));
        const { url } = await startServing(platform, { port, host: o.host, model });
        process.stdout.write(`FluxOps listening on ${url}  (store: ${platform.db.location}, artifacts: ${platform.artifacts.uri}${model ? `, serving ${model}` : ''})\nAPI docs: ${url}/api/docs\n`);
      } catch (e) {
        await platform.close();
        throw e;
      }
    });
}
