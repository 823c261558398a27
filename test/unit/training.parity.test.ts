import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCsv, selectFeatures, stratifiedSplit, trainClassifier } from '../../src/training/index.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataPath = path.resolve(projectRoot, '../shared/data/diabetes.csv');
const haveData = existsSync(dataPath);
const SKIP_MESSAGE = '../shared/data/diabetes.csv not found: parity test skipped';
if (!haveData) console.warn(SKIP_MESSAGE);

/**
 * Reference figures from scikit-learn 1.2.1 (numpy 1.24.2, scipy 1.10.1, Debian's
 * python3-sklearn), obtained once by hand — Python is not needed to run this test:
 *   1. our stratifiedSplit(y, 0.3, seed 42) on diabetes.csv's Diabetic column, written out as
 *      row indices (7,000 train, 3,000 test; TEST_ROWS_SHA256 below pins that split);
 *   2. X = the 8 columns Pregnancies … Age (PatientID left out), y = Diabetic;
 *   3. StandardScaler().fit(X[train]), transform train and test;
 *   4. LogisticRegression(C=1.0, solver=…, max_iter=1000).fit(X_train, y_train);
 *   5. f1_score(y_test, predict(X_test)), roc_auc_score(y_test, predict_proba(X_test)[:, 1]).
 */
const SKLEARN = {
  lbfgs: {
    f1: 0.639956686518679,
    auc: 0.855236493823487,
    coef: [0.890598, 0.320922, 0.180111, 0.280431, 0.523225, 0.495337, 0.359511, 0.741399],
    intercept: -0.979293,
  },
  // solver='liblinear' (intercept_scaling=1, so the intercept is penalised).
  liblinear: {
    f1: 0.639956686518679,
    auc: 0.8552329990499208,
    coef: [0.890282, 0.320786, 0.180032, 0.280325, 0.523075, 0.495132, 0.359406, 0.741248],
    intercept: -0.978134,
  },
} as const;
/** sha256 of the test row indices joined by ',' — if the split changes, the figures above are stale. */
const TEST_ROWS_SHA256 = 'e1acca08df298f11565770285d6e00a0da60cd76cb98063dc190e5facb189551';

describe.skipIf(!haveData)(haveData ? 'parity with scikit-learn on diabetes.csv' : SKIP_MESSAGE, () => {
  const text = haveData ? readFileSync(dataPath, 'utf8') : '';

  it('uses the split the reference figures were computed on', () => {
    const f = selectFeatures(loadCsv(text), { target: 'Diabetic', exclude: ['PatientID'] });
    const { train, test } = stratifiedSplit(f.y, 0.3, 42);
    expect(train.length).toBe(7000);
    expect(test.length).toBe(3000);
    expect(createHash('sha256').update(Array.from(test).join(',')).digest('hex')).toBe(TEST_ROWS_SHA256);
  });

  const cases = [
    { solver: 'lbfgs', ref: SKLEARN.lbfgs },
    { solver: 'newton', ref: SKLEARN.lbfgs }, // same objective as sklearn's lbfgs / newton-cg
    { solver: 'liblinear', ref: SKLEARN.liblinear },
  ] as const;
  for (const { solver, ref } of cases) {
    it(`${solver}: F1 and ROC AUC within 0.01 of scikit-learn, coefficients within 1e-3`, () => {
      const r = trainClassifier({
        csvText: text,
        target: 'Diabetic',
        exclude: ['PatientID'],
        params: { C: 1, solver, max_iter: 1000, test_size: 0.3, seed: 42 },
      });
      expect(r.trainRows).toBe(7000);
      expect(Math.abs(r.metrics.f1 - ref.f1)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(r.metrics.roc_auc - ref.auc)).toBeLessThanOrEqual(0.01);
      r.model.coefficients.forEach((c, j) => expect(Math.abs(c - ref.coef[j]!)).toBeLessThan(1e-3));
      expect(Math.abs(r.model.intercept - ref.intercept)).toBeLessThan(1e-3);
    });
  }
});
