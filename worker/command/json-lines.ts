/**
 * A command task's stdout: each line that is a JSON object with numbers is an epoch report,
 * `{"epoch": 1, "val_loss": 0.31}`. Anything else (progress bars, prose, JSON that is not an object of
 * numbers) is ignored and counted, never fatal.
 */

export interface EpochLine {
  /** The line's `epoch` when it is a positive integer. */
  epoch?: number;
  /** Its numeric fields other than `epoch` (null: NaN, a diverged value). */
  metrics: Record<string, number>;
}

/** Most metrics kept from one line. */
const MAX_METRICS = 1000;

export function parseEpochLine(line: string): EpochLine | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const metrics: Record<string, number> = {};
  let epoch: number | undefined;
  let count = 0;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'epoch') {
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1) epoch = v;
      continue;
    }
    if (typeof v !== 'number' || count >= MAX_METRICS || key === '__proto__') continue;
    metrics[key] = v;
    count++;
  }
  if (count === 0) return null;
  return { ...(epoch === undefined ? {} : { epoch }), metrics };
}
