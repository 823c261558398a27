import { createHash } from 'node:crypto';
import { FluxError, invalid } from '../core/index.js';
import { type Dataset, isNumericCell, loadCsv, rowLabel } from './csv.js';

export interface FeatureSelection {
  /** Target column name. */
  target: string;
  /**
   * Columns to leave out. When given, it is the whole choice: no identifier is detected. When
   * absent, a column that looks like an identifier is left out with a notice.
   */
  exclude?: string[];
}

export interface Features {
  featureNames: string[];
  /** Row-major n×d design matrix. */
  X: Float64Array;
  /** 0/1 labels: 1 is classes[1]. */
  y: Float64Array;
  /** The two target values in sorted order; index = label. */
  classes: (number | string)[];
  rowCount: number;
  /** Things the user should know (for example a column left out). */
  notices: string[];
}

/** Build the design matrix and binary labels for a classifier from a Dataset. */
/** The target's column index and the excluded names, each checked against the data. */
function targetAndExclusions(ds: Dataset, sel: FeatureSelection): { targetIdx: number; excluded: Set<string> } {
  const targetIdx = ds.columns.indexOf(sel.target);
  if (targetIdx < 0) {
    throw invalid(`target column '${sel.target}' is not in the data; columns are: ${ds.columns.join(', ')}`);
  }
  const excluded = new Set<string>();
  for (const name of sel.exclude ?? []) {
    if (!ds.columns.includes(name)) {
      throw invalid(`cannot exclude column '${name}': it is not in the data; columns are: ${ds.columns.join(', ')}`);
    }
    if (name === sel.target) throw invalid(`column '${name}' is the target; it cannot also be excluded`);
    excluded.add(name);
  }
  return { targetIdx, excluded };
}

/** How many of a text column's non-empty cells are numbers, and the first that is not (−1 when all are). */
function cellCensus(cells: readonly string[]): { nonEmpty: number; numericCells: number; firstBad: number } {
  let numericCells = 0;
  let nonEmpty = 0;
  let firstBad = -1;
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i]!;
    if (v === '') continue;
    nonEmpty++;
    if (isNumericCell(v)) numericCells++;
    else if (firstBad < 0) firstBad = i;
  }
  return { nonEmpty, numericCells, firstBad };
}

export function selectFeatures(ds: Dataset, sel: FeatureSelection): Features {
  const { targetIdx, excluded } = targetAndExclusions(ds, sel);

  const { y, classes } = binaryTarget(ds, targetIdx);
  const notices: string[] = [];
  const featureIdx: number[] = [];
  for (let c = 0; c < ds.columns.length; c++) {
    const name = ds.columns[c]!;
    if (c === targetIdx || excluded.has(name)) continue;
    const idEvidence = sel.exclude === undefined ? identifierEvidence(ds, c) : null;
    if (idEvidence !== null) {
      notices.push(
        `${name} looks like an identifier (${idEvidence}) and is left out of the features; pass --exclude to choose yourself`,
      );
      continue;
    }
    checkNumericFeature(ds, c);
    featureIdx.push(c);
  }
  if (featureIdx.length === 0) throw invalid('no feature columns are left after excluding the target and the excluded columns');

  const n = ds.rowCount;
  const d = featureIdx.length;
  const X = new Float64Array(n * d);
  for (let j = 0; j < d; j++) {
    const col = ds.numeric[featureIdx[j]!]!;
    for (let i = 0, k = j; i < n; i++, k += d) X[k] = col[i]!;
  }
  return { featureNames: featureIdx.map((c) => ds.columns[c]!), X, y, classes, rowCount: n, notices };
}

