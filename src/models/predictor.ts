import { FluxError, invalid } from '../core/index.js';
import type { BuiltinModel, ClassLabel, ModelSignature } from './format.js';
import { validateModel } from './format.js';

export interface Prediction {
  /** One predicted class per row. */
  labels: ClassLabel[];
  /** n×k row-major, k = classes.length, columns in classes order. */
  probabilities: Float64Array;
}

export interface Predictor {
  readonly signature: ModelSignature;
  readonly classes: readonly ClassLabel[];
  /** Input column names, in the order predictMatrix expects them. */
  readonly inputNames: readonly string[];
  /** Predict for a row-major n×d matrix whose columns follow signature.inputs. */
  predictMatrix(X: Float64Array, n: number): Prediction;
}

/**
 * Build a predictor that keeps the model in memory. Standardisation is folded into the weights
 * once — w'ⱼ = wⱼ/scaleⱼ, b' = b − Σ wⱼ·meanⱼ/scaleⱼ — so predicting a row is one dot product and
 * a sigmoid, with no per-row copy. A row is assigned the second class when its probability is
 * strictly above ½ (scikit-learn's predict).
 */
export function createPredictor(model: BuiltinModel): Predictor {
  validateModel(model);
  const d = model.signature.inputs.length;
  const w = new Float64Array(d);
  const { mean, scale } = model.preprocessing.standardize;
  let b = model.intercept;
  for (let j = 0; j < d; j++) {
    const wj = model.coefficients[j]! / scale[j]!;
    w[j] = wj;
    b -= wj * mean[j]!;
  }
  const classes = Object.freeze([...model.target.classes]);
  const negative = classes[0]!;
  const positive = classes[1]!;
  const inputNames = Object.freeze(model.signature.inputs.map((i) => i.name));

  return {
    signature: model.signature,
    classes,
    inputNames,
    predictMatrix(X: Float64Array, n: number): Prediction {
      if (!Number.isInteger(n) || n < 0) throw invalid(`row count must be a non-negative integer, got ${n}`);
      if (X.length !== n * d) {
        throw invalid(`expected ${n} rows × ${d} inputs (${inputNames.join(', ')}) = ${n * d} values, got ${X.length}`);
      }
      const labels = new Array<ClassLabel>(n);
      const probabilities = new Float64Array(n * 2);
      for (let i = 0, k = 0; i < n; i++) {
        let z = b;
        for (let j = 0; j < d; j++, k++) z += X[k]! * w[j]!;
        if (Number.isNaN(z)) {
          throw new FluxError('INVALID_DATA', `row ${i + 1} has a missing or non-numeric input`, { row: i + 1 });
        }
        const e = Math.exp(-Math.abs(z));
        const p1 = z >= 0 ? 1 / (1 + e) : e / (1 + e);
        probabilities[2 * i] = 1 - p1;
        probabilities[2 * i + 1] = p1;
        labels[i] = p1 > 0.5 ? positive : negative;
      }
      return { labels, probabilities };
    },
  };
}
