import { Worker } from 'node:worker_threads';

export interface ScheduleWorkerConfig {
  home: string;
  databaseUrl: string;
  serverId: string;
}
export interface StartCall {
  schedule: string;
  slot: number;
  run: string;
}
export type ScheduleWorkerRequest = { type: 'tick'; id: number; now: number } | { type: 'starts'; id: number } | { type: 'close' };
export type ScheduleWorkerReply = { id: number; ok: true; starts: StartCall[] } | { id: number; ok: false; error: string };

/** One more server ticking the schedules of the test's database, in its own thread. */
export interface ScheduleWorker {
  readonly serverId: string;
  /** Sets the server's clock to `now` and runs one tick; rejects with the tick's failure. */
  tick(now: number): Promise<void>;
  /** Every `target.start` this server made. */
  starts(): Promise<StartCall[]>;
  close(): Promise<void>;
}

const HOOKS = new URL('./ts-loader/register.js', import.meta.url).href;

/**
 * Threads rather than more platforms in the test's thread: better-sqlite3 waits for a busy
 * database synchronously, so two SQLite connections in one thread would wait for each other;
 * threads are what separate server processes are.
 */
export async function startScheduleWorker(config: ScheduleWorkerConfig): Promise<ScheduleWorker> {
  const worker = new Worker(new URL('./schedule-worker.ts', import.meta.url), { workerData: config, execArgv: ['--import', HOOKS], env: process.env });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    worker.once('error', onError);
    worker.once('message', (m) => {
      worker.off('error', onError);
      if (m === 'ready') resolve();
      else reject(new Error(`schedule worker said ${JSON.stringify(m)} before it was ready`));
    });
  });
  const pending = new Map<number, (r: ScheduleWorkerReply) => void>();
  worker.on('message', (r: ScheduleWorkerReply) => {
    pending.get(r.id)?.(r);
    pending.delete(r.id);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let nextId = 0;
  const ask = (req: { type: 'tick'; now: number } | { type: 'starts' }): Promise<StartCall[]> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, (r) => (r.ok ? resolve(r.starts) : reject(new Error(`${config.serverId}: ${r.error}`))));
      worker.postMessage({ ...req, id } satisfies ScheduleWorkerRequest);
    });
  };
  return {
    serverId: config.serverId,
    async tick(now) {
      await ask({ type: 'tick', now });
    },
    starts: () => ask({ type: 'starts' }),
    async close() {
      worker.postMessage({ type: 'close' } satisfies ScheduleWorkerRequest);
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
