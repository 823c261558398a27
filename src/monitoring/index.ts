export * from './column-profile.js';
export * from './drift-stats.js';
