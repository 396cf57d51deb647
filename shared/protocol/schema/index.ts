export * from './fields.js';
export * from './version.js';
export * from './trial-messages.js';
export * from './bus-messages.js';
export { compileMessage } from './compile.js';
export { describe } from './error-text.js';
export * from './after-schema.js';
