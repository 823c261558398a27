import { bodyRows } from './body-rows.js';
import type { InferenceRecord } from './types.js';

/** Live data of a window, column by column: what drift compares with a reference profile. */
export interface WindowColumns {
  rows: number;
  /** Input column → values, one per logged row (numbers, or strings for a text column; null when absent). */
  inputs: Record<string, Array<number | string | null>>;
  /** The predicted label or value per row. */
  predictions: Array<number | string>;
  /** A binary classifier's probability of its second (positive) class per row; empty otherwise. */
  scores: number[];
  /** The classes of the probabilities (of the newest record that had them). */
  classes: Array<number | string> | undefined;
  /** Versions that answered in the window, with their row counts. */
  versions: Record<string, number>;
}

/**
 * Unfolds the logged requests of a window into columns. A body is a native one (records or
 * columns/data); a column is named as the request named it, so a record lacking a column gets
 * null there (counted as missing by the profiles).
 */
export function windowColumns(records: readonly InferenceRecord[]): WindowColumns {
  const inputs: Record<string, Array<number | string | null>> = Object.create(null) as Record<string, Array<number | string | null>>;
  const predictions: Array<number | string> = [];
  const scores: number[] = [];
  const versions: Record<string, number> = {};
  let classes: Array<number | string> | undefined;
  let rows = 0;
  for (const r of records) {
    const out = r.outputs;
    const recs = out === null ? [] : bodyRows(r.inputs);
    if (out === null || recs.length === 0) continue;
    for (const rec of recs) {
      for (const [name, v] of Object.entries(rec)) {
        let col = inputs[name];
        if (col === undefined) inputs[name] = col = new Array<number | string | null>(rows).fill(null);
        while (col.length < rows) col.push(null);
        col[rows] = typeof v === 'number' || typeof v === 'string' ? v : null;
      }
      rows++;
    }
    const n = recs.length;
    for (let i = 0; i < n; i++) predictions.push(out.predictions[i] ?? '');
    if (out.probabilities !== undefined && out.classes !== undefined && out.classes.length === 2) {
      classes = out.classes;
      for (let i = 0; i < n; i++) scores.push(out.probabilities[i]?.[1] ?? NaN);
    }
    const v = r.version ?? 'unknown';
    versions[v] = (versions[v] ?? 0) + n;
  }
  for (const col of Object.values(inputs)) while (col.length < rows) col.push(null);
  return { rows, inputs, predictions, scores, classes, versions };
}
