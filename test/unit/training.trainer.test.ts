import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/errors.js';
import { createPredictor, parseModel, serializeModel } from '../../src/models/index.js';
import { generateDiabetesCsv, loadCsv, parseTrainParams, trainClassifier } from '../../src/training/index.js';

const demo = generateDiabetesCsv(3000, 42);
const fixedNow = (): Date => new Date('2025-01-02T03:04:05.000Z');

describe('trainClassifier', () => {
  it('trains on the demo data with sensible metrics, a valid model and every effective param', () => {
    const r = trainClassifier({ csvText: demo, target: 'Diabetic', now: fixedNow });
    expect(r.trainRows + r.testRows).toBe(3000);
    expect(r.testRows).toBeGreaterThan(880);
    expect(r.testRows).toBeLessThan(920);
    expect(r.metrics.f1).toBeGreaterThan(0.6);
    expect(r.metrics.f1).toBeLessThan(0.8);
    expect(r.metrics.roc_auc).toBeGreaterThan(0.8);
    expect(r.converged).toBe(true);
    expect(r.notices).toEqual([
      'PatientID looks like an identifier (unique per row) and is left out of the features; pass --exclude to choose yourself',
    ]);
    expect(r.params).toEqual({
      C: '1',
      reg_rate: '1',
      max_iter: '100',
      solver: 'lbfgs',
      tol: '0.0001',
      test_size: '0.3',
      seed: '42',
    });
    expect(r.model.params).toEqual(r.params);
    expect(r.model.trainedAt).toBe('2025-01-02T03:04:05.000Z');
    expect(r.model.signature.inputs.map((i) => i.name)).toEqual(r.featureNames);
    expect(r.featureNames).not.toContain('PatientID');
    expect(r.model.target).toEqual({ name: 'Diabetic', classes: [0, 1] });
    expect(r.model.signature.outputs[0]).toEqual({ name: 'prediction', type: 'long' });
    expect(parseModel(serializeModel(r.model))).toEqual(r.model);
    expect(r.fingerprint.rows).toBe(3000);
    expect(r.fingerprint.columns).toBe(10);
  });

  it('is deterministic, and the same from text or from a loaded dataset', () => {
    const a = trainClassifier({ csvText: demo, target: 'Diabetic', now: fixedNow });
    const b = trainClassifier({ dataset: loadCsv(demo), target: 'Diabetic', now: fixedNow });
    expect(b.model).toEqual(a.model);
    expect(b.metrics).toEqual(a.metrics);
    expect(b.fingerprint).toEqual(a.fingerprint);
    const c = trainClassifier({ csvText: demo, target: 'Diabetic', params: { seed: '7' } });
    expect(c.metrics).not.toEqual(a.metrics);
  });

  it('accepts params as CLI strings, reg_rate as 1/C, and passes progress through', () => {
    const progress: number[] = [];
    const r = trainClassifier({
      csvText: demo,
      target: 'Diabetic',
      exclude: ['PatientID'],
      params: { reg_rate: '0.01', max_iter: '200', solver: 'newton', test_size: '0.25', seed: '3' },
      onProgress: (i) => progress.push(i),
    });
    expect(r.params).toMatchObject({ C: '100', reg_rate: '0.01', max_iter: '200', solver: 'newton', test_size: '0.25', seed: '3' });
    expect(r.notices).toEqual([]);
    expect(progress.length).toBe(r.iterations);
    // Rounded per class, so within one row of 25 % per class.
    expect(Math.abs(r.testRows - 750)).toBeLessThanOrEqual(1);
  });

  it('adds a notice when the solver did not converge', () => {
    const r = trainClassifier({ csvText: demo, target: 'Diabetic', params: { max_iter: 1 } });
    expect(r.converged).toBe(false);
    expect(r.notices).toContain('solver lbfgs did not converge in 1 iterations; raise max_iter for a fully fitted model');
  });

  it('computes its metrics through the serving predictor', async () => {
    const r = trainClassifier({ csvText: 'a,b,y\n' + Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 11},${i % 2 ? 'yes' : 'no'}`).join('\n'), target: 'y' });
    expect(r.model.target.classes).toEqual(['no', 'yes']);
    expect(r.model.signature.outputs[0].type).toBe('string');
    const p = createPredictor(r.model);
    expect((await p.predictMatrix(Float64Array.from([1, 2]), 1)).labels![0]).toMatch(/^(no|yes)$/);
  });

  it('refuses unknown and malformed params with clear messages', () => {
    const err = (params: Record<string, string | number>): string => {
      try {
        parseTrainParams(params);
      } catch (e) {
        expect(e).toBeInstanceOf(FluxError);
        expect((e as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err({ alpha: '1' })).toBe(
      "unknown parameter 'alpha'; accepted parameters: C, reg_rate, max_iter, solver, tol, test_size, seed",
    );
    expect(err({ C: 'abc' })).toBe("parameter C must be a number, got 'abc'");
    expect(err({ C: '0' })).toMatch(/C must be a number > 0/);
    expect(err({ C: '1', reg_rate: '1' })).toMatch(/not both/);
    expect(err({ max_iter: '10.5' })).toMatch(/max_iter must be a positive integer/);
    expect(err({ test_size: '1.5' })).toMatch(/test_size must be a fraction strictly between 0 and 1/);
    expect(err({ seed: '-1' })).toMatch(/seed must be an integer/);
    expect(err({ solver: 'adam' })).toBe("unknown solver 'adam'; available solvers: lbfgs, newton, liblinear, saga");
    expect(parseTrainParams({ C: ' 2.5e0 ', solver: 'saga' })).toMatchObject({ C: 2.5, solver: 'saga' });
  });

  it('needs exactly one of csvText and dataset', () => {
    expect(() => trainClassifier({ target: 'y' })).toThrow(/exactly one of csvText or dataset/);
    expect(() => trainClassifier({ target: 'y', csvText: 'a\n1\n', dataset: loadCsv('a\n1\n') })).toThrow(/exactly one/);
  });
});
