export * from './observer.js';
export * from './progress.js';
export * from './search-runner.js';
export * from './run-info.js';
