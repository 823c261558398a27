export { ModelServer, type LoadedModel, type PredictResult } from './model-server.js';
export { decodePredictBody, MAX_PREDICT_ROWS } from './decode.js';
