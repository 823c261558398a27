/**
 * The inference log's writer thread for the embedded store: it opens its own connection to the
 * SQLite file and inserts the segments the serving thread built (one string each, cheap to pass),
 * so the serving thread does not spend the insert's copy of every record into the file's pages.
 * Each message is `{id, segments}`; the answer is `{id}` or `{id, error}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { SegmentValues } from './kysely-inference-store.js';

const { file } = workerData as { file: string };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare(
  'insert into inference_segments (endpoint, min_time, max_time, record_count, error_count, latency_buckets, records) values (?, ?, ?, ?, ?, ?, ?)',
);
const write = db.transaction((segments: SegmentValues[]) => {
  for (const s of segments) insert.run(s.endpoint, s.min_time, s.max_time, s.record_count, s.error_count, s.latency_buckets, s.records);
});

parentPort!.on('message', (m: { id: number; segments?: SegmentValues[]; close?: boolean }) => {
  if (m.close === true) {
    db.close();
    parentPort!.postMessage({ id: m.id });
    return;
  }
  try {
    write(m.segments!);
    parentPort!.postMessage({ id: m.id });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
