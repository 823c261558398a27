import type { BuiltinModel } from '../../src/models/index.js';

/** The smallest valid built-in model: two inputs (x1, x2), binary target y. */
export function tinyModel(): BuiltinModel {
  return {
    format: 'fluxops-model',
    formatVersion: 1,
    algorithm: 'logistic_regression',
    signature: {
      inputs: [
        { name: 'x1', type: 'double' },
        { name: 'x2', type: 'double' },
      ],
      outputs: [
        { name: 'prediction', type: 'long' },
        { name: 'probabilities', type: 'double', shape: [-1, 2] },
      ],
    },
    target: { name: 'y', classes: [0, 1] },
    preprocessing: { standardize: { mean: [0, 0], scale: [1, 1] } },
    coefficients: [0.5, -0.25],
    intercept: 0.1,
    trainedAt: '2024-01-01T00:00:00.000Z',
    params: { solver: 'lbfgs' },
  };
}
