export * from './connection.js';
export * from './inbox.js';
