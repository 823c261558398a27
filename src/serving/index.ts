export { DEFAULT_DEADLINE_MS, ModelServer, type LoadedModel, type PredictResult } from './model-server.js';
export { MicroBatcher, type BatchingSettings } from './batcher.js';
export { decodePredictBody, MAX_PREDICT_ROWS } from './decode.js';
export { EndpointRouter, PIN_HEADER, TIMEOUT_HEADER, deadlineOf, type DeploymentRuntime, type EndpointSnapshot, type DeploymentMeter, type RoutedResult, type ServingMetricsSink } from './endpoint-router.js';
export { DeploymentStats, MirrorTally, type MirrorStats, type WindowSummary } from './deployment-stats.js';
export { RolloutController, type RolloutControllerOptions } from './rollout-controller.js';
export { ProtocolError, mlflowScoringAnswer, mlflowScoringBody, oipAnswer, oipBody, oipMetadata, type NativeBody, type OipRequest, type OipTensor } from './protocols.js';
export { DefaultTarget, endpointTarget, modelTarget, pinHeaders, type Headers, type Target } from './targets.js';
