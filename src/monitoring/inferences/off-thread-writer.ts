import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InferenceStore } from './inference-store.js';
import { segmentsOf, type SegmentValues } from './kysely-inference-store.js';

const WORKER = new URL('./sqlite-writer-worker.js', import.meta.url);

/** Where the inference log hands its batches instead of the store: the store's insert, done elsewhere. */
export interface BatchWriter extends Pick<InferenceStore, 'insertBatch'> {
  close(): Promise<void>;
}

/**
 * A writer thread for the embedded store's file (see sqlite-writer-worker.ts), or undefined where
 * the compiled worker is not beside this file (the TypeScript sources run by a test runner): the
 * log then writes on its own thread through the store.
 */
export function offThreadSqliteWriter(sqliteFile: string): BatchWriter | undefined {
  const script = fileURLToPath(WORKER);
  if (!fs.existsSync(script)) return undefined;
  const worker = new Worker(script, { workerData: { file: sqliteFile } });
  worker.unref();
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let next = 0;
  let dead: Error | undefined;
  worker.on('message', (m: { id: number; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error === undefined) p?.resolve();
    else p?.reject(new Error(m.error));
  });
  const fail = (e: Error): void => {
    dead = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the inference writer thread stopped (exit code ${code})`)));
  const send = (msg: { segments?: SegmentValues[]; close?: boolean }): Promise<void> =>
    dead !== undefined
      ? Promise.reject(dead)
      : new Promise((resolve, reject) => {
          const id = ++next;
          pending.set(id, { resolve, reject });
          worker.postMessage({ id, ...msg });
        });
  return {
    // The segments are built here and passed as a few strings, copied whole (the records
    // themselves would be structured-cloned); the thread spends the insert.
    insertBatch: (rows) => send({ segments: segmentsOf(rows) }),
    close: async () => {
      if (dead === undefined) await send({ close: true }).catch(() => undefined);
      await worker.terminate();
    },
  };
}
