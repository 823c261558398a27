import { bodyRows } from './body-rows.js';
import type { InferenceRecord } from './types.js';

export type ExportFormat = 'jsonl' | 'csv';

/** JSON Lines: one logged request per line, as the API lists it. */
export async function* jsonLines(records: AsyncIterable<InferenceRecord>): AsyncGenerator<string> {
  for await (const r of records) yield `${JSON.stringify(r)}\n`;
}

/**
 * CSV: one line per predicted row (a request of 3 rows gives 3 lines), with the request's fields,
 * its row number, the input columns, the prediction and, for a classifier, one probability
 * column per class. The header is taken from the first request with inputs; a column a later
 * request adds is left out and one it lacks is empty.
 */
export async function* csvLines(records: AsyncIterable<InferenceRecord>): AsyncGenerator<string> {
  let columns: string[] | undefined;
  let classes: Array<number | string> = [];
  for await (const r of records) {
    const rows = bodyRows(r.inputs);
    if (columns === undefined) {
      columns = rows[0] === undefined ? [] : Object.keys(rows[0]);
      classes = r.outputs?.classes ?? [];
      yield `${['seq', 'time', 'endpoint', 'deployment', 'request_id', 'model', 'version', 'status', 'latency_ms', 'row', ...columns, 'prediction', ...classes.map((c) => `p_${String(c)}`), 'error'].map(cell).join(',')}\n`;
    }
    const base = [r.seq, new Date(r.time).toISOString(), r.endpoint, r.deployment, r.requestId, r.model ?? '', r.version ?? '', r.status, r.latencyMs.toFixed(3)];
    const n = Math.max(rows.length, r.outputs?.predictions.length ?? 0, 1);
    let text = '';
    for (let i = 0; i < n; i++) {
      const values = rows[i] ?? {};
      const probs = r.outputs?.probabilities?.[i] ?? [];
      text += `${[...base, i, ...columns.map((c) => values[c] ?? ''), r.outputs?.predictions[i] ?? '', ...classes.map((_, k) => probs[k] ?? ''), r.error ?? ''].map(cell).join(',')}\n`;
    }
    yield text;
  }
}

function cell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
