export {
  MODEL_ALGORITHMS,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  LOGISTIC_FORMAT_VERSION,
  GBDT_TASKS,
  BuiltinModelSchema,
  SignatureSchema,
  parseModel,
  predictionType,
  serializeModel,
  validateModel,
} from './format.js';
export type { BuiltinModel, ClassLabel, GbdtModel, GbdtTask, GbdtTree, InputSpec, LogisticModel, ModelSignature } from './format.js';
export { compileEnsemble, createGbdtScorer } from './gbdt-predictor.js';
export type { CategoryCodec, CompiledEnsemble } from './gbdt-predictor.js';
export { createBuiltinScorer, createPredictor, foldStandardization } from './predictor.js';
export type { BuiltinScorer, InputCodec, Prediction, Predictor, PredictorKind, PredictorSignature } from './predictor.js';
// loader.ts belongs to the storage-facing side (written alongside the registry); re-exported here
// because the models context's public surface is this file.
export { MLMODEL_FILE, MODEL_FILE, ONNX_FILE, inspectModelFolder, loadModel, loadPredictor } from './loader.js';
export type { LoadedPredictor, ModelFiles, ModelInspectionResult } from './loader.js';
export { FLUXOPS_FLAVOR, ONNX_FLAVOR, onnxMlmodelText, parseMlmodel } from './mlmodel.js';
export { EXPORT_INPUT, exportToOnnx } from './onnx/onnx-export.js';
export { ONNX_META } from './onnx/onnx-meta.js';
export { planOnnxModel } from './onnx/onnx-graph.js';
export type { OnnxPlan } from './onnx/onnx-graph.js';
export { attribute, constantTensor, onnxModel, onnxNode, sequenceOfMapsInfo, tensorInfo } from './onnx/onnx-builder.js';
export type { OnnxDim, OnnxElement, OnnxModelSpec } from './onnx/onnx-builder.js';
export { OnnxDataType, decodeOnnxModel, encodeOnnxModel } from './onnx/onnx-codec.js';
export type { OnnxModel } from './onnx/onnx-codec.js';
export type { Mlmodel, MlmodelSpec } from './mlmodel.js';
