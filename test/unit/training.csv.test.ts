import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/errors.js';
import {
  fingerprintDataset,
  fitStandardizer,
  generateDiabetesCsv,
  loadCsv,
  loadCsvFile,
  selectFeatures,
  standardize,
  stratifiedSplit,
} from '../../src/training/index.js';

/** Run fn and return the FluxError it throws (failing the test if it does not throw one). */
function fluxError(fn: () => unknown): FluxError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FluxError);
    return e as FluxError;
  }
  throw new Error('expected a FluxError, nothing was thrown');
}

describe('loadCsv', () => {
  it('infers column types and stores numeric columns as Float64Arrays', () => {
    const ds = loadCsv('id,age,name,score\n1,30,ann,1.5\n2,41,bob,-2e1\n3,25,cy,.25\n');
    expect(ds.columns).toEqual(['id', 'age', 'name', 'score']);
    expect(ds.types).toEqual(['number', 'number', 'string', 'number']);
    expect(ds.rowCount).toBe(3);
    expect(ds.numeric[1]).toBeInstanceOf(Float64Array);
    expect(Array.from(ds.numeric[3]!)).toEqual([1.5, -20, 0.25]);
    expect(ds.numeric[2]).toBeNull();
    expect(ds.raw[2]).toEqual(['ann', 'bob', 'cy']);
    expect(ds.raw[1]).toBeNull();
    expect(ds.missing).toEqual([0, 0, 0, 0]);
  });

  it('handles a BOM, CRLF, quoted fields, spaces and blank lines, keeping source line numbers', () => {
    const ds = loadCsv('\uFEFFa,b,c\r\n 1 , "x, y" ,2\r\n\r\n3,"multi\nline",4\r\n5,z,6\r\n');
    expect(ds.columns).toEqual(['a', 'b', 'c']);
    expect(ds.rowCount).toBe(3);
    expect(ds.raw[1]).toEqual(['x, y', 'multi\nline', 'z']);
    expect(Array.from(ds.numeric[0]!)).toEqual([1, 3, 5]);
    expect(Array.from(ds.lines!)).toEqual([2, 5, 6]);
  });

  it('does not take hex, Infinity or NaN for numbers', () => {
    const ds = loadCsv('a,b,c,d\n0x10,Infinity,NaN,1e3\n');
    expect(ds.types).toEqual(['string', 'string', 'string', 'number']);
  });

  it('keeps empty cells of a numeric column as NaN and counts them', () => {
    const ds = loadCsv('a,b\n1,\n2,3\n,\n');
    expect(ds.types).toEqual(['number', 'number']);
    expect(Array.from(ds.numeric[0]!)).toEqual([1, 2, NaN]);
    expect(ds.missing).toEqual([1, 2]);
  });

  it('treats an all-empty column as text', () => {
    const ds = loadCsv('a,b\n1,\n2,\n');
    expect(ds.types).toEqual(['number', 'string']);
  });

  it('names the row, line and field counts of a ragged row', () => {
    const text = 'a,b,c\n1,2,3\n4,5\n';
    const e = fluxError(() => loadCsv(text));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toContain('row 2 (line 3) has 2 fields, header has 3');
    const many = fluxError(() => loadCsv(text.replace('4,5', '4,5,6,7'), { source: 'data.csv' }));
    expect(many.message).toBe('data.csv: row 2 (line 3) has 4 fields, header has 3');
  });

  it('refuses an empty file, a header without rows, duplicate and empty header names', () => {
    expect(fluxError(() => loadCsv('')).message).toMatch(/is empty/);
    expect(fluxError(() => loadCsv('  \n\n')).message).toMatch(/is empty/);
    expect(fluxError(() => loadCsv('a,b\n')).message).toMatch(/header but no data rows/);
    const dup = fluxError(() => loadCsv('a,b,a\n1,2,3\n'));
    expect(dup.code).toBe('INVALID_DATA');
    expect(dup.message).toContain("duplicate column name 'a' in the header (columns 1 and 3)");
    expect(fluxError(() => loadCsv('a,,c\n1,2,3\n')).message).toContain('header column 2 has no name');
  });

  it('reports malformed CSV (an unclosed quote) as INVALID_DATA', () => {
    const e = fluxError(() => loadCsv('a,b\n1,"oops\n'));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/not valid CSV/);
  });

  it('supports another delimiter', () => {
    const ds = loadCsv('a;b\n1;2\n', { delimiter: ';' });
    expect(ds.columns).toEqual(['a', 'b']);
  });
});

