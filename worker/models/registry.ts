import { UsageError } from '../../shared/errors.js';
import type { Architecture } from './architecture.js';
import { cnn } from './cnn.js';
import { cnn2 } from './cnn2.js';
import { mlp, mlpLinear } from './mlp.js';
import { scnn } from './scnn.js';
import { scnn2 } from './scnn2.js';
import { scnn3 } from './scnn3.js';

/** Every architecture by name. A new model is one file plus one line here. */
export const ARCHITECTURES: ReadonlyMap<string, Architecture> = new Map(
  [mlp, mlpLinear, cnn, cnn2, scnn, scnn2, scnn3].map((a) => [a.name, a]),
);

export function architectureNames(): string[] {
  return [...ARCHITECTURES.keys()];
}

/** The architecture called `name`, or a UsageError listing the known ones. */
export function getArchitecture(name: string): Architecture {
  const arch = ARCHITECTURES.get(name);
  if (!arch) {
    throw new UsageError(
      `unknown architecture '${name}'; expected one of: ${architectureNames().join(', ')}`,
    );
  }
  return arch;
}
