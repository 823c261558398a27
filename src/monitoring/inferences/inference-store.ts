import type { InferenceLabel, InferenceQuery, InferenceRecord, NewInference } from './types.js';

/**
 * Port for the inference table. Writes come in batches from the inference log (one transaction
 * per batch); reads are windows of one endpoint in time order.
 */
export interface InferenceStore {
  insertBatch(rows: NewInference[]): Promise<void>;
  list(q: InferenceQuery): Promise<InferenceRecord[]>;
  count(q: Omit<InferenceQuery, 'limit' | 'afterSeq' | 'newestFirst'>): Promise<number>;
  /**
   * Upserts labels by (endpoint, request id, row) and returns how many name a request that is
   * logged; the others are kept too (the request may be in a batch not yet written, or sampled out).
   */
  putLabels(endpoint: string, labels: InferenceLabel[], now: number): Promise<{ written: number; matched: number }>;
  /** Labels of the given request ids. */
  labelsOf(endpoint: string, requestIds: readonly string[]): Promise<Map<string, Map<number, number | string>>>;
  /** Deletes what is older than `before` (records and labels) in chunks; returns the records deleted. */
  deleteOlderThan(endpoint: string, before: number): Promise<number>;
  /** Requests of a window: all, failed (status ≥ 500) and, with `slowerThanMs`, slower than it. */
  aggregate(endpoint: string, since: number, until: number, slowerThanMs?: number): Promise<{ count: number; errors: number; slow: number }>;
  /** Latencies (ms) of the newest `max` requests of a window that were answered. */
  latencies(endpoint: string, since: number, until: number, max: number): Promise<number[]>;
  /** Endpoints that have logged records (retention goes over them, including deleted endpoints). */
  endpoints(): Promise<string[]>;
}
