export {
  MODEL_ALGORITHMS,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  BuiltinModelSchema,
  SignatureSchema,
  parseModel,
  predictionType,
  serializeModel,
  validateModel,
} from './format.js';
export type { BuiltinModel, ClassLabel, InputSpec, ModelSignature } from './format.js';
export { createPredictor } from './predictor.js';
export type { Prediction, Predictor } from './predictor.js';
// loader.ts belongs to the storage-facing side (written alongside the registry); re-exported here
// because the models context's public surface is this file.
export { MLMODEL_FILE, MODEL_FILE, inspectModelFolder, loadModel } from './loader.js';
export type { ModelInspectionResult } from './loader.js';
export { FLUXOPS_FLAVOR, parseMlmodel } from './mlmodel.js';
export type { Mlmodel, MlmodelSpec } from './mlmodel.js';
