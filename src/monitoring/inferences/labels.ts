import { parse } from 'csv-parse/sync';
import { FluxError } from '../../core/index.js';
import type { InferenceLabel } from './types.js';

/** Most labels one call may attach. */
export const MAX_LABELS = 100_000;

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** Labels as the API takes them: `[{request_id, row?, label}]`, every problem named by its index. */
export function parseLabels(v: unknown, field = 'labels'): InferenceLabel[] {
  if (!Array.isArray(v)) throw bad(`${field} must be a list of {request_id, row?, label}`, field);
  if (v.length === 0) throw bad(`${field} is empty: send at least one label`, field);
  if (v.length > MAX_LABELS) throw new FluxError('PAYLOAD_TOO_LARGE', `${field} has ${v.length} labels; at most ${MAX_LABELS} per call`, { field });
  return v.map((item, i) => {
    const f = `${field}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad(`${f} must be an object {request_id, row?, label}`, f);
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== 'request_id' && k !== 'row' && k !== 'label') throw bad(`unknown field ${f}.${k} (known: request_id, row, label)`, `${f}.${k}`);
    return label(o.request_id, o.row, o.label, f);
  });
}

/**
 * Labels from CSV text with a header: `request_id` and `label` columns (names as written), and
 * an optional `row` (0 when absent). A label that reads as a number is one.
 */
export function parseLabelsCsv(text: string): InferenceLabel[] {
  let records: string[][];
  try {
    const parsed: unknown = parse(text, { skip_empty_lines: true, trim: true });
    records = parsed as string[][];
  } catch (e) {
    throw bad(`the labels CSV cannot be read: ${(e as Error).message}`, 'csv');
  }
  const header = records[0];
  if (header === undefined) throw bad('the labels CSV is empty: give a header (request_id,label[,row]) and one line per label', 'csv');
  const at = (name: string): number => header.findIndex((h) => h.toLowerCase() === name);
  const id = at('request_id');
  const lab = at('label');
  const row = at('row');
  if (id < 0 || lab < 0) throw bad(`the labels CSV needs columns request_id and label (its header is: ${header.join(', ')})`, 'csv');
  const lines = records.slice(1);
  if (lines.length === 0) throw bad('the labels CSV has a header and no labels', 'csv');
  if (lines.length > MAX_LABELS) throw new FluxError('PAYLOAD_TOO_LARGE', `the labels CSV has ${lines.length} labels; at most ${MAX_LABELS} per call`, { field: 'csv' });
  return lines.map((cells, i) => {
    const f = `line ${i + 2}`;
    const raw = cells[lab] ?? '';
    const value = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    return label(cells[id], row < 0 || cells[row] === '' ? 0 : Number(cells[row]), value, f);
  });
}

function label(requestId: unknown, row: unknown, value: unknown, f: string): InferenceLabel {
  if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) throw bad(`${f}: request_id must be a request id (1 to 64 letters, digits, '_', '.', '-'), got ${JSON.stringify(requestId)}`, `${f}.request_id`);
  const r = row ?? 0;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > 9999) throw bad(`${f}: row must be the row of the request, a whole number from 0, got ${JSON.stringify(row)}`, `${f}.row`);
  if (!(typeof value === 'string' && value !== '') && !(typeof value === 'number' && Number.isFinite(value))) {
    throw bad(`${f}: label must be a class label or a number, got ${JSON.stringify(value)}`, `${f}.label`);
  }
  return { requestId, row: r, label: value };
}

function bad(message: string, field: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message, { field });
}
