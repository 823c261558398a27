import { Random } from '../../src/core/index.js';

/**
 * Generated tables reshaped for the gbdt ONNX export tests: cells blanked (missing values),
 * a text column recoded as numeric categories, labels renamed, and CSV rows read back as the
 * feature matrix a predictor takes (an empty cell is NaN).
 */

/** The CSV with about `rate` of the cells of `columns` left empty (deterministic for a seed). */
export function blankCells(csv: string, columns: readonly string[], rate: number, seed: number): string {
  const rng = new Random(seed);
  const lines = csv.trim().split('\n');
  const header = lines[0]!.split(',');
  const which = columns.map((c) => header.indexOf(c));
  return [lines[0]!, ...lines.slice(1).map((l) => {
    const cells = l.split(',');
    for (const j of which) if (rng.uniform() < rate) cells[j] = '';
    return cells.join(',');
  })].join('\n') + '\n';
}

/** The CSV with each cell of `column` replaced by `map(cell, row)`. */
export function mapColumn(csv: string, column: string, map: (cell: string, row: number) => string): string {
  const lines = csv.trim().split('\n');
  const j = lines[0]!.split(',').indexOf(column);
  if (j < 0) throw new Error(`no column ${column}`);
  return [lines[0]!, ...lines.slice(1).map((l, i) => {
    const cells = l.split(',');
    cells[j] = map(cells[j]!, i);
    return cells.join(',');
  })].join('\n') + '\n';
}

/** The rows of a CSV as a row-major matrix over `names` (empty cells are NaN), and the rows as records. */
export function csvMatrix(csv: string, names: readonly string[]): { X: Float64Array; n: number; records: Array<Record<string, number | null>> } {
  const lines = csv.trim().split('\n');
  const header = lines[0]!.split(',');
  const idx = names.map((name) => {
    const j = header.indexOf(name);
    if (j < 0) throw new Error(`no column ${name}`);
    return j;
  });
  const rows = lines.slice(1).map((l) => l.split(','));
  const X = Float64Array.from(rows.flatMap((r) => idx.map((j) => (r[j] === '' ? NaN : Number(r[j])))));
  const records = rows.map((r) => Object.fromEntries(names.map((name, k) => [name, r[idx[k]!] === '' ? null : Number(r[idx[k]!])])));
  return { X, n: rows.length, records };
}

/** The largest |a − b| / |a| over two arrays (|b| where a is 0). */
export function maxRelativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    worst = Math.max(worst, a[i] === 0 ? d : d / Math.abs(a[i]!));
  }
  return worst;
}
