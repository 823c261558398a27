import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { FluxError } from '../core/index.js';
import type { Predictor } from '../models/index.js';

export interface ScoreResult {
  rows: number;
  output: string;
}

const CHUNK_ROWS = 2048;

/**
 * Scores a CSV file with a predictor and writes the input columns plus `prediction` and, for a
 * binary classifier, `probability` (of the positive class, the model's second class); a
 * multiclass classifier gets one `probability_<class>` column per class, a regressor only
 * `prediction`. Streams: memory stays bounded by one chunk of rows whatever the file size. The
 * output appears only when complete (written to a temp file, then renamed).
 */
export async function scoreCsvFile(
  predictor: Predictor,
  inputPath: string,
  outputPath: string,
  onProgress?: (rows: number) => void,
): Promise<ScoreResult> {
  if (!fs.existsSync(inputPath)) throw new FluxError('INVALID_PARAMETER_VALUE', `input file ${inputPath} does not exist`, { field: 'input' });
  const features = predictor.inputNames;
  const codec = predictor.inputCodec;
  const d = features.length;
  const k = predictor.classes.length;
  const classifier = predictor.kind === 'classifier';
  const extraColumns = !classifier ? ['prediction'] : k === 2 ? ['prediction', 'probability'] : ['prediction', ...predictor.classes.map((c) => `probability_${String(c)}`)];
  let header: string[] | undefined;
  let index: number[] = [];
  let rows = 0;
  let line = 1;
  let pending: string[][] = [];

  const score = async (records: string[][], push: (rec: unknown[]) => void): Promise<void> => {
    const n = records.length;
    const X = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const rec = records[i]!;
      const lineNo = line - n + i + 1;
      if (rec.length !== header!.length) {
        throw new FluxError('INVALID_DATA', `${inputPath} line ${lineNo} has ${rec.length} fields, the header has ${header!.length}`);
      }
      for (let j = 0; j < d; j++) {
        const cell = rec[index[j]!]!;
        // Text categories become their positions (unknown ones are missing); empty cells are missing where the model takes that.
        const text = codec?.text[j];
        if (text !== null && text !== undefined) {
          X[i * d + j] = cell === '' ? NaN : (text.get(cell) ?? NaN);
          continue;
        }
        const v = cell.trim() === '' ? NaN : Number(cell);
        if (Number.isNaN(v) && cell.trim() === '' && codec?.missing === true) {
          X[i * d + j] = NaN;
          continue;
        }
        if (!Number.isFinite(v)) {
          throw new FluxError('INVALID_DATA', `${inputPath} line ${lineNo} column '${features[j]}': '${cell.slice(0, 40)}' is not a number`);
        }
        X[i * d + j] = v;
      }
    }
    const out = await predictor.predictMatrix(X, n);
    for (let i = 0; i < n; i++) {
      if (!classifier) push([...records[i]!, out.values![i]]);
      else if (k === 2) push([...records[i]!, out.labels![i], out.probabilities![i * k + 1]]);
      else push([...records[i]!, out.labels![i], ...out.probabilities!.subarray(i * k, (i + 1) * k)]);
    }
    rows += n;
    onProgress?.(rows);
  };

  const scorer = new Transform({
    objectMode: true,
    transform(rec: string[], _enc, done) {
      try {
        if (header === undefined) {
          header = rec;
          index = features.map((f) => rec.indexOf(f));
          const missing = features.filter((_, j) => index[j]! < 0);
          if (missing.length > 0) throw new FluxError('INVALID_DATA', `${inputPath} lacks the model's input column(s): ${missing.join(', ')}`);
          this.push([...rec, ...extraColumns]);
          return done();
        }
        line++;
        pending.push(rec);
        if (pending.length < CHUNK_ROWS) return done();
        const chunk = pending;
        pending = [];
        score(chunk, (r) => this.push(r)).then(() => done(), (e: unknown) => done(e as Error));
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      if (header === undefined) return done(new FluxError('INVALID_DATA', `${inputPath} is empty: it needs a header row and data rows`));
      if (pending.length === 0) return done();
      score(pending, (r) => this.push(r)).then(() => done(), (e: unknown) => done(e as Error));
    },
  });

  const tmp = `${outputPath}.tmp-${process.pid}`;
  try {
    await pipeline(
      fs.createReadStream(inputPath),
      parse({ bom: true, relax_column_count: true, skip_empty_lines: true }),
      scorer,
      stringify(),
      fs.createWriteStream(tmp),
    );
    fs.renameSync(tmp, outputPath);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    if (e instanceof FluxError) throw e;
    throw new FluxError('INVALID_DATA', `could not score ${inputPath}: ${(e as Error).message}`);
  }
  return { rows, output: outputPath };
}