function binaryTarget(ds: Dataset, c: number): { y: Float64Array; classes: (number | string)[] } {
  const name = ds.columns[c]!;
  const n = ds.rowCount;
  const y = new Float64Array(n);
  const num = ds.numeric[c];
  if (num) {
    const distinct = new Set<number>();
    for (let i = 0; i < n; i++) {
      const v = num[i]!;
      if (Number.isNaN(v)) throw new FluxError('INVALID_DATA', `target column '${name}' ${rowLabel(ds, i)} is empty`);
      distinct.add(v);
    }
    const classes = [...distinct].sort((a, b) => a - b);
    requireTwo(name, classes);
    const hi = classes[1]!;
    for (let i = 0; i < n; i++) y[i] = num[i] === hi ? 1 : 0;
    return { y, classes };
  }
  const cells = ds.raw[c]!;
  const distinct = new Set<string>();
  for (let i = 0; i < n; i++) {
    const v = cells[i]!;
    if (v === '') throw new FluxError('INVALID_DATA', `target column '${name}' ${rowLabel(ds, i)} is empty`);
    distinct.add(v);
  }
  const classes = [...distinct].sort();
  requireTwo(name, classes);
  const hi = classes[1]!;
  for (let i = 0; i < n; i++) y[i] = cells[i] === hi ? 1 : 0;
  return { y, classes };
}

function requireTwo(name: string, classes: (number | string)[]): void {
  if (classes.length === 2) return;
  const shown = classes.slice(0, 10).map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  const more = classes.length > 10 ? `, … (${classes.length} in all)` : '';
  throw new FluxError(
    'INVALID_DATA',
    `target column '${name}' must have exactly 2 distinct values for binary classification; found ${classes.length}: ${shown.join(', ')}${more}`,
    { column: name, distinctValues: classes.length },
  );
}

/** Names such as id, ID, PatientID, patient_id, userId; not Valid or Humid. */
function isIdName(name: string): boolean {
  return /^id$/i.test(name) || /[_\s.-]id$/i.test(name) || /[a-z0-9]I[dD]$/.test(name);
}

/** Share of distinct values above which a column named like an identifier is taken for one. */
const ID_DISTINCT_SHARE = 0.9;
/** Fewest rows for which an unnamed column counting the rows is taken for a saved index. */
const ROW_COUNTER_MIN_ROWS = 20;

/**
 * An identifier carries no signal and lets a model memorise rows. A column is taken for one when
 * its name says so (ends in "id") and nearly every value is distinct — real exports repeat an ID
 * now and then (the diabetes sample has 41 repeats in 10,000 rows) — or when it is an integer
 * column counting the rows (a saved index such as pandas' "Unnamed: 0"). Returns a description
 * of the evidence, or null.
 */
function identifierEvidence(ds: Dataset, c: number): string | null {
  const name = ds.columns[c]!;
  const n = ds.rowCount;
  if (n < 2 || ds.missing[c]! > 0) return null;
  const namedLikeId = isIdName(name);
  const num = ds.numeric[c];
  let distinct: number;
  let rowCounter = false;
  if (num) {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = num[i]!;
      if (!Number.isInteger(v)) return null;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    distinct = new Set(num).size;
    // Small tables are left alone: there a short run of distinct integers is plausibly data.
    rowCounter = n >= ROW_COUNTER_MIN_ROWS && distinct === n && max - min === n - 1;
  } else {
    if (!namedLikeId) return null;
    distinct = new Set(ds.raw[c]).size;
  }
  if (!rowCounter && !(namedLikeId && distinct >= ID_DISTINCT_SHARE * n)) return null;
  return distinct === n ? 'unique per row' : `${distinct} distinct values in ${n} rows`;
}

function checkNumericFeature(ds: Dataset, c: number): void {
  const name = ds.columns[c]!;
  const num = ds.numeric[c];
  if (num) {
    if (ds.missing[c]! > 0) {
      const i = num.findIndex((v) => Number.isNaN(v));
      throw new FluxError(
        'INVALID_DATA',
        `column '${name}' ${rowLabel(ds, i)} is empty; numeric features cannot have missing values (fill them, or exclude the column with --exclude ${name})`,
        { column: name, row: i + 1, missing: ds.missing[c] },
      );
    }
    return;
  }
  const cells = ds.raw[c]!;
  const { nonEmpty, numericCells, firstBad } = cellCensus(cells);
  if (nonEmpty > 0 && numericCells >= nonEmpty / 2 && firstBad >= 0) {
    throw new FluxError(
      'INVALID_DATA',
      `column '${name}' ${rowLabel(ds, firstBad)}: '${cells[firstBad]}' is not a number`,
      { column: name, row: firstBad + 1, value: cells[firstBad] },
    );
  }
  const example = firstBad >= 0 ? ` (for example '${cells[firstBad]}')` : '';
  throw new FluxError(
    'INVALID_DATA',
    `column '${name}' holds text${example}; only numeric features are supported in this version: exclude it with --exclude ${name}`,
    { column: name },
  );
}

