export * from './errors.js';
export * from './ids.js';
export * from './config.js';
export * from './logger.js';
export * from './search-lexer.js';
export * from './lifecycle.js';
