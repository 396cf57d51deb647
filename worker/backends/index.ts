export * from './backend.js';
export { registerWasmGradientKernels } from './wasm-gradients.js';
export * from './thread-backend.js';
export * from './auto-preference.js';
export * from './native-threads.js';
export * from './native-pin.js';
