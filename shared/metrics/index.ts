export * from './invalid-messages.js';
export * from './labels.js';
export * from './metrics-server.js';
export * from './registry.js';
export * from './readiness.js';
