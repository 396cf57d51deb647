/** `--seed`: a seed (shared/prng.ts range), for `hpo train` (weights and batch order) and `hpo search`. */
import { Option } from 'commander';
import { seedValue } from './option-values.js';

export function seedOption(description: string, defaultValue?: number): Option {
  return new Option('--seed <n>', description).default(defaultValue).argParser(seedValue);
}
