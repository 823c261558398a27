import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { FluxError, invalid } from '../core/index.js';

export type ColumnType = 'number' | 'string';

/**
 * A table held column by column. Numeric columns are Float64Arrays (fast to scan and to copy into
 * a design matrix); only text columns keep their strings.
 */
export interface Dataset {
  /** Header names, in file order. */
  readonly columns: string[];
  readonly types: ColumnType[];
  readonly rowCount: number;
  /**
   * Per column: the values when the column is numeric, else null. Empty cells of a numeric column
   * are NaN; `missing` counts them so consumers can refuse them with a row number.
   */
  readonly numeric: (Float64Array | null)[];
  /** Per column: the cells when the column is text, else null. */
  readonly raw: (string[] | null)[];
  /** Per column: how many cells are empty. */
  readonly missing: number[];
  /** 1-based line in the source file where each data row ends (absent for in-memory data). */
  readonly lines?: Uint32Array;
}

export interface LoadCsvOptions {
  /** Field delimiter; ',' by default. */
  delimiter?: string;
  /** Name used in messages (for example the file path). */
  source?: string;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True when a (trimmed) cell is a plain decimal number; rejects '0x1F', 'Infinity', 'NaN'. */
export function isNumericCell(cell: string): boolean {
  return NUMBER_RE.test(cell);
}

/** "row 5 (line 6)": data rows count from 1, the header not included. */
export function rowLabel(ds: Pick<Dataset, 'lines'>, row: number): string {
  const line = ds.lines?.[row];
  return line === undefined ? `row ${row + 1}` : `row ${row + 1} (line ${line})`;
}

/** Parse CSV text with a header row into a column-major Dataset, inferring each column's type. */
export function loadCsv(text: string, opts: LoadCsvOptions = {}): Dataset {
  const where = opts.source === undefined ? 'the CSV' : opts.source;
  if (text.trim() === '') throw new FluxError('INVALID_DATA', `${where} is empty: expected a header row and data rows`);

  // Each record's end line comes from on_record's context: cheaper than `info: true`, which
  // builds an info object per record.
  const recordLines: number[] = [];
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      delimiter: opts.delimiter ?? ',',
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      on_record: (record: string[], context: { lines: number }) => {
        recordLines.push(context.lines);
        return record;
      },
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new FluxError('INVALID_DATA', `${where} is not valid CSV: ${msg}`);
  }

  const columns = records[0];
  if (columns === undefined) throw new FluxError('INVALID_DATA', `${where} is empty: expected a header row and data rows`);
  checkHeader(columns, where);
  const width = columns.length;
  const rowCount = records.length - 1;
  if (rowCount === 0) throw new FluxError('INVALID_DATA', `${where} has a header but no data rows`);

  // Column-major cells; checking the width of every row first so later loops can trust it.
  const lines = new Uint32Array(rowCount);
  const cells: string[][] = columns.map(() => new Array<string>(rowCount));
  for (let r = 0; r < rowCount; r++) {
    const fields = records[r + 1]!;
    const line = recordLines[r + 1]!;
    lines[r] = line;
    if (fields.length !== width) {
      throw new FluxError(
        'INVALID_DATA',
        `${where}: row ${r + 1} (line ${line}) has ${fields.length} fields, header has ${width}`,
        { row: r + 1, line, fields: fields.length, expected: width },
      );
    }
    for (let c = 0; c < width; c++) cells[c]![r] = fields[c]!;
  }

  const types: ColumnType[] = [];
  const numeric: (Float64Array | null)[] = [];
  const raw: (string[] | null)[] = [];
  const missing: number[] = [];
  for (let c = 0; c < width; c++) {
    const col = cells[c]!;
    const values = new Float64Array(rowCount);
    let empty = 0;
    let isNumber = true;
    for (let r = 0; r < rowCount; r++) {
      const cell = col[r]!;
      if (cell === '') {
        empty++;
        values[r] = NaN;
      } else if (isNumber && NUMBER_RE.test(cell)) {
        values[r] = Number(cell);
      } else {
        isNumber = false;
      }
    }
    missing.push(empty);
    // A column with no value at all carries no numbers; keep it as text.
    if (isNumber && empty < rowCount) {
      types.push('number');
      numeric.push(values);
      raw.push(null);
    } else {
      types.push('string');
      numeric.push(null);
      raw.push(col);
    }
  }
  return { columns, types, rowCount, numeric, raw, missing, lines };
}

function checkHeader(columns: string[], where: string): void {
  const seen = new Map<string, number>();
  columns.forEach((name, i) => {
    if (name === '') throw new FluxError('INVALID_DATA', `${where}: header column ${i + 1} has no name`);
    const first = seen.get(name);
    if (first !== undefined) {
      throw new FluxError(
        'INVALID_DATA',
        `${where}: duplicate column name '${name}' in the header (columns ${first + 1} and ${i + 1})`,
      );
    }
    seen.set(name, i);
  });
}

/** Read and parse a CSV file (UTF-8). */
export async function loadCsvFile(path: string, opts: Omit<LoadCsvOptions, 'source'> = {}): Promise<Dataset> {
  return loadCsv(await readCsvText(path), { ...opts, source: path });
}

/** Read a CSV file's text with a clear error when it cannot be read. */
export async function readCsvText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`data file not found: ${path}`);
    if (code === 'EISDIR') throw invalid(`data path is a directory, not a CSV file: ${path}`);
    throw invalid(`cannot read data file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
