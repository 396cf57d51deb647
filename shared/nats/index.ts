export * from './connection.js';
export * from './inbox.js';
export * from './connection-check.js';
export * from './replicas.js';
export * from './retry.js';