export interface DataFingerprint {
  /** sha256 (hex) of the data's canonical form: names, types and values, not its formatting. */
  sha256: string;
  rows: number;
  columns: number;
}

/**
 * The data fingerprint recorded with runs. It hashes the parsed table rather than the file's
 * bytes, so the same data written with CRLF, quotes or "1.0" for "1" fingerprints the same.
 */
export function fingerprintDataset(data: string | Dataset): DataFingerprint {
  const ds = typeof data === 'string' ? loadCsv(data) : data;
  const h = createHash('sha256');
  h.update(`fluxops-dataset-v1\n${ds.rowCount}\n`);
  for (let c = 0; c < ds.columns.length; c++) {
    h.update(`${JSON.stringify(ds.columns[c])}:${ds.types[c]}\n`);
    const num = ds.numeric[c];
    if (num) {
      // Little-endian IEEE doubles; every platform Node supports is little-endian.
      h.update(new Uint8Array(num.buffer, num.byteOffset, num.byteLength));
    } else {
      for (const cell of ds.raw[c]!) h.update(`${JSON.stringify(cell)}\n`);
    }
  }
  return { sha256: h.digest('hex'), rows: ds.rowCount, columns: ds.columns.length };
}

/** Most categories of one categorical feature (a histogram holds 255 bins and the missing one). */
export const MAX_CATEGORIES = 255;

export type TabularTask = 'classification' | 'regression';

export interface TabularSelection extends FeatureSelection {
  /** 'auto': classification for a text target or one of at most 20 distinct integers, else regression. */
  task: TabularTask | 'auto';
  /** Columns to treat as categorical besides the text columns (numeric codes). */
  categorical?: string[] | undefined;
}

/**
 * The design matrix of a tree model: numeric columns as they are (empty cells are NaN, a native
 * missing value); text columns, and the numeric columns named in `categorical`, as categorical
 * features. A text feature holds the position of its value in `categories[j]` (sorted); a
 * numeric categorical feature keeps its value. The target is class indices (classification) or
 * values (regression).
 */
export interface TabularFeatures {
  featureNames: string[];
  X: Float64Array;
  categorical: Uint8Array;
  /** Per feature: the sorted categories of a categorical feature (strings for text columns), else null. */
  categories: ((number | string)[] | null)[];
  /** Per feature: 'double', or 'string' for a text column. */
  types: ('double' | 'string')[];
  y: Float64Array;
  task: TabularTask;
  /** Classification: the class labels in sorted order (y holds indices into it). */
  classes: (number | string)[] | undefined;
  rowCount: number;
  notices: string[];
}

const AUTO_CLASSIFICATION_MAX_CLASSES = 20;

