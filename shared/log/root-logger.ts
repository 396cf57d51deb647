/**
 * The process's logger. The CLI sets its level once at start-up (`--log-level`, else HPO_LOG_LEVEL);
 * components take a `logger` option and default to a child of this one. Children copy the level when they
 * are made, so the level is set before any component is built.
 */
import { createLogger, type LogFields, type Logger } from './create-logger.js';
import { LOG_LEVEL_ENV, logLevelFromEnv, type LogLevel } from './levels.js';

let root: Logger | undefined;
let silent: Logger | undefined;

export function rootLogger(): Logger {
  root ??= createLogger({ level: logLevelFromEnv() });
  return root;
}

/** A child of the process's logger with these fields. */
export function childLogger(fields: LogFields): Logger {
  return rootLogger().child(fields);
}

/**
 * Sets the process's level, and HPO_LOG_LEVEL so that threads and child processes started afterwards use
 * it too.
 */
export function setLogLevel(level: LogLevel): void {
  process.env[LOG_LEVEL_ENV] = level;
  if (root) root.level = level;
}

/** A logger that drops everything (for callers that want no log lines). */
export function silentLogger(): Logger {
  silent ??= createLogger({ level: 'silent', pretty: false, destination: { write: () => {} } });
  return silent;
}
