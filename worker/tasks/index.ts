export * from './task.js';
export * from './registry.js';
export * from './define-task.js';
export * from './task-module.js';
export * from './task-offers.js';
export { syntheticCeiling, syntheticValAcc } from './synthetic-task.js';
export { unitHash } from '../../shared/prng.js';
export * from './builtin-task-names.js';
