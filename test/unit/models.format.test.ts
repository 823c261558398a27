import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/errors.js';
import {
  type LogisticModel,
  MODEL_FORMAT_VERSION,
  createPredictor,
  parseModel,
  serializeModel,
} from '../../src/models/index.js';

function sampleModel(): LogisticModel {
  return {
    format: 'fluxops-model',
    formatVersion: 1,
    algorithm: 'logistic_regression',
    signature: {
      inputs: [
        { name: 'Glucose', type: 'double' },
        { name: 'BMI', type: 'double' },
      ],
      outputs: [
        { name: 'prediction', type: 'long' },
        { name: 'probabilities', type: 'double', shape: [-1, 2] },
      ],
    },
    target: { name: 'Diabetic', classes: [0, 1] },
    preprocessing: { standardize: { mean: [110, 31.5], scale: [30, 9] } },
    coefficients: [0.8, -0.4],
    intercept: -0.5,
    trainedAt: '2025-03-04T05:06:07.000Z',
    params: { C: '1', solver: 'lbfgs' },
  };
}

/** Parse a (modified) document and return the UNSUPPORTED_MODEL_FORMAT error's message. */
function refusal(doc: unknown): string {
  try {
    parseModel(typeof doc === 'string' ? doc : JSON.stringify(doc));
  } catch (e) {
    expect(e).toBeInstanceOf(FluxError);
    expect((e as FluxError).code).toBe('UNSUPPORTED_MODEL_FORMAT');
    return (e as Error).message;
  }
  throw new Error('expected the model to be refused');
}

const DELETE = Symbol('delete');

/** A copy of the sample model with the value at a '/'-separated path replaced (or deleted). */
function withChange(pointer: string, value: unknown): unknown {
  const doc = structuredClone(sampleModel()) as unknown as Record<string, unknown>;
  const keys = pointer.split('/');
  const last = keys.pop()!;
  let node: Record<string, unknown> = doc;
  for (const k of keys) node = node[k] as Record<string, unknown>;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return doc;
}

describe('model format', () => {
  it('round-trips through JSON', () => {
    const m = sampleModel();
    const text = serializeModel(m);
    expect(JSON.parse(text)).toEqual(m);
    expect(parseModel(text)).toEqual(m);
    expect(MODEL_FORMAT_VERSION).toBe(2);
  });

  it('refuses a newer format version, telling the user to upgrade', () => {
    expect(refusal(withChange('formatVersion', 7))).toBe(
      'model format version 7 is newer than this FluxOps understands (2); upgrade FluxOps',
    );
    expect(refusal(withChange('formatVersion', 0))).toMatch(/formatVersion must be a positive integer, got 0/);
    expect(refusal(withChange('formatVersion', '1'))).toMatch(/formatVersion must be a positive integer, got "1"/);
  });

  it('refuses documents that are not FluxOps models', () => {
    expect(refusal(withChange('format', 'onnx'))).toBe(
      'not a FluxOps model: format is "onnx", expected \'fluxops-model\'',
    );
    expect(refusal(withChange('format', DELETE))).toMatch(/"format" field is missing/);
    expect(refusal('{oops')).toMatch(/^model file is not valid JSON/);
    expect(refusal('[1,2]')).toBe('model file is not a JSON object');
  });

  it('validates every field, naming where it is wrong', () => {
    expect(refusal(withChange('coefficients', DELETE))).toMatch(/invalid model file at \/coefficients/);
    expect(refusal(withChange('intercept', 'x'))).toMatch(/at \/intercept/);
    expect(refusal(withChange('algorithm', 'svm'))).toMatch(/at \/algorithm/);
    expect(refusal(withChange('signature/inputs/0/type', 'string'))).toMatch(/at \/signature\/inputs\/0\/type/);
    expect(refusal(withChange('preprocessing/standardize/scale/1', 0))).toMatch(/at \/preprocessing\/standardize\/scale\/1/);
    expect(refusal(withChange('target/classes', [0, 1, 2]))).toMatch(/at \/target\/classes/);
    expect(refusal(withChange('params/C', 1))).toMatch(/at \/params\/C/);
    expect(refusal(withChange('extra', true))).toMatch(/invalid model file/);
  });

  it('checks what the schema cannot: lengths, distinct classes, a real timestamp', () => {
    expect(refusal(withChange('coefficients', [0.8, -0.4, 1]))).toBe(
      'invalid model file: coefficients has 3 values but the signature has 2 inputs',
    );
    expect(refusal(withChange('preprocessing/standardize/mean', [110]))).toMatch(/mean has 1 values/);
    expect(refusal(withChange('signature/inputs/1/name', 'Glucose'))).toMatch(/names are not unique/);
    expect(refusal(withChange('target/classes', [1, 1]))).toMatch(/two distinct values/);
    expect(refusal(withChange('target/classes', [0, 'yes']))).toMatch(/both numbers or both strings/);
    expect(refusal(withChange('trainedAt', 'yesterday'))).toMatch(/trainedAt 'yesterday' is not a date/);
  });

  it('refuses to serialise an invalid model', () => {
    const m = sampleModel();
    m.coefficients = [1];
    expect(() => serializeModel(m)).toThrow(/coefficients has 1 values/);
  });
});

