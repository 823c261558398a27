/** One logged prediction request: what came in, what went out, who answered and how fast. */
export interface InferenceRecord {
  /** Write order (export and paging follow it). */
  seq: number;
  endpoint: string;
  deployment: string;
  /** The request's id (its X-Request-Id when the caller sent a sane one); labels are attached by it. */
  requestId: string;
  /** When it was answered, ms since the epoch. */
  time: number;
  model: string | null;
  version: string | null;
  /** The HTTP status answered. */
  status: number;
  latencyMs: number;
  rows: number;
  /** The request's native body: `{"inputs": [records]}` or `{"columns": [...], "data": [[...]]}`. */
  inputs: unknown;
  /** `{predictions, probabilities?, classes?}`, or null when the request failed. */
  outputs: InferenceOutputs | null;
  error: string | null;
}

export interface InferenceOutputs {
  predictions: Array<number | string>;
  probabilities?: number[][] | undefined;
  classes?: Array<number | string> | undefined;
}

/** A record to write (the store gives it its seq). */
export type NewInference = Omit<InferenceRecord, 'seq' | 'inputs' | 'outputs'> & { inputs: string; outputs: string | null };

export interface InferenceQuery {
  endpoint: string;
  deployment?: string | undefined;
  /** Answered at or after this time (ms since the epoch). */
  since?: number | undefined;
  /** Answered before this time. */
  until?: number | undefined;
  /** Only requests answered with 2xx (what drift is computed over). */
  okOnly?: boolean | undefined;
  /** Records after this seq (paging). */
  afterSeq?: number | undefined;
  limit: number;
  /** Newest first (listing) instead of oldest first (export, windows). */
  newestFirst?: boolean | undefined;
}

/** A true value for one row of a logged request. */
export interface InferenceLabel {
  requestId: string;
  /** The row of the request's inputs (0 for a one-row request). */
  row: number;
  label: number | string;
}

/** A logged row joined with its label, for realised performance. */
export interface LabelledRow {
  requestId: string;
  row: number;
  time: number;
  version: string | null;
  prediction: number | string;
  /** The probability row of a classifier, in `classes` order. */
  probabilities: number[] | undefined;
  classes: Array<number | string> | undefined;
  label: number | string;
}
