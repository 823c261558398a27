import {
  OnnxDataType,
  attribute,
  constantTensor,
  encodeOnnxModel,
  onnxModel,
  onnxNode,
  sequenceOfMapsInfo,
  tensorInfo,
} from '../../src/models/index.js';

/**
 * ONNX graphs the tests serve, built with the project's own writer in the shapes skl2onnx and
 * onnxmltools write, with weights the tests know, so expected outputs can be computed by hand.
 */

/** A 3-class linear classifier on four float columns: LinearClassifier (softmax) + ZipMap, as skl2onnx writes a LogisticRegression. */
export const MULTICLASS = {
  columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  classes: ['setosa', 'versicolor', 'virginica'],
  /** 3×4, one row of coefficients per class. */
  coefficients: [
    [0.4, 1.4, -2.2, -1.0],
    [0.5, -1.6, 0.6, -1.3],
    [-1.6, -0.9, 2.4, 2.1],
  ],
  intercepts: [0.26, 1.1, -1.3],
};

export function multiclassOnnx(): Uint8Array {
  const m = MULTICLASS;
  return encodeOnnxModel(
    onnxModel({
      graph: {
        name: 'iris_logreg',
        inputs: [tensorInfo('float_input', 'float32', ['N', 4])],
        outputs: [tensorInfo('output_label', 'string', ['N']), sequenceOfMapsInfo('output_probability', 'string')],
        nodes: [
          onnxNode(
            'LinearClassifier',
            ['float_input'],
            ['output_label', 'probabilities'],
            [
              attribute.strings('classlabels_strings', m.classes),
              attribute.floats('coefficients', m.coefficients.flat()),
              attribute.floats('intercepts', m.intercepts),
              attribute.int('multi_class', 1),
              attribute.string('post_transform', 'SOFTMAX'),
            ],
            'ai.onnx.ml',
          ),
          onnxNode('ZipMap', ['probabilities'], ['output_probability'], [attribute.strings('classlabels_strings', m.classes)], 'ai.onnx.ml'),
        ],
      },
      opsets: { '': 13, 'ai.onnx.ml': 1 },
      producer: { name: 'fluxops-tests', version: '1' },
    }),
  );
}

/** What the multiclass graph computes, in float64: softmax of W·x + b, and the most probable class. */
export function multiclassExpected(row: readonly number[]): { label: string; probabilities: number[] } {
  const scores = MULTICLASS.coefficients.map((w, c) => w.reduce((s, wj, j) => s + wj * row[j]!, MULTICLASS.intercepts[c]!));
  const max = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - max));
  const total = e.reduce((a, b) => a + b, 0);
  const probabilities = e.map((x) => x / total);
  return { label: MULTICLASS.classes[probabilities.indexOf(Math.max(...probabilities))]!, probabilities };
}

/** A regressor with one input per column (age is int64, as a count would be), concatenated and fed to LinearRegressor: y [N, 1]. */
export const REGRESSOR = {
  columns: ['age', 'bmi', 'bp'],
  coefficients: [0.75, 2.5, -0.125],
  intercept: 12.5,
};

export function regressorOnnx(): Uint8Array {
  const r = REGRESSOR;
  return encodeOnnxModel(
    onnxModel({
      graph: {
        name: 'progression',
        inputs: [tensorInfo('age', 'int64', ['N', 1]), tensorInfo('bmi', 'float32', ['N', 1]), tensorInfo('bp', 'float32', ['N', 1])],
        outputs: [tensorInfo('variable', 'float32', ['N', 1])],
        nodes: [
          onnxNode('Cast', ['age'], ['age_float'], [attribute.int('to', OnnxDataType.FLOAT)]),
          onnxNode('Concat', ['age_float', 'bmi', 'bp'], ['features'], [attribute.int('axis', 1)]),
          onnxNode(
            'LinearRegressor',
            ['features'],
            ['variable'],
            [attribute.floats('coefficients', r.coefficients), attribute.floats('intercepts', [r.intercept])],
            'ai.onnx.ml',
          ),
        ],
      },
      opsets: { '': 13, 'ai.onnx.ml': 1 },
    }),
  );
}

export function regressorExpected(row: readonly number[]): number {
  return REGRESSOR.coefficients.reduce((s, w, j) => s + w * row[j]!, REGRESSOR.intercept);
}

/** A float regressor on one [N, F] double input with output [N] (MatMul + Add + Reshape), columns named only by position. */
export function positionalRegressorOnnx(weights: readonly number[], bias: number): Uint8Array {
  return encodeOnnxModel(
    onnxModel({
      graph: {
        name: 'positional',
        inputs: [tensorInfo('X', 'float64', ['N', weights.length])],
        outputs: [tensorInfo('y', 'float64', ['N'])],
        initializers: [
          constantTensor('W', 'float64', [weights.length, 1], [...weights]),
          constantTensor('B', 'float64', [1], [bias]),
          constantTensor('flat', 'int64', [1], [-1]),
        ],
        nodes: [onnxNode('MatMul', ['X', 'W'], ['xw']), onnxNode('Add', ['xw', 'B'], ['y2']), onnxNode('Reshape', ['y2', 'flat'], ['y'])],
      },
      opsets: { '': 13 },
    }),
  );
}

/** A CPU-heavy graph: twelve 256×256 float MatMuls per row (tens of ms for a few thousand rows). */
export function heavyOnnx(): Uint8Array {
  const F = 256;
  const initializers = [];
  const nodes = [];
  let prev = 'X';
  for (let l = 0; l < 12; l++) {
    initializers.push(constantTensor(`W${l}`, 'float32', [F, F], Array.from({ length: F * F }, (_, i) => ((i % 7) - 3) / 1000)));
    nodes.push(onnxNode('MatMul', [prev, `W${l}`], [`h${l}`]));
    prev = `h${l}`;
  }
  initializers.push(constantTensor('V', 'float32', [F, 1], Array.from({ length: F }, () => 0.01)));
  nodes.push(onnxNode('MatMul', [prev, 'V'], ['y']));
  return encodeOnnxModel(onnxModel({ graph: { name: 'heavy', inputs: [tensorInfo('X', 'float32', ['N', F])], outputs: [tensorInfo('y', 'float32', ['N', 1])], initializers, nodes }, opsets: { '': 13 } }));
}
