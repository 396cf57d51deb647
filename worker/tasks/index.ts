export * from './task.js';
export * from './registry.js';
export { syntheticCeiling, syntheticValAcc } from './synthetic-task.js';
export { unitHash } from '../../shared/prng.js';
