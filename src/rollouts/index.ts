export { RolloutService } from './rollout-service.js';
export { KyselyRolloutStore } from './kysely-rollout-store.js';
export type { RolloutStore, RolloutPatch, StoredWindow } from './rollout-store.js';
export { bucketUpperMs, compactClasses, evaluateGates, latencyBucket, mergeParts, psi, type TrafficWindow, type WindowPart } from './gates.js';
export * from './types.js';
