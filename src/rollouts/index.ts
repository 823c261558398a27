export { RolloutService } from './rollout-service.js';
export { KyselyRolloutStore } from './kysely-rollout-store.js';
export type { RolloutStore, RolloutPatch } from './rollout-store.js';
export { evaluateGates, psi, type TrafficWindow } from './gates.js';
export * from './types.js';
