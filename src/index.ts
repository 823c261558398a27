export { openPlatform, type Platform } from './platform.js';
export { buildApp, type App, type AppOptions } from './api/index.js';
export { FluxClient, type ClientOptions } from './client/index.js';
export { FluxError, type ErrorCode, ERROR_CODES } from './core/index.js';
export { trainAndTrack } from './workflows/index.js';
export { trainClassifier, generateDiabetesCsv, loadCsv, type TrainClassifierResult } from './training/index.js';
export { serializeModel, parseModel, createPredictor, exportToOnnx, loadPredictor, MODEL_FILE, type Predictor, type Prediction } from './models/index.js';
export { EVENT_TYPES, type DomainEvent, type EventType, type EventPayloads, type EventPage } from './events/index.js';
