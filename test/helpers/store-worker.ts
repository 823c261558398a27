/**
 * A worker thread holding its own platform (its own SQLite connection or Postgres pool) over a
 * database another part of the test opened: one of the "several servers" of the concurrency
 * tests. It answers calls to service methods with their outcome; see store-workers.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FluxError } from '../../src/core/index.js';
import { openPlatform, type Platform } from '../../src/platform.js';
import type { WorkerCall, WorkerConfig, WorkerReply } from './store-workers.js';

const config = workerData as WorkerConfig;
const port = parentPort!;
const platform: Platform = await openPlatform(config);

port.on('message', (msg: WorkerCall | 'close') => {
  if (msg === 'close') {
    void platform.close().then(() => port.close());
    return;
  }
  const service = platform[msg.service] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const reply = (r: WorkerReply): void => port.postMessage(r);
  Promise.resolve()
    .then(() => service[msg.method]!.apply(service, msg.args))
    .then(
      (value) => reply({ id: msg.id, outcome: { ok: true, value: structuredCloneable(value) } }),
      (e: unknown) =>
        reply({
          id: msg.id,
          outcome: e instanceof FluxError ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'UNEXPECTED', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) },
        }),
    );
});
port.postMessage('ready');

function structuredCloneable(v: unknown): unknown {
  return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown);
}
