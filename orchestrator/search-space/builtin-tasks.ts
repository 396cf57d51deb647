/**
 * The task catalogue of the tasks hpo ships (multi-digit-mnist, synthetic), with the architecture names
 * from the worker's model registry. Importing this file loads the registry and so @tensorflow/tfjs; the
 * barrel (index.ts) does not re-export it for that reason.
 */
import { architectureNames } from '../../worker/models/registry.js';
import { OPTIMIZER_NAMES } from '../../worker/training/config.js';
import { MNIST_TASK, mnistTaskParams } from './mnist-params.js';
import { SYNTHETIC_PARAMS, SYNTHETIC_TASK } from './synthetic-params.js';
import { catalogFromTasks, type TaskCatalog } from './task-catalog.js';

export function builtinTaskCatalog(): TaskCatalog {
  return catalogFromTasks({
    [MNIST_TASK]: mnistTaskParams({ architectures: architectureNames(), optimizers: OPTIMIZER_NAMES }),
    [SYNTHETIC_TASK]: SYNTHETIC_PARAMS,
  });
}
