/** The smallest and largest number a parameter can take (the trials' epochs, for hyperband's checks). */
import type { ParamSpec } from './types.js';
import { qRange, qValue } from './values.js';

export interface NumberRange {
  min: number;
  max: number;
}

/** undefined when the parameter takes no number, or is unbounded (the normal family). */
export function numberRange(spec: ParamSpec): NumberRange | undefined {
  switch (spec.kind) {
    case 'constant':
      return typeof spec.value === 'number' ? { min: spec.value, max: spec.value } : undefined;
    case 'categorical': {
      const numbers = spec.values.filter((v): v is number => typeof v === 'number');
      return numbers.length > 0 ? { min: Math.min(...numbers), max: Math.max(...numbers) } : undefined;
    }
    case 'q_uniform':
    case 'q_log_uniform_values': {
      const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
      return { min: qValue(kmin, spec.q), max: qValue(kmax, spec.q) };
    }
    case 'uniform':
    case 'int_uniform':
    case 'log_uniform_values':
      return { min: spec.min, max: spec.max };
    default:
      return undefined;
  }
}
