export * from './errors.js';
export * from './ids.js';
export * from './config.js';
export * from './settings.js';
export * from './lifecycle.js';
export * from './serial-job.js';
export * from './duration.js';
export * from './random.js';
