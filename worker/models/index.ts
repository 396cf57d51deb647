export * from './architecture.js';
export * from './registry.js';
export { LayerFactory, type LayerFactoryOptions } from './layers.js';
export { disposeModel } from './dispose.js';
