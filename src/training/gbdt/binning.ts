import { Random } from '../../core/index.js';

/** Most rows of a column whose quantiles set the bin edges (a seeded subsample beyond). */
const BINNING_SUBSAMPLE = 200_000;

/**
 * How raw feature values map to small integer bins. A numeric feature has at most `maxBins` bins
 * with quantile edges (the midpoints between distinct values when there are few of them); a value
 * goes to the first bin whose upper edge is ≥ it. A categorical feature has one bin per category
 * seen in training (at most `maxBins`). Missing values (NaN) and, for categorical features,
 * categories not seen in training go to the last bin, `missingBin` = maxBins, so a histogram has
 * maxBins + 1 slots per feature.
 */
export interface BinMapper {
  readonly maxBins: number;
  readonly missingBin: number;
  /** Per feature: how many non-missing bins it uses. */
  readonly nBins: Int32Array;
  /** Per numeric feature: the upper edges of its bins but the last (nBins − 1 values, ascending). */
  readonly thresholds: Float64Array[];
  /** Per feature: 1 when categorical. */
  readonly categorical: Uint8Array;
  /** Per categorical feature: its categories (the raw values), ascending; bin i is categories[i]. */
  readonly categories: Float64Array[];
  /** Per feature: 1 when the training data had missing values in it. */
  readonly hasMissing: Uint8Array;
}

/**
 * Fits the bin edges of each column of a row-major n×d matrix (NaN = missing). Numeric edges come
 * from a seeded sample of at most BINNING_SUBSAMPLE of a column's values (drawn per column);
 * missing values and categories are found on every row.
 */
export function fitBinMapper(X: Float64Array, n: number, d: number, opts: { maxBins: number; categorical: Uint8Array; seed: number }): BinMapper {
  const { maxBins, categorical } = opts;
  const nBins = new Int32Array(d);
  const thresholds: Float64Array[] = [];
  const categories: Float64Array[] = [];
  const hasMissing = new Uint8Array(d);
  const rng = new Random(opts.seed);
  const col = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0, k = j; i < n; i++, k += d) {
      const v = X[k]!;
      if (v === v) col[m++] = v;
    }
    if (m < n) hasMissing[j] = 1;
    if (categorical[j]) {
      const distinct = Float64Array.from(new Set(col.subarray(0, m))).sort();
      if (distinct.length > maxBins) {
        throw new RangeError(`feature ${j} has ${distinct.length} categories; at most ${maxBins} are supported`);
      }
      categories[j] = distinct;
      thresholds[j] = new Float64Array(0);
      nBins[j] = Math.max(distinct.length, 1);
      continue;
    }
    categories[j] = new Float64Array(0);
    let values = col.subarray(0, m);
    if (m > BINNING_SUBSAMPLE) {
      // A seeded sample without replacement: a partial Fisher–Yates shuffle of the column's values in place.
      for (let i = 0; i < BINNING_SUBSAMPLE; i++) {
        const r = i + rng.int(m - i);
        const t = values[i]!;
        values[i] = values[r]!;
        values[r] = t;
      }
      values = values.subarray(0, BINNING_SUBSAMPLE);
    }
    const t = binEdges(values.sort(), maxBins);
    thresholds[j] = t;
    nBins[j] = t.length + 1;
  }
  return { maxBins, missingBin: maxBins, nBins, thresholds, categorical, categories, hasMissing };
}

/**
 * Upper bin edges of sorted values: midpoints between consecutive distinct values when there are
 * at most maxBins of them, else the quantiles at 1/maxBins, 2/maxBins, … (midpoint
 * interpolation), duplicates dropped.
 */
