import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FluxError, type ErrorCode } from '../core/index.js';
import { train, type TrainInput, type TrainResult } from './trainer.js';

const WORKER = new URL('./train-worker.js', import.meta.url);
/**
 * Below this many cells a training takes well under a second: starting a thread and copying the
 * data cost more than the pause, so it trains here.
 */
const SMALL = 250_000;

/**
 * Trains in a worker thread, so the process goes on answering (requests, a job's heartbeats)
 * while the solver runs; the built-in trainers compute synchronously. Small data (under SMALL
 * cells) trains here, and so does everything where the compiled worker is not beside this file
 * (the TypeScript sources run by a test runner). An abort terminates the thread.
 */
export function trainOffThread(input: Omit<TrainInput, 'now'>, signal?: AbortSignal): Promise<TrainResult> {
  const file = fileURLToPath(WORKER);
  const cells = input.dataset !== undefined ? input.dataset.rowCount * input.dataset.columns.length : (input.csvText?.length ?? 0) / 4;
  if (cells < SMALL || !fs.existsSync(file)) return Promise.resolve().then(() => train(input));
  const { onProgress, ...data } = input;
  return new Promise((resolve, reject) => {
    const worker = new Worker(file, { workerData: data });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => settle(() => {
      void worker.terminate();
      reject(signal?.reason instanceof Error ? signal.reason : new Error('training was stopped'));
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: { progress?: [number, number, number]; result?: TrainResult; error?: string; code?: ErrorCode; details?: Record<string, unknown> }) => {
      if (m.progress !== undefined) onProgress?.(...m.progress);
      else if (m.result !== undefined) settle(() => resolve(m.result!));
      else if (m.error !== undefined) settle(() => reject(m.code !== undefined ? new FluxError(m.code, m.error!, m.details) : new Error(m.error)));
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => settle(() => reject(new Error(`the training thread stopped (exit code ${code})`))));
  });
}
