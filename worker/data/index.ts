/**
 * The two-digit MNIST data set: 42x28 images stacking two MNIST digits (top in rows 0-27, bottom in rows
 * 14-41, max where they overlap), generated deterministically from a seed, cached in a verified binary
 * file, or loaded from a user's file. See docs/DATA.md.
 */
export {
  BOTTOM_OFFSET,
  DEFAULT_SEED,
  DIGIT_SIZE,
  IMAGE_BYTES,
  IMAGE_HEIGHT,
  IMAGE_WIDTH,
  NUM_CLASSES,
  SPLIT_COUNTS,
  SPLIT_NAMES,
  VAL_POOL_SIZE,
  type SplitName,
} from './constants.js';
export type { DatasetInfo, Split, SplitInfo, TwoDigitDataset } from './types.js';
export { checkSeed, mixSeed, Prng } from '../../shared/prng.js';
export {
  mnistDir,
  readIdxImages,
  readIdxLabels,
  readMnistDigits,
  readMnistSource,
  type MnistDigits,
  type MnistSource,
} from './idx.js';
export {
  composePair,
  generateDataset,
  generateDatasetWithSources,
  splitTrainPool,
  type GeneratedDataset,
  type PairSources,
  type TrainPools,
} from './generate.js';
export {
  contentSha256,
  FORMAT_MAGIC,
  FORMAT_VERSION,
  HEADER_BYTES,
  readDatasetFile,
  writeDatasetFile,
} from './format.js';
export { cacheFileName, cacheFilePath, defaultDataDir } from './cache.js';
export { datasetInfo, loadDataset, subsetSplit, type LoadDatasetOptions } from './dataset.js';
export { renderPreviewPng, type PreviewOptions } from './preview.js';
export { createDataCheck, type DataCheck, type DataCheckOptions, DEFAULT_DATA_SEEDS } from './check.js';
