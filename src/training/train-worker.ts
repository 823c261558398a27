import { parentPort, workerData } from 'node:worker_threads';
import { FluxError } from '../core/index.js';
import { train, type TrainInput } from './trainer.js';

/**
 * The body of a training thread (see `trainOffThread`): trains once on the input it was started
 * with, posting progress as it goes and the result (or the error) at the end.
 */
const port = parentPort!;
const input = workerData as Omit<TrainInput, 'onProgress' | 'now'>;
try {
  const result = train({ ...input, onProgress: (iteration, maxIter, loss) => port.postMessage({ progress: [iteration, maxIter, loss] }) });
  port.postMessage({ result });
} catch (e) {
  port.postMessage({ error: e instanceof Error ? e.message : String(e), code: e instanceof FluxError ? e.code : undefined, details: e instanceof FluxError ? e.details : undefined });
}
