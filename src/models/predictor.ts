import { FluxError, invalid } from '../core/index.js';
import type { BuiltinModel, ClassLabel, LogisticModel } from './format.js';
import { validateModel } from './format.js';
import { type CategoryCodec, createGbdtScorer } from './gbdt-predictor.js';

/** Input columns (name and type) and outputs of a served model, as the registry records them. */
export interface PredictorSignature {
  inputs: ReadonlyArray<{ name: string; type: string }>;
  outputs: ReadonlyArray<{ name: string; type: string }>;
}

export type PredictorKind = 'classifier' | 'regressor';

/** What a predictor returns for n rows: labels and probabilities for a classifier, values for a regressor. */
export interface Prediction {
  /** Classifiers: one predicted class per row. */
  labels?: ClassLabel[];
  /** Classifiers: n×k row-major, k = classes.length, columns in classes order. */
  probabilities?: Float64Array;
  /** Regressors: one predicted value per row. */
  values?: Float64Array;
}

/**
 * A loaded model that predicts. Built-in models compute in JavaScript; ONNX models run in ONNX
 * Runtime (`onnx/onnx-predictor.ts`), hence the promise.
 */
export interface Predictor {
  readonly kind: PredictorKind;
  readonly signature: PredictorSignature;
  /** Classifiers: k ≥ 2 class labels, in the order of the probability columns. Regressors: empty. */
  readonly classes: readonly ClassLabel[];
  /** Input column names, in the order predictMatrix expects them. */
  readonly inputNames: readonly string[];
  /** Predict for a row-major n×d matrix whose columns follow inputNames. */
  predictMatrix(X: Float64Array, n: number): Promise<Prediction>;
  /** True when predictions run off the calling thread (an ONNX session in a worker): they can queue, so the server bounds their wait. */
  readonly offThread?: boolean;
  /** The same prediction without a promise, for predictors that compute on the calling thread (the serving hot path skips the microtasks). */
  predictMatrixSync?(X: Float64Array, n: number): Prediction;
  /** Releases native resources (an ONNX Runtime session); the predictor must not be used after. */
  close?(): Promise<void>;
  /**
   * How request cells become matrix values beyond plain numbers: present for models that take
   * missing values (null → NaN) and text categories (a category → its position).
   */
  readonly inputCodec?: InputCodec;
}

/** What a predictor takes besides finite numbers (gradient-boosted trees take both). */
export interface InputCodec extends CategoryCodec {
  /** null (and NaN) cells are missing values the model handles. */
  readonly missing: boolean;
}

/**
 * Standardisation folded into the weights — w'ⱼ = wⱼ/scaleⱼ, b' = b − Σ wⱼ·meanⱼ/scaleⱼ — so a
 * row's score is one dot product. The ONNX export uses the same numbers, so both agree.
 */
export function foldStandardization(model: LogisticModel): { weights: Float64Array; bias: number } {
  const d = model.signature.inputs.length;
  const weights = new Float64Array(d);
  const { mean, scale } = model.preprocessing.standardize;
  let bias = model.intercept;
  for (let j = 0; j < d; j++) {
    const wj = model.coefficients[j]! / scale[j]!;
    weights[j] = wj;
    bias -= wj * mean[j]!;
  }
  return { weights, bias };
}

/** A built-in model's scores, computed synchronously: what the trainer evaluates and createPredictor serves. */
export type BuiltinScorer = (X: Float64Array, n: number) => { labels: ClassLabel[]; probabilities: Float64Array };

/**
 * The built-in model's scoring function: predicting a row is one dot product with the folded
 * weights and a sigmoid, with no per-row copy. A row is assigned the second class when its
 * probability is strictly above ½ (scikit-learn's predict).
 */
export function createBuiltinScorer(model: LogisticModel): BuiltinScorer {
  validateModel(model);
  const d = model.signature.inputs.length;
  const { weights: w, bias: b } = foldStandardization(model);
  const negative = model.target.classes[0]!;
  const positive = model.target.classes[1]!;
  const inputNames = model.signature.inputs.map((i) => i.name);
  return (X, n) => {
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
  };
}

/**
 * A predictor that keeps the built-in model in memory. It computes synchronously; the promise is
 * already settled when returned.
 */
export function createPredictor(model: BuiltinModel): Predictor {
  if (model.algorithm === 'gbdt') {
    validateModel(model);
    const { score, codec } = createGbdtScorer(model);
    return {
      kind: model.task === 'regression' ? 'regressor' : 'classifier',
      signature: model.signature,
      classes: Object.freeze([...(model.target.classes ?? [])]),
      inputNames: Object.freeze(model.signature.inputs.map((i) => i.name)),
      async predictMatrix(X: Float64Array, n: number): Promise<Prediction> {
        return score(X, n);
      },
      predictMatrixSync: score,
      inputCodec: { ...codec, missing: true },
    };
  }
  const score = createBuiltinScorer(model);
  return {
    kind: 'classifier',
    signature: model.signature,
    classes: Object.freeze([...model.target.classes]),
    inputNames: Object.freeze(model.signature.inputs.map((i) => i.name)),
    async predictMatrix(X: Float64Array, n: number): Promise<Prediction> {
      return score(X, n);
    },
    predictMatrixSync: score,
  };
}
