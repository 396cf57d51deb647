/**
 * What `hpo search` keeps serving after the search ends: /metrics for `--metrics-linger` seconds, the
 * dashboard for `--ui-linger` (by default until Ctrl-C when run from a terminal, not at all otherwise).
 * A signal (Ctrl-C, SIGTERM) cuts every linger short.
 */
import { InvalidArgumentError } from 'commander';
import { formatDuration, parseDuration } from '../../orchestrator/search-space/index.js';
import type { Dashboard } from '../../viewer/index.js';

/** `--ui-linger forever` (or no flag on a terminal): until a signal. */
export const FOREVER = Infinity;

/** `--ui-linger 10m` → seconds; `0` → 0; `forever` → Infinity. */
export function lingerValue(value: string): number {
  if (value === 'forever') return FOREVER;
  if (/^\s*0+(\.0*)?\s*$/.test(value)) return 0; // closes with the search, even on a terminal
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    throw new InvalidArgumentError("expected a duration (seconds, or e.g. 90s, 15m, 2h), 0 or 'forever'.");
  }
  return seconds;
}

/**
 * How long the dashboard stays after the search: the flag when given; otherwise until Ctrl-C when a
 * person can press it (stdin is a terminal, as with `npm start`), and not at all in CI, scripts and
 * pipes, which must not hang.
 */
export function uiLingerSeconds(
  flag: number | undefined,
  interactive = process.stdin.isTTY === true,
): number {
  return flag ?? (interactive ? FOREVER : 0);
}

/** Resolves after `seconds` (never for Infinity) or at the first SIGINT / SIGTERM, whichever is first. */
export function untilSignalOr(seconds: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    // setTimeout takes at most 2^31-1 ms (24.8 days): longer is as good as forever.
    const ms = seconds * 1000;
    const timer = ms < 2 ** 31 ? setTimeout(done, ms) : undefined;
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** Keeps the dashboard up `seconds` after the search (saying so on stderr), then closes it. */
export async function lingerDashboard(ui: Dashboard, seconds: number, page: string): Promise<void> {
  if (seconds > 0) {
    const howLong =
      seconds === FOREVER ? 'Ctrl-C to stop' : `for ${formatDuration(seconds)} more, Ctrl-C to stop sooner`;
    process.stderr.write(`hpo: search finished; dashboard still at ${page} (${howLong})\n`);
    await untilSignalOr(seconds);
  }
  await ui.close();
}
