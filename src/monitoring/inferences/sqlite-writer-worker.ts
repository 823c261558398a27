/**
 * The inference log's writer thread for the embedded store: it opens its own connection to the
 * SQLite file and writes the batches the serving thread sends, so the serving thread only
 * serialises a batch into one string (a copy to pass, not a statement to run). Each message is
 * `{id, text}` with `text` the JSON of the batch's PendingInference records; the answer is `{id}`
 * or `{id, error}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { rowsOf, type PendingInference } from './inference-log.js';

/** Rows per transaction: the write lock is held for one of these at a time, so other writers of the file wait little. */
const TX_ROWS = 500;

const { file } = workerData as { file: string };
const db = new Database(file);
db.pragma('journal_mode = WAL');
// A logged request is a sample, not an acknowledged write: NORMAL keeps the file sound on a crash
// and skips the fsync of every batch.
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare(
  'insert into inferences (endpoint, deployment, request_id, time, model, version, status, latency_ms, row_count, inputs, outputs, error) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);
const write = db.transaction((batch: PendingInference[], from: number, to: number) => {
  for (let i = from; i < to; i++) {
    const p = batch[i]!;
    const r = p.result;
    insert.run(
      p.endpoint,
      p.deployment,
      p.requestId,
      p.time,
      p.model,
      p.version,
      p.status,
      p.latencyMs,
      rowsOf(p.body),
      JSON.stringify(p.body ?? null),
      r === undefined || r === null ? null : JSON.stringify({ predictions: r.predictions, probabilities: r.probabilities, classes: r.classes }),
      p.error,
    );
  }
});

parentPort!.on('message', (m: { id: number; text?: string; close?: boolean }) => {
  if (m.close === true) {
    db.close();
    parentPort!.postMessage({ id: m.id });
    return;
  }
  try {
    const batch = JSON.parse(m.text!) as PendingInference[];
    for (let i = 0; i < batch.length; i += TX_ROWS) write(batch, i, Math.min(batch.length, i + TX_ROWS));
    parentPort!.postMessage({ id: m.id });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
