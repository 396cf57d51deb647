/** Saved models: tfjs files (model.json + weights.bin) with hpo-model.json; evaluate; predict one PNG. */
export * from './evaluate-model.js';
export * from './image.js';
export * from './load.js';
export * from '../../shared/protocol/model-metadata.js';
export * from './predict.js';
export * from './save.js';