describe('loadCsvFile', () => {
  it('reads a file and names a missing one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fluxops-csv-'));
    try {
      const file = path.join(dir, 'd.csv');
      await writeFile(file, 'x,y\n1,0\n2,1\n');
      const ds = await loadCsvFile(file);
      expect(ds.rowCount).toBe(2);
      await expect(loadCsvFile(path.join(dir, 'missing.csv'))).rejects.toThrow(/data file not found: .*missing\.csv/);
      await writeFile(file, 'x,y\n1\n');
      await expect(loadCsvFile(file)).rejects.toThrow(`${file}: row 1 (line 2) has 1 fields, header has 2`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('selectFeatures', () => {
  const csv = [
    'PatientID,Glucose,BMI,Diabetic',
    '1000001,100,30.5,0',
    '1000007,150,22.1,1',
    '1000003,120,28,1',
    '1000002,90,35.2,0',
  ].join('\n');

  it('builds a row-major matrix, maps sorted classes to 0/1 and leaves out an identifier', () => {
    const f = selectFeatures(loadCsv(csv), { target: 'Diabetic' });
    expect(f.featureNames).toEqual(['Glucose', 'BMI']);
    expect(Array.from(f.X)).toEqual([100, 30.5, 150, 22.1, 120, 28, 90, 35.2]);
    expect(Array.from(f.y)).toEqual([0, 1, 1, 0]);
    expect(f.classes).toEqual([0, 1]);
    expect(f.notices).toEqual([
      'PatientID looks like an identifier (unique per row) and is left out of the features; pass --exclude to choose yourself',
    ]);
  });

  it('takes an explicit exclude list as the whole choice', () => {
    const f = selectFeatures(loadCsv(csv), { target: 'Diabetic', exclude: ['BMI'] });
    expect(f.featureNames).toEqual(['PatientID', 'Glucose']);
    expect(f.notices).toEqual([]);
  });

  it('detects an ID with a few repeats, and a saved row index, but not a unique measurement', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${100 + (i === 7 ? 6 : i) * 13},${i},${((i * 37) % 50) / 4},${i % 2}`);
    const f = selectFeatures(loadCsv(['patient_id,Unnamed: 0,dose,y', ...rows].join('\n')), { target: 'y' });
    expect(f.featureNames).toEqual(['dose']);
    expect(f.notices[0]).toBe(
      'patient_id looks like an identifier (49 distinct values in 50 rows) and is left out of the features; pass --exclude to choose yourself',
    );
    expect(f.notices[1]).toMatch(/^Unnamed: 0 looks like an identifier \(unique per row\)/);
    // 'dose' has distinct values too, but neither an ID's name nor integers counting the rows.
  });

  it('leaves a short run of distinct integers in a small table alone', () => {
    const f = selectFeatures(loadCsv('x,t\n1,0\n2,1\n3,0\n'), { target: 't' });
    expect(f.featureNames).toEqual(['x']);
  });

  it('maps text classes in sorted order', () => {
    const f = selectFeatures(loadCsv('x,label\n1,yes\n2,no\n3,yes\n'), { target: 'label' });
    expect(f.classes).toEqual(['no', 'yes']);
    expect(Array.from(f.y)).toEqual([1, 0, 1]);
  });

  it('refuses a missing target, naming the columns', () => {
    const e = fluxError(() => selectFeatures(loadCsv(csv), { target: 'Outcome' }));
    expect(e.code).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message).toBe("target column 'Outcome' is not in the data; columns are: PatientID, Glucose, BMI, Diabetic");
  });

  it('refuses a target that is not binary, naming the column and the values', () => {
    const e = fluxError(() => selectFeatures(loadCsv('x,t\n1,0\n2,1\n3,2\n'), { target: 't' }));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toBe("target column 't' must have exactly 2 distinct values for binary classification; found 3: 0, 1, 2");
    const one = fluxError(() => selectFeatures(loadCsv('x,t\n1,a\n2,a\n'), { target: 't' }));
    expect(one.message).toContain("found 1: 'a'");
  });

  it('refuses an empty target cell with its row', () => {
    const e = fluxError(() => selectFeatures(loadCsv('x,t\n1,0\n2,\n3,1\n'), { target: 't' }));
    expect(e.message).toBe("target column 't' row 2 (line 3) is empty");
  });

  it('names the row and value of a non-number in a numeric feature', () => {
    const e = fluxError(() => selectFeatures(loadCsv('BMI,t\n30,0\n28,1\n27,0\n26,1\nabc,0\n'), { target: 't' }));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toBe("column 'BMI' row 5 (line 6): 'abc' is not a number");
  });

  it('tells the user to exclude a text feature', () => {
    const e = fluxError(() => selectFeatures(loadCsv('sex,x,t\nF,1,0\nM,2,1\n'), { target: 't' }));
    expect(e.message).toBe(
      "column 'sex' holds text (for example 'F'); only numeric features are supported in this version: exclude it with --exclude sex",
    );
    expect(selectFeatures(loadCsv('sex,x,t\nF,1,0\nM,2,1\n'), { target: 't', exclude: ['sex'] }).featureNames).toEqual(['x']);
  });

  it('refuses empty cells in a numeric feature with the row', () => {
    const e = fluxError(() => selectFeatures(loadCsv('a,b,t\n1,2,0\n3,,1\n'), { target: 't' }));
    expect(e.message).toMatch(/^column 'b' row 2 \(line 3\) is empty; numeric features cannot have missing values/);
  });

  it('refuses unknown excluded columns, excluding the target, and no features at all', () => {
    expect(fluxError(() => selectFeatures(loadCsv(csv), { target: 'Diabetic', exclude: ['Nope'] })).message).toMatch(
      /cannot exclude column 'Nope': it is not in the data/,
    );
    expect(fluxError(() => selectFeatures(loadCsv(csv), { target: 'Diabetic', exclude: ['Diabetic'] })).message).toMatch(
      /is the target/,
    );
    expect(
      fluxError(() => selectFeatures(loadCsv(csv), { target: 'Diabetic', exclude: ['PatientID', 'Glucose', 'BMI'] })).message,
    ).toMatch(/no feature columns/);
  });
});

describe('fingerprintDataset', () => {
  it('depends on the data, not on its formatting', () => {
    const a = fingerprintDataset('x,y\n1,0\n2.5,1\n');
    const b = fingerprintDataset('"x","y"\r\n1.0,0\r\n\r\n2.50,1\r\n');
    expect(a).toEqual(b);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.rows).toBe(2);
    expect(a.columns).toBe(2);
    expect(fingerprintDataset('x,y\n1,0\n2.5,0\n').sha256).not.toBe(a.sha256);
    expect(fingerprintDataset('x,z\n1,0\n2.5,1\n').sha256).not.toBe(a.sha256);
    expect(fingerprintDataset(loadCsv('x,y\n1,0\n2.5,1\n'))).toEqual(a);
  });
});

describe('stratifiedSplit', () => {
  const y = new Float64Array(1000).map((_, i) => (i % 3 === 0 ? 1 : 0));

  it('keeps the class balance, is disjoint and complete, and is deterministic', () => {
    const s = stratifiedSplit(y, 0.3, 42);
    const positives = y.reduce((a, v) => a + v, 0); // 334
    expect(s.test.length).toBe(Math.round(0.3 * positives) + Math.round(0.3 * (1000 - positives)));
    expect(s.train.length + s.test.length).toBe(1000);
    const all = new Set([...s.train, ...s.test]);
    expect(all.size).toBe(1000);
    const testPos = Array.from(s.test).filter((i) => y[i] === 1).length;
    expect(testPos).toBe(Math.round(0.3 * positives));
    expect(Array.from(s.test)).toEqual([...s.test].sort((a, b) => a - b));
    expect(stratifiedSplit(y, 0.3, 42)).toEqual(s);
    expect(Array.from(stratifiedSplit(y, 0.3, 7).test)).not.toEqual(Array.from(s.test));
  });

  it('refuses fractions outside (0, 1) and splits that leave a set empty', () => {
    expect(() => stratifiedSplit(y, 0, 1)).toThrow(/strictly between 0 and 1/);
    expect(() => stratifiedSplit(y, 1, 1)).toThrow(/strictly between 0 and 1/);
    expect(() => stratifiedSplit(new Float64Array([0, 1]), 0.3, 1)).toThrow(/leaves the test set empty/);
  });
});

describe('standardize', () => {
  it('uses the population standard deviation and scale 1 for constant features', () => {
    const X = new Float64Array([1, 5, 0.1, 3, 5, 0.1, 5, 5, 0.1]);
    const s = fitStandardizer(X, 3, 3);
    expect(Array.from(s.mean)).toEqual([3, 5, expect.closeTo(0.1, 15)]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(s.scale[1]).toBe(1);
    expect(s.scale[2]).toBe(1);
    const Z = standardize(X, 3, s);
    expect(Z[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3), 12);
    expect(Z[1]).toBe(0);
    expect(Math.abs(Z[2]!)).toBeLessThan(1e-15);
    expect(X[0]).toBe(1); // the copy leaves the input alone
  });
});

describe('generateDiabetesCsv', () => {
  it('is seeded, has the documented columns, unique 7-digit IDs and about a third positives', () => {
    const text = generateDiabetesCsv(2000, 42);
    expect(generateDiabetesCsv(2000, 42)).toBe(text);
    expect(generateDiabetesCsv(2000, 43)).not.toBe(text);
    const ds = loadCsv(text);
    expect(ds.columns).toEqual([
      'PatientID',
      'Pregnancies',
      'PlasmaGlucose',
      'DiastolicBloodPressure',
      'TricepsThickness',
      'SerumInsulin',
      'BMI',
      'DiabetesPedigree',
      'Age',
      'Diabetic',
    ]);
    expect(ds.types.every((t) => t === 'number')).toBe(true);
    const ids = ds.numeric[0]!;
    expect(new Set(ids).size).toBe(2000);
    expect(ids.every((v) => Number.isInteger(v) && v >= 1_000_000 && v <= 9_999_999)).toBe(true);
    const col = (name: string): Float64Array => ds.numeric[ds.columns.indexOf(name)]!;
    for (const name of ['Pregnancies', 'PlasmaGlucose', 'DiastolicBloodPressure', 'TricepsThickness', 'SerumInsulin', 'Age']) {
      expect(col(name).every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    }
    expect(col('Age').every((v) => v >= 21 && v <= 77)).toBe(true);
    expect(col('BMI').every((v) => v >= 18 && v <= 57)).toBe(true);
    const share = col('Diabetic').reduce((a, v) => a + v, 0) / 2000;
    expect(share).toBeGreaterThan(0.28);
    expect(share).toBeLessThan(0.39);
  });
});
