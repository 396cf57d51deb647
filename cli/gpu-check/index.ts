export * from './gpu-check.js';
export * from './gpu-sampler.js';
export * from './search-check.js';
export * from './train-check.js';
