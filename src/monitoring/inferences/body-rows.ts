/**
 * The rows of a native predict body as records: `{"inputs": [records]}` as they are, and
 * `{"columns": [...], "data": [[...]]}` zipped; nothing for a body that is neither. What the
 * monitors' windows and the CSV export read a logged request by.
 */
export function bodyRows(body: unknown): Array<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as { inputs?: unknown; columns?: unknown; data?: unknown };
  if (Array.isArray(b.inputs)) return b.inputs.map((x) => (typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {}));
  if (Array.isArray(b.columns) && Array.isArray(b.data)) {
    const cols = b.columns.map(String);
    return b.data.map((row) => (Array.isArray(row) ? Object.fromEntries(cols.map((c, j) => [c, row[j]])) : {}));
  }
  return [];
}

/** How many rows a native body has, without unfolding it (the flush counts every logged request). */
export function rowsOf(body: unknown): number {
  if (typeof body !== 'object' || body === null) return 0;
  const b = body as { inputs?: unknown; data?: unknown };
  if (Array.isArray(b.inputs)) return b.inputs.length;
  if (Array.isArray(b.data)) return b.data.length;
  return 0;
}
