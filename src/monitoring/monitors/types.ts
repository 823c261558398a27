import type { PerformanceEstimate, PerformanceFigures } from '../cbpe.js';
import type { ColumnDriftOptions, ColumnDriftResult, DatasetDriftResult } from '../drift-stats.js';

/** A drift monitor: which traffic it watches, against what, how often, and how it decides. */
export interface Monitor {
  name: string;
  endpoint: string;
  /** Only this deployment's traffic; null for the whole endpoint. */
  deployment: string | null;
  /** The version compared with (`model/version`); null: the version that answered most of the window. */
  reference: string | null;
  /** How far back a check looks, in ms. */
  windowMs: number;
  /** How often it is checked, in ms; null: on demand only. */
  everyMs: number | null;
  /** Fewest logged rows a window needs to be judged. */
  minRows: number;
  /** Most rows a window reads (the oldest of a larger window are left out). */
  maxRows: number;
  /** The share of drifted columns at which the dataset counts as drifted. */
  driftShare: number;
  /** Per-column method and threshold, over the defaults of its kind and size. */
  columns: Record<string, ColumnDriftOptions>;
  /** Columns left out of the check. */
  ignore: string[];
  enabled: boolean;
  nextRunAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type MonitorStatus = 'ok' | 'drift' | 'insufficient_data' | 'no_reference' | 'error';

/** One check of a monitor: one point of its time series. */
export interface MonitorResult {
  seq: number;
  monitor: string;
  endpoint: string;
  time: number;
  windowStart: number;
  windowEnd: number;
  rows: number;
  status: MonitorStatus;
  /** Why it could not be judged, when it could not. */
  message: string | null;
  reference: { model: string; version: string; source: string } | null;
  /** Versions that answered in the window, with their rows. */
  versions: Record<string, number>;
  columns: Record<string, ColumnDriftResult>;
  dataset: DatasetDriftResult | null;
  predictions: { class?: ColumnDriftResult | undefined; score?: ColumnDriftResult | undefined };
  /** Prediction drift: the predicted class or the score distribution drifted. */
  predictionDrift: boolean;
  performance: {
    /** CBPE on the window's scores (binary classifiers whose reference kept held-out scores). */
    estimated: PerformanceEstimate | null;
    calibrated: boolean;
    /** On the rows of the window that have labels. */
    realised: PerformanceFigures | null;
  } | null;
}
