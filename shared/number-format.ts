/**
 * How numbers are shown to people: tables round for display only, to at least 6 significant digits
 * (`displayNumber`); titles and labels use a short readable form (`shortNumber`, e.g. lr=4.1153e-4).
 * Machine-readable outputs (JSON, CSV) never use these: they keep every digit (`exactNumber`).
 */

/** The shortest text that reads back as exactly the same double (JavaScript's own). */
export function exactNumber(x: number): string {
  return String(x);
}

function trimExponent(s: string): string {
  // 4.10000e-4 -> 4.1e-4; 1.00000e+9 -> 1e+9
  return s.replace(/\.?0+e/, 'e');
}

/**
 * A number for a table cell: integers as they are; others to `digits` (>= 6) significant digits,
 * in exponent form below 1e-4 or from 1e9 on in magnitude. Not for CSV/JSON.
 */
export function displayNumber(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const p = Math.max(6, digits);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return trimExponent(x.toExponential(p - 1));
  return String(Number(x.toPrecision(p)));
}

/** A number for a title or label: 5 significant digits, exponent form below 1e-3 (lr=4.1153e-4). */
export function shortNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e9)) return trimExponent(x.toExponential(4));
  return String(Number(x.toPrecision(5)));
}
