/** Log levels: the names `--log-level` and HPO_LOG_LEVEL accept, and their check. */
import { UsageError } from '../errors.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** The environment variable that sets the level when `--log-level` is not given. */
export const LOG_LEVEL_ENV = 'HPO_LOG_LEVEL';

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** `value` as a level (case-insensitive, trimmed); a UsageError naming `where` otherwise. */
export function parseLogLevel(value: string, where: string): LogLevel {
  const level = value.trim().toLowerCase();
  if (!isLogLevel(level)) {
    throw new UsageError(`${where}: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return level;
}

/**
 * The level HPO_LOG_LEVEL names, or the default when it is unset or empty. An invalid value is a
 * UsageError (the CLI checks it once at start-up; a thread started by it sees a checked value).
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = env[LOG_LEVEL_ENV];
  if (value === undefined || value.trim() === '') return DEFAULT_LOG_LEVEL;
  return parseLogLevel(value, LOG_LEVEL_ENV);
}
