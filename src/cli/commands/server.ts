import type { Command } from 'commander';
import { buildApp, uiBanner, type App } from '../../api/index.js';
import type { AuthMode } from '../../http/index.js';
import { FluxError, parseIntegerSetting } from '../../core/index.js';
import { addJobWorker } from '../../job-handlers.js';
import { endpointName } from '../../endpoints/index.js';
import { createLogger } from '../../logging/index.js';
import { openPlatform, type Platform } from '../../platform.js';
import { startTracing, type TracingHandle } from '../../tracing/index.js';
import type { GlobalOptions } from '../context.js';
import { isServingWorker, parseWorkers, reportListening, runPrimary } from './workers.js';

export interface ServeOptions {
  port: number;
  host: string;
  model?: string | undefined;
  /** An endpoint served by /api/predict instead of a model. */
  endpoint?: string | undefined;
  /** Default: `off` on a loopback address, `required` otherwise. */
  auth?: string | undefined;
  /** Allows `--auth off` on an address other people can reach. */
  insecure?: boolean | undefined;
  protectedAliases?: readonly string[] | undefined;
  /** Fallback re-resolution of the served alias, in ms; events move it at once (default 2 s). */
  aliasPollMs?: number | undefined;
  /** Tracing started for this process: flushed and stopped last on shutdown. */
  tracing?: TracingHandle | undefined;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The auth policy a server starts with, refusing an open server on a reachable address. */
export function authModeFor(opts: Pick<ServeOptions, 'auth' | 'host' | 'insecure'>): AuthMode {
  const given = opts.auth ?? process.env.FLUXOPS_AUTH;
  if (given !== undefined && given !== 'required' && given !== 'off') throw new FluxError('INVALID_PARAMETER_VALUE', `--auth must be required or off, got '${given}'`);
  const mode: AuthMode = given ?? (isLoopback(opts.host) ? 'off' : 'required');
  if (mode === 'off' && !isLoopback(opts.host) && opts.insecure !== true) {
    throw new FluxError(
      'INVALID_PARAMETER_VALUE',
      `--auth off on ${opts.host} would let anyone who can reach it change runs and models; use --auth required (the default off loopback), bind 127.0.0.1, or add --insecure`,
    );
  }
  return mode;
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
export async function startServing(platform: Platform, opts: ServeOptions): Promise<{ app: App; url: string; bound: string; auth: AuthMode }> {
  const auth = authModeFor(opts);
  const app = await buildApp({ platform, model: opts.model, endpoint: opts.endpoint, logger: createLogger({}, true), aliasPollMs: opts.aliasPollMs, auth, protectedAliases: opts.protectedAliases, workerId: isServingWorker() ? String(process.pid) : undefined });
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
  const boundHost = typeof address === 'object' && address !== null ? address.address : opts.host;
  const hostPart = (h: string) => (h.includes(':') ? `[${h}]` : h);
  // The address actually bound, and one a client on this machine can connect to.
  const bound = `http://${hostPart(boundHost)}:${port}`;
  const shownHost = boundHost === '0.0.0.0' || boundHost === '::' ? '127.0.0.1' : boundHost;
  const url = `http://${hostPart(shownHost)}:${port}`;
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
      .then(() => opts.tracing?.shutdown())
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
  return { app, url, bound, auth };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

export function parseAliasList(v: string): string[] {
  const list = v.split(',').map((a) => a.trim()).filter((a) => a !== '');
  for (const a of list) if (!/^[\w.-]{1,255}$/.test(a)) throw new FluxError('INVALID_PARAMETER_VALUE', `--protected-aliases: '${a}' is not an alias name`);
  return list;
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
    .option('--endpoint <name>', 'serve this endpoint on /api/predict, /api/model-info and /invocations, through its traffic split, instead of a model (default: FLUXOPS_ENDPOINT)')
    .option('--alias-poll-ms <ms>', 'fallback re-check of the served alias; alias events swap at once (default: FLUXOPS_ALIAS_POLL_MS or 2000)')
    .option('--auth <mode>', 'required (every call but health and docs needs a key) or off (tracking and registry open); default: off on loopback, required otherwise (FLUXOPS_AUTH)')
    .option('--insecure', 'allow --auth off on an address other machines can reach')
    .option('--protected-aliases <list>', 'comma-separated aliases only admin keys (and approved gates) may move', 'production')
    .option('--workers <n>', 'serving processes sharing the port (node:cluster), each with its own store connection; 1 runs in this process (default: FLUXOPS_WORKERS or 1)')
    .option('--artifacts-mode <mode>', "proxied (runs get mlflow-artifacts:/ URIs, clients go through this server) or direct (runs get the artifact store's own file:// or s3:// URIs and clients write there themselves, as mlflow server --no-serve-artifacts); default: FLUXOPS_ARTIFACTS_MODE, else proxied")
    .option('--job-concurrency <n>', 'pipeline steps and jobs this process runs at once; 0 leaves them to `fluxops worker` processes (default: FLUXOPS_JOB_CONCURRENCY, else 2 on the embedded store and 0 on Postgres)')
    .action(async (o: { port: string; host: string; model?: string; endpoint?: string; aliasPollMs?: string; auth?: string; insecure?: boolean; protectedAliases: string; artifactsMode?: string; workers?: string; jobConcurrency?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const port = parsePort(o.port);
      const workers = parseWorkers(o.workers ?? process.env.FLUXOPS_WORKERS);
      const pollText = o.aliasPollMs ?? process.env.FLUXOPS_ALIAS_POLL_MS;
      const aliasPollMs = pollText !== undefined && pollText !== '' ? parsePollMs(pollText, '--alias-poll-ms') : undefined;
      const protectedAliases = parseAliasList(o.protectedAliases);
      authModeFor({ auth: o.auth, host: o.host, insecure: o.insecure });
      const endpoint = o.endpoint ?? (o.model === undefined ? nonEmpty(process.env.FLUXOPS_ENDPOINT) : undefined);
      if (endpoint !== undefined && o.model !== undefined) throw new FluxError('INVALID_PARAMETER_VALUE', '--endpoint and --model both name what /api/predict serves; pass one');
      if (endpoint !== undefined) endpointName(endpoint, '--endpoint');
      if (workers > 1 && !isServingWorker()) {
        // The schema is brought up to date once, here, before the workers open the store.
        await (await openPlatform({ home: g.home, artifactsMode: o.artifactsMode })).close();
        await runPrimary(workers);
        return;
      }
      const tracing = await startTracing({ log: createLogger({}, true) });
      const platform = await openPlatform({ home: g.home, artifactsMode: o.artifactsMode }).catch(async (e: unknown) => {
        await tracing?.shutdown();
        throw e;
      });
      try {
        const model = endpoint !== undefined ? undefined : (o.model ?? nonEmpty(process.env.FLUXOPS_MODEL) ?? (await defaultModel(platform)));
        if (endpoint !== undefined && !(await platform.endpoints.listEndpoints()).some((e) => e.name === endpoint)) {
          process.stderr.write(`warning: endpoint '${endpoint}' does not exist yet; /api/predict answers 404 until it is created (fluxops endpoints create ${endpoint})\n`);
        }
        const jobText = o.jobConcurrency ?? nonEmpty(process.env.FLUXOPS_JOB_CONCURRENCY);
        const jobConcurrency = jobText !== undefined ? parseIntegerSetting(jobText, '--job-concurrency', 0, 256) : platform.db.dialect === 'sqlite' ? 2 : 0;
        const { url, bound, auth } = await startServing(platform, { port, host: o.host, model, endpoint, aliasPollMs, auth: o.auth, insecure: o.insecure, protectedAliases, tracing });
        if (jobConcurrency > 0) {
          const publicUrl = nonEmpty(process.env.FLUXOPS_PUBLIC_URL);
          await addJobWorker(platform, { concurrency: jobConcurrency, serverUrl: () => publicUrl ?? url, logger: createLogger({}, true) });
          await platform.start();
        }
        const banner =
          `FluxOps listening on ${bound}${bound !== url ? ` (${url} from this machine)` : ''}  (store: ${platform.db.location}, artifacts: ${platform.artifacts.uri}${endpoint ? `, serving endpoint ${endpoint}` : model ? `, serving ${model}` : ''})\n` +
            `auth: ${auth === 'off' ? 'off — tracking and registry are open to anyone who can reach this address; keys and predictions need a key' : 'required — every call but /api/health, /api/model-info and the docs needs an API key'}\n` +
            `artifacts: ${platform.config.artifactsMode === 'direct' ? `direct — clients read and write ${platform.artifacts.uri} themselves` : 'proxied through this server (mlflow-artifacts:/)'}\n` +
            (tracing !== undefined ? `traces: ${tracing.description}\n` : '') +
            `jobs: ${jobConcurrency > 0 ? `${jobConcurrency} at a time in this process (pipeline steps, sweeps, commands)` : 'none in this process — run `fluxops worker` beside it'}\n` +
            `${uiBanner(url)}\n` +
            `API docs: ${url}/api/docs\n`;
        if (isServingWorker()) reportListening(banner);
        else process.stdout.write(banner);
      } catch (e) {
        await platform.close();
        await tracing?.shutdown();
        throw e;
      }
    });
}