export function selectTabular(ds: Dataset, sel: TabularSelection): TabularFeatures {
  const { targetIdx, excluded } = targetAndExclusions(ds, sel);
  const forced = new Set<string>();
  for (const name of sel.categorical ?? []) {
    if (!ds.columns.includes(name)) throw invalid(`categorical column '${name}' is not in the data; columns are: ${ds.columns.join(', ')}`);
    if (name === sel.target) throw invalid(`column '${name}' is the target; it cannot also be a categorical feature`);
    if (excluded.has(name)) throw invalid(`column '${name}' is both excluded and categorical; choose one`);
    forced.add(name);
  }
  const n = ds.rowCount;
  const { y, task, classes } = tabularTarget(ds, targetIdx, sel.task);
  const notices: string[] = [];
  const picked: number[] = [];
  for (let c = 0; c < ds.columns.length; c++) {
    const name = ds.columns[c]!;
    if (c === targetIdx || excluded.has(name)) continue;
    const idEvidence = sel.exclude === undefined && !forced.has(name) ? identifierEvidence(ds, c) : null;
    if (idEvidence !== null) {
      notices.push(`${name} looks like an identifier (${idEvidence}) and is left out of the features; pass --exclude to choose yourself`);
      continue;
    }
    picked.push(c);
  }
  if (picked.length === 0) throw invalid('no feature columns are left after excluding the target and the excluded columns');
  const d = picked.length;
  const X = new Float64Array(n * d);
  const categorical = new Uint8Array(d);
  const categories: ((number | string)[] | null)[] = [];
  const types: ('double' | 'string')[] = [];
  picked.forEach((c, j) => {
    const name = ds.columns[c]!;
    const num = ds.numeric[c];
    if (num !== null && num !== undefined) {
      types.push('double');
      if (forced.has(name)) {
        categorical[j] = 1;
        const distinct = [...new Set(Array.from(num).filter((v) => !Number.isNaN(v)))].sort((a, b) => a - b);
        tooMany(name, distinct.length);
        categories.push(distinct);
      } else {
        categories.push(null);
      }
      for (let i = 0, k = j; i < n; i++, k += d) X[k] = num[i]!;
      return;
    }
    const cells = ds.raw[c]!;
    // A text column with mostly numbers is a typo'd numeric column, not categories.
    const { nonEmpty, numericCells, firstBad } = cellCensus(cells);
    if (nonEmpty > 0 && numericCells >= nonEmpty / 2 && !forced.has(name)) {
      throw new FluxError('INVALID_DATA', `column '${name}' ${rowLabel(ds, firstBad)}: '${cells[firstBad]}' is not a number (pass --categorical ${name} if the column holds categories)`, { column: name, row: firstBad + 1, value: cells[firstBad] });
    }
    const distinct = [...new Set(cells.filter((v) => v !== ''))].sort();
    tooMany(name, distinct.length);
    const pos = new Map(distinct.map((v, i) => [v, i]));
    types.push('string');
    categorical[j] = 1;
    categories.push(distinct);
    for (let i = 0, k = j; i < n; i++, k += d) X[k] = cells[i] === '' ? NaN : pos.get(cells[i]!)!;
  });
  return { featureNames: picked.map((c) => ds.columns[c]!), X, categorical, categories, types, y, task, classes, rowCount: n, notices };
}

function tooMany(name: string, k: number): void {
  if (k > MAX_CATEGORIES) {
    throw new FluxError('INVALID_DATA', `column '${name}' has ${k} distinct values; a categorical feature may have at most ${MAX_CATEGORIES} (exclude it with --exclude ${name})`, { column: name, distinctValues: k });
  }
}

function tabularTarget(ds: Dataset, c: number, want: TabularTask | 'auto'): { y: Float64Array; task: TabularTask; classes: (number | string)[] | undefined } {
  const name = ds.columns[c]!;
  const n = ds.rowCount;
  const num = ds.numeric[c];
  const y = new Float64Array(n);
  if (num !== null && num !== undefined) {
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(num[i]!)) throw new FluxError('INVALID_DATA', `target column '${name}' ${rowLabel(ds, i)} is empty`);
    }
    const distinct = [...new Set(num)].sort((a, b) => a - b);
    const task = want !== 'auto' ? want : distinct.length <= AUTO_CLASSIFICATION_MAX_CLASSES && distinct.every((v) => Number.isInteger(v)) ? 'classification' : 'regression';
    if (task === 'regression') {
      y.set(num);
      return { y, task, classes: undefined };
    }
    atLeastTwo(name, distinct.length);
    const pos = new Map(distinct.map((v, i) => [v, i]));
    for (let i = 0; i < n; i++) y[i] = pos.get(num[i]!)!;
    return { y, task, classes: distinct };
  }
  if (want === 'regression') throw new FluxError('INVALID_DATA', `target column '${name}' holds text; a regression target must be numeric`, { column: name });
  const cells = ds.raw[c]!;
  for (let i = 0; i < n; i++) if (cells[i] === '') throw new FluxError('INVALID_DATA', `target column '${name}' ${rowLabel(ds, i)} is empty`);
  const distinct = [...new Set(cells)].sort();
  atLeastTwo(name, distinct.length);
  const pos = new Map(distinct.map((v, i) => [v, i]));
  for (let i = 0; i < n; i++) y[i] = pos.get(cells[i]!)!;
  return { y, task: 'classification', classes: distinct };
}

function atLeastTwo(name: string, k: number): void {
  if (k < 2) throw new FluxError('INVALID_DATA', `target column '${name}' has ${k} distinct value; classification needs at least 2`, { column: name, distinctValues: k });
}
