/** Durations in search-space files and flags: `90`, `90s`, `15m`, `1.5h`, `1h30m`, `2d` → seconds. */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds for a duration (a number is seconds), or undefined when it is not a positive duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return parseDuration(Number(text));
  if (!/^(\d+(\.\d+)?[smhd])+$/.test(text)) return undefined;
  let seconds = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)) seconds += Number(m[1]) * UNIT_SECONDS[m[2]];
  return seconds > 0 && Number.isFinite(seconds) ? seconds : undefined;
}

/** `3725` → `1h02m05s`, `59.5` → `60s` (rounded up to whole seconds). */
export function formatDuration(seconds: number): string {
  let s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${pad(m)}m${pad(s)}s`;
  if (m > 0) return `${m}m${pad(s)}s`;
  return `${s}s`;
}
