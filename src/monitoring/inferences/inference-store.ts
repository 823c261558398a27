import type { InferenceLabel, InferenceQuery, InferenceRecord, NewInference } from './types.js';

/** Requests of a window by latency: counts per bucket, the last one above the last bound. */
export interface LatencyHistogram {
  boundsMs: readonly number[];
  counts: number[];
}

/**
 * Port for the inference table. Writes come in batches from the inference log; reads are windows
 * of one endpoint in write order. Figures for alerts (counts, errors, latency) may be answered at
 * the resolution of a batch (a window takes every batch that overlaps it).
 */
export interface InferenceStore {
  insertBatch(rows: NewInference[]): Promise<void>;
  list(q: InferenceQuery): Promise<InferenceRecord[]>;
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
  /** Latencies of a window's requests, as a histogram. */
  latencyHistogram(endpoint: string, since: number, until: number): Promise<LatencyHistogram>;
  /** Endpoints that have logged records (retention goes over them, including deleted endpoints). */
  endpoints(): Promise<string[]>;
}
