/** `hpo setup`: native backends built from TensorFlow's pip wheels. */
export * from './build-binding.js';
export * from './build-tools.js';
export * from './check-binding.js';
export * from './run-tool.js';
export * from './setup-tensorflow.js';
export * from './swap-binding.js';
export * from './tensorflow-wheel.js';
export * from './tfjs-node-package.js';
