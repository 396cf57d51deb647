/** Trained-model files of a search: the save policy and the keeper that names, records and prunes them. */
export * from './model-fetcher.js';
export * from './model-keeper.js';
export * from './models-bucket.js';
export * from './object-history.js';
export * from './orphan-chunks.js';
export * from './save-policy.js';
export * from './stale-fetches.js';