describe('createPredictor', () => {
  it('gives the same probabilities as standardising then applying the weights', async () => {
    const m = sampleModel();
    const p = createPredictor(m);
    const rows = [
      [110, 31.5],
      [180, 20],
      [60, 45.25],
    ];
    const X = Float64Array.from(rows.flat());
    const out = await p.predictMatrix(X, 3);
    const probabilities = out.probabilities!;
    expect(probabilities.length).toBe(6);
    rows.forEach(([g, b], i) => {
      const z = -0.5 + (0.8 * (g! - 110)) / 30 - (0.4 * (b! - 31.5)) / 9;
      const p1 = 1 / (1 + Math.exp(-z));
      expect(probabilities[2 * i + 1]).toBeCloseTo(p1, 14);
      expect(probabilities[2 * i]! + probabilities[2 * i + 1]!).toBeCloseTo(1, 15);
      expect(out.labels![i]).toBe(p1 > 0.5 ? 1 : 0);
    });
    expect(out.labels).toEqual([0, 1, 0]);
    expect(out.values).toBeUndefined();
    expect(p.kind).toBe('classifier');
    expect(p.inputNames).toEqual(['Glucose', 'BMI']);
    expect(p.classes).toEqual([0, 1]);
    expect(p.signature).toEqual(m.signature);
  });

  it('returns text labels and stays finite for extreme inputs', async () => {
    const m = sampleModel();
    m.target.classes = ['negative', 'positive'];
    m.signature.outputs[0].type = 'string';
    const out = await createPredictor(m).predictMatrix(Float64Array.from([1e12, 0, -1e12, 0]), 2);
    expect(out.labels).toEqual(['positive', 'negative']);
    expect(Array.from(out.probabilities!)).toEqual([0, 1, 1, 0]);
  });

  it('refuses a matrix of the wrong size and missing values', async () => {
    const p = createPredictor(sampleModel());
    await expect(p.predictMatrix(new Float64Array(3), 2)).rejects.toThrow(
      'expected 2 rows × 2 inputs (Glucose, BMI) = 4 values, got 3',
    );
    await expect(p.predictMatrix(Float64Array.from([1, 2, NaN, 4]), 2)).rejects.toThrow(/row 2 has a missing or non-numeric input/);
    expect((await p.predictMatrix(new Float64Array(0), 0)).labels).toEqual([]);
  });

  it('refuses an invalid model', () => {
    const m = sampleModel();
    m.preprocessing.standardize.scale = [1];
    expect(() => createPredictor(m)).toThrow(FluxError);
  });
});
