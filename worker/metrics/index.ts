export * from './invalid-messages.js';
export * from './metrics-server.js';
export * from './registry.js';
export * from './worker-metrics.js';
