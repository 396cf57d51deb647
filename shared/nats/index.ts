export * from './connection.js';
export * from './inbox.js';
export * from './replicas.js';
export * from './retry.js';
