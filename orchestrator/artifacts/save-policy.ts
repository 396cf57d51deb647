/** Which trials keep their trained model: all, none, or the best k by the validation objective. */
import { UsageError } from '../../shared/errors.js';

export type SavePolicy = { kind: 'all' } | { kind: 'none' } | { kind: 'top'; k: number };

export const SAVE_POLICY_HELP = 'all, none, or top:K (keep the K best by the validation objective)';

export function parseSavePolicy(text: string, where = '--save-models'): SavePolicy {
  if (text === 'all' || text === 'none') return { kind: text };
  const m = /^top:(\d+)$/.exec(text);
  const k = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(k) || k < 1) {
    throw new UsageError(`${where}: expected ${SAVE_POLICY_HELP}, got '${text}'`);
  }
  return { kind: 'top', k };
}
