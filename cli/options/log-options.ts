/**
 * `--log-level`: a global option of `hpo` (before or after the command name). It sets the level of the
 * process's logger before a command runs; without it HPO_LOG_LEVEL does, else `info`.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  LOG_LEVELS,
  type LogLevel,
  isLogLevel,
  logLevelFromEnv,
  setLogLevel,
} from '../../shared/log/index.js';

function logLevelValue(value: string): LogLevel {
  const level = value.trim().toLowerCase();
  if (!isLogLevel(level)) throw new InvalidArgumentError(`expected one of: ${LOG_LEVELS.join(', ')}.`);
  return level;
}

export function addLogLevelOption(program: Command): Command {
  program.addOption(
    new Option(
      '--log-level <level>',
      `log lines on stderr at this level and above: ${LOG_LEVELS.join(', ')} (default: $HPO_LOG_LEVEL or info)`,
    ).argParser(logLevelValue),
  );
  // Runs before any command's action, so every logger a command makes has the level.
  program.hook('preAction', () => {
    const flag = program.opts<{ logLevel?: LogLevel }>().logLevel;
    setLogLevel(flag ?? logLevelFromEnv());
  });
  return program;
}
