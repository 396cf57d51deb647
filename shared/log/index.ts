export * from './levels.js';
export * from './create-logger.js';
export * from './root-logger.js';
export * from './rate-limited-log.js';