function binEdges(sorted: Float64Array, maxBins: number): Float64Array {
  const m = sorted.length;
  if (m === 0) return new Float64Array(0);
  const distinct: number[] = [];
  for (let i = 0; i < m && distinct.length <= maxBins; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
  }
  if (distinct.length <= maxBins) {
    const out = new Float64Array(distinct.length - 1);
    for (let i = 0; i + 1 < distinct.length; i++) out[i] = distinct[i]! + (distinct[i + 1]! - distinct[i]!) / 2;
    return out;
  }
  const edges: number[] = [];
  for (let q = 1; q < maxBins; q++) {
    const pos = (q / maxBins) * (m - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const v = (sorted[lo]! + sorted[hi]!) / 2;
    if (edges.length === 0 || v > edges[edges.length - 1]!) edges.push(v);
  }
  // The top edge must leave the maximum in a bin of its own side; an edge equal to the maximum
  // would make the last bin empty.
  while (edges.length > 0 && edges[edges.length - 1]! >= sorted[m - 1]!) edges.pop();
  return Float64Array.from(edges);
}

/** The bin of one raw value of feature j. */
export function binOf(mapper: BinMapper, j: number, v: number): number {
  if (Number.isNaN(v)) return mapper.missingBin;
  if (mapper.categorical[j]) {
    const cats = mapper.categories[j]!;
    const i = lowerBound(cats, v);
    return i < cats.length && cats[i] === v ? i : mapper.missingBin;
  }
  // Number of edges strictly below v: v ≤ edge[b] ⇔ bin ≤ b.
  return lowerBound(mapper.thresholds[j]!, v);
}

/** First index whose value is ≥ v. */
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Cells of the lookup grid that narrows each value's search to the few edges near it. */
const GRID = 4096;

/**
 * The bin of each value of a numeric feature: a uniform grid over the edges' range says, for the
 * cell a value falls in, which edges can be below it; a binary search over those few finishes.
 * The cell function is monotone, so an edge in an earlier cell is below the value and one in a
 * later cell above it: the result equals a binary search over all edges.
 */
function numericBinner(edges: Float64Array): (v: number) => number {
  const m = edges.length;
  if (m < 16) return (v) => lowerBound(edges, v);
  const lo = edges[0]!;
  const span = edges[m - 1]! - lo;
  const scale = GRID / span;
  const cell = (v: number): number => {
    const c = Math.floor((v - lo) * scale);
    return c < 0 ? 0 : c >= GRID ? GRID - 1 : c;
  };
  // first[c] = edges in cells before c; first[c + 1] = edges in cells up to c.
  const first = new Int32Array(GRID + 1);
  for (let k = 0; k < m; k++) first[cell(edges[k]!) + 1]!++;
  for (let c = 0; c < GRID; c++) first[c + 1]! += first[c]!;
  return (v) => {
    const c = cell(v);
    let a = first[c]!;
    let b = first[c + 1]!;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (edges[mid]! < v) a = mid + 1;
      else b = mid;
    }
    return a;
  };
}

/** Rows binned per block: a block of the matrix stays in cache while each feature's values are binned. */
const BIN_BLOCK_ROWS = 512;

/**
 * Bins a row-major n×d matrix into a row-major byte matrix of `stride` (≥ d) bytes per row; the
 * bytes past d of a row are left as they are (0 in a new array).
 */
export function binMatrix<T extends Uint8Array<ArrayBufferLike>>(mapper: BinMapper, X: Float64Array, n: number, d: number, out: T, stride = d): T {
  const missing = mapper.missingBin;
  const binners = Array.from({ length: d }, (_, j) => (mapper.categorical[j] ? (v: number) => binOf(mapper, j, v) : numericBinner(mapper.thresholds[j]!)));
  for (let from = 0; from < n; from += BIN_BLOCK_ROWS) {
    const to = Math.min(n, from + BIN_BLOCK_ROWS);
    for (let j = 0; j < d; j++) {
      const bin = binners[j]!;
      for (let i = from, k = from * d + j, o = from * stride + j; i < to; i++, k += d, o += stride) {
        const v = X[k]!;
        out[o] = v !== v ? missing : bin(v);
      }
    }
  }
  return out;
}
