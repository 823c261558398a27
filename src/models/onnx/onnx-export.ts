import { predictionType, validateModel, type BuiltinModel, type LogisticModel } from '../format.js';
import { foldStandardization } from '../predictor.js';
import { binaryLabelNodes, constantTensor, onnxModel, onnxNode, tensorInfo, type OnnxElement } from './onnx-builder.js';
import { encodeOnnxModel } from './onnx-codec.js';
import { exportGbdt } from './onnx-gbdt-export.js';
import { ONNX_META } from './onnx-meta.js';

/** Name of the exported graph's one input: a float64 matrix [N, F], columns in signature order. */
export const EXPORT_INPUT = 'input';

/**
 * Writes a built-in model as an ONNX model that predicts what the built-in predictor does. A
 * gradient-boosted tree model goes to ai.onnx.ml's tree-ensemble operators (`exportGbdt` in
 * onnx-gbdt-export.ts, which refuses models with text inputs). A logistic regression is written as
 * the folded weights of `foldStandardization` in float64, with standard operators only (MatMul,
 * Add, Sigmoid, Sub, Concat, Greater, Cast, Reshape, Gather; opset 13), so any ONNX runtime runs
 * it and the probabilities equal the built-in ones to float64 rounding (the ML-domain
 * LinearClassifier would compute in float32). Outputs `label` [N] (the classes' type: int64,
 * double or string) and `probabilities` [N, 2] in class order; a row gets the second class when
 * its probability is strictly above ½, as the built-in predictor decides. The input column names,
 * classes and target are carried in metadata_props.
 */
export function exportToOnnx(model: BuiltinModel, opts: { producerVersion?: string; modelName?: string } = {}): Uint8Array {
  validateModel(model);
  return model.algorithm === 'gbdt' ? exportGbdt(model, EXPORT_INPUT, opts) : exportLogistic(model, opts);
}

function exportLogistic(model: LogisticModel, opts: { producerVersion?: string; modelName?: string }): Uint8Array {
  const columns = model.signature.inputs.map((i) => i.name);
  const f = columns.length;
  const { weights, bias } = foldStandardization(model);
  const classes = model.target.classes;
  const labelType = predictionType(classes);
  const labelElement: OnnxElement = labelType === 'long' ? 'int64' : labelType === 'double' ? 'float64' : 'string';
  const graph = {
    name: opts.modelName ?? 'fluxops_logistic_regression',
    inputs: [tensorInfo(EXPORT_INPUT, 'float64', ['N', f])],
    outputs: [tensorInfo('label', labelElement, ['N']), tensorInfo('probabilities', 'float64', ['N', 2])],
    initializers: [
      constantTensor('weights', 'float64', [f, 1], [...weights]),
      constantTensor('bias', 'float64', [1], [bias]),
      constantTensor('one', 'float64', [1], [1]),
      constantTensor('half', 'float64', [1], [0.5]),
      constantTensor('flat', 'int64', [1], [-1]),
      labelElement === 'string'
        ? constantTensor('classes', 'string', [2], classes.map(String))
        : constantTensor('classes', labelElement, [2], classes as number[]),
    ],
    nodes: [
      onnxNode('MatMul', [EXPORT_INPUT, 'weights'], ['dot']),
      onnxNode('Add', ['dot', 'bias'], ['score']),
      onnxNode('Sigmoid', ['score'], ['p_positive']),
      ...binaryLabelNodes('p_positive'),
    ],
  };
  return encodeOnnxModel(
    onnxModel({
      graph,
      opsets: { '': 13 },
      producer: { name: 'fluxops', version: opts.producerVersion ?? '' },
      docString: `FluxOps logistic regression for ${model.target.name}, trained ${model.trainedAt}`,
      metadata: {
        [ONNX_META.inputColumns]: JSON.stringify(columns),
        [ONNX_META.classes]: JSON.stringify(classes),
        [ONNX_META.target]: model.target.name,
        [ONNX_META.trainedAt]: model.trainedAt,
        [ONNX_META.algorithm]: model.algorithm,
      },
    }),
  );
}
