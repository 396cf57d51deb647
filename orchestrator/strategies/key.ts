/**
 * The identity of a configuration, for "has this been proposed already?": canonical JSON of the params
 * with keys sorted, e.g. `{"arch":"mlp","batch_size":32,"learning_rate":0.001}`. Strings, numbers and
 * booleans keep their JSON types, so `1` and `"1"` differ; numbers compare by value (JSON round-trips
 * them exactly, so params read back from the store key the same as when proposed).
 */
import type { TrialParams } from '../../shared/protocol/index.js';
import { valueKey } from '../search-space/values.js';

export function configKey(params: Readonly<TrialParams>): string {
  const names = Object.keys(params).sort();
  return `{${names.map((n) => `${JSON.stringify(n)}:${valueKey(params[n])}`).join(',')}}`;
}

/** `params` restricted to `names` (the search space's parameters), for keys that ignore extra fields. */
export function projectParams(params: Readonly<TrialParams>, names: readonly string[]): TrialParams {
  const out: TrialParams = {};
  for (const n of names) if (Object.prototype.hasOwnProperty.call(params, n)) out[n] = params[n];
  return out;
}
