import { Worker } from 'node:worker_threads';

/** Where a worker's platform lives: the same database (and artifacts) as the test's own platform. */
export interface WorkerConfig {
  home: string;
  databaseUrl: string;
  artifactRoot: string;
}

/** What a service call ended with; an error that is not a FluxError is `UNEXPECTED` (a 500 over HTTP). */
export type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message: string };
export interface WorkerCall {
  id: number;
  service: 'tracking' | 'registry' | 'loggedModels' | 'keys' | 'endpoints';
  method: string;
  args: unknown[];
}
export interface WorkerReply {
  id: number;
  outcome: Outcome;
}

/** One more "server" on the test's database: its own thread, its own connection or pool. */
export interface StoreWorker {
  call(service: WorkerCall['service'], method: string, ...args: unknown[]): Promise<Outcome>;
  close(): Promise<void>;
}

const HOOKS = new URL('./ts-loader/register.js', import.meta.url).href;

/**
 * Starts `n` worker threads, each with its own platform over one database. Threads, not more
 * platforms in this thread: better-sqlite3 waits for a busy database synchronously, so two SQLite
 * connections in one thread would wait for each other forever (until the busy timeout); separate
 * threads are what separate server processes are.
 */
export async function startStoreWorkers(n: number, config: WorkerConfig): Promise<StoreWorker[]> {
  return Promise.all(Array.from({ length: n }, () => startStoreWorker(config)));
}

async function startStoreWorker(config: WorkerConfig): Promise<StoreWorker> {
  const worker = new Worker(new URL('./store-worker.ts', import.meta.url), { workerData: config, execArgv: ['--import', HOOKS], env: process.env });
  const pending = new Map<number, (o: Outcome) => void>();
  let nextId = 0;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    worker.once('error', onError);
    worker.once('message', (m) => {
      worker.off('error', onError);
      if (m === 'ready') resolve();
      else reject(new Error(`store worker said ${JSON.stringify(m)} before it was ready`));
    });
  });
  worker.on('message', (r: WorkerReply) => {
    pending.get(r.id)?.(r.outcome);
    pending.delete(r.id);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    call(service, method, ...args) {
      const id = nextId++;
      return new Promise<Outcome>((resolve) => {
        pending.set(id, resolve);
        worker.postMessage({ id, service, method, args } satisfies WorkerCall);
      });
    },
    async close() {
      worker.postMessage('close');
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
