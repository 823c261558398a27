export * from './search-space.js';
export * from './rng.js';
export * from './samplers.js';
export * from './early-termination.js';
export * from './tpe-strategy.js';
