export * from './task.js';
export * from './registry.js';
export { syntheticCeiling, syntheticValAcc, unitHash } from './synthetic-task.js';
