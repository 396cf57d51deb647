export * from './command-line.js';
export * from './command-run.js';
export * from './interpreter.js';
export * from './json-lines.js';
export * from './run-command.js';
