export * from './trial.js';
export * from './result-event.js';
