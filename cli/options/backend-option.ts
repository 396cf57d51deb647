/** `--backend`: the tfjs backend of every command that runs models (train, search, worker, evaluate, predict). */
import { Option } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../../worker/backends/backend.js';
import { oneOf } from './option-values.js';

export interface BackendFlags {
  backend: BackendChoice;
}

export function backendOption(): Option {
  return new Option('--backend <name>', `tfjs backend (${BACKEND_CHOICES.join(', ')})`)
    .default('auto' satisfies BackendChoice)
    .argParser(oneOf(BACKEND_CHOICES));
}
