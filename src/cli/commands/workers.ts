import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { FluxError } from '../../core/index.js';

/** Set in a serving worker's environment: it serves, and reports its address to the primary. */
export const WORKER_ENV = 'FLUXOPS_SERVING_WORKER';

export function parseWorkers(v: string | undefined): number {
  if (v === undefined) return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new FluxError('INVALID_PARAMETER_VALUE', `--workers must be an integer from 1 to 64, got '${v}'`);
  return n;
}

export function isServingWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/** A worker tells the primary it listens, with the line the primary prints once. */
export function reportListening(banner: string): void {
  process.send?.({ fluxops: 'listening', banner });
}

/**
 * The primary of `fluxops server --workers N`: forks N serving processes that share one listening
 * port (node:cluster hands connections out in turn), prints the first one's banner once all
 * listen, restarts a worker that dies (with a growing pause when they keep dying), and on SIGINT
 * or SIGTERM asks each to shut down gracefully and exits when they have. Every worker opens the
 * store itself: routing, rollouts and leases stay consistent between them through the store and
 * its events, as between replicas.
 */
export async function runPrimary(workers: number): Promise<void> {
  let stopping = false;
  let banner: string | undefined;
  let listening = 0;
  let restarts = 0;
  // A scrape of /metrics on any worker asks the primary, which collects every worker's metrics
  // and adds them up (prom-client's cluster aggregation).
  const aggregator = new AggregatorRegistry();
  const fork = (): Worker => {
    const w = cluster.fork({ [WORKER_ENV]: '1' });
    w.on('message', (m: { fluxops?: string; banner?: string; id?: number }) => {
      if (m?.fluxops === 'metrics') {
        aggregator.clusterMetrics().then(
          (text) => w.isConnected() && w.send({ fluxops: 'metrics-reply', id: m.id, text }),
          (e: unknown) => w.isConnected() && w.send({ fluxops: 'metrics-reply', id: m.id, error: e instanceof Error ? e.message : String(e) }),
        );
        return;
      }
      if (m?.fluxops !== 'listening') return;
      listening++;
      banner ??= m.banner;
      if (listening === workers) process.stdout.write(`${banner}serving with ${workers} worker processes (pids ${Object.values(cluster.workers ?? {}).map((x) => x?.process.pid).join(', ')})\n`);
    });
    return w;
  };
  cluster.on('exit', (w, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    restarts++;
    const pause = Math.min(10_000, 100 * 2 ** Math.min(restarts, 7));
    process.stderr.write(`fluxops: worker ${w.process.pid} exited (${signal ?? `code ${code}`}); starting another in ${pause} ms\n`);
    setTimeout(() => {
      if (!stopping) fork();
    }, pause).unref();
  });
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), 20_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (let i = 0; i < workers; i++) fork();
  await new Promise<void>(() => undefined);
}
