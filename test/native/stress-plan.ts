/**
 * The trials of the native pool stress run (pool-stress.ts): what each one is and how it must end.
 * Deterministic by index, so that a run is repeatable and each kind recurs in every round.
 */
import { PROTOCOL_VERSION, type TrialSpec } from '../../shared/protocol/index.js';

/**
 * - `complete`: trains 1 epoch and is evaluated; must complete on backend tensorflow.
 * - `stop`: 3 epochs, the decision after epoch 1 is 'stop'; must end `stopped`.
 * - `save-fails`: trains, then saving its model fails (the pool's models folder is a file): `failed`.
 * - `wrong-data`: names another data set's sha256: `failed` with a DataError before training.
 * - `cancel`: a long trial aborted after `abortMs` (its thread is killed, wherever it is).
 */
export type PlannedKind = 'complete' | 'stop' | 'save-fails' | 'wrong-data' | 'cancel';

export interface PlannedTrial {
  spec: TrialSpec;
  kind: PlannedKind;
  /** `cancel`: ms after the trial is handed to the pool. */
  abortMs?: number;
}

/** Cheap architectures, two with convolutions, so that conv kernels run in every round. */
const ARCHS = ['mlp', 'cnn2', 'mlp', 'scnn3'];

function kindOf(index: number): PlannedKind {
  switch (index % 10) {
    case 3:
      return 'save-fails';
    case 5:
    case 8:
      return 'cancel';
    case 7:
      return 'wrong-data';
    case 9:
      return 'stop';
    default:
      return 'complete';
  }
}

export function plannedTrial(index: number, trainSize: number): PlannedTrial {
  const kind = kindOf(index);
  const epochs = kind === 'cancel' ? 50 : kind === 'stop' ? 3 : 1;
  const spec: TrialSpec = {
    v: PROTOCOL_VERSION,
    experiment: 'native-pool-stress',
    experiment_id: 'native-pool-stress',
    trial_id: `t${String(index).padStart(4, '0')}`,
    attempt: 1,
    task: 'multi-digit-mnist',
    params: {
      arch: ARCHS[index % ARCHS.length],
      optimizer: 'adam',
      learning_rate: 0.001,
      batch_size: 32,
      epochs,
      train_size: trainSize,
      val_size: 256,
    },
    seed: index + 1,
    data: kind === 'wrong-data' ? { seed: 1, sha256: '0'.repeat(64) } : { seed: 1 },
    ...(kind === 'save-fails' ? { save_model: true } : {}),
  };
  // Cancels land anywhere from backend loading to training: 0-1,500 ms, spread by index.
  return kind === 'cancel' ? { spec, kind, abortMs: (index * 137) % 1500 } : { spec, kind };
}
