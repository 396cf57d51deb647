/** A real pino logger (the project's factory) whose JSON lines are kept in memory for assertions. */
import { createLogger, type Logger, type LogLevel } from '../../shared/log/index.js';

export interface LogRecord {
  level: string;
  msg: string;
  time: string;
  [field: string]: unknown;
}

export interface CapturedLogs {
  logger: Logger;
  /** Every line so far, as written (JSON, without the newline). */
  lines(): string[];
  /** Every line so far, parsed. */
  records(): LogRecord[];
  /** Their messages. */
  messages(): string[];
}

export function captureLogs(level: LogLevel = 'trace'): CapturedLogs {
  const lines: string[] = [];
  const logger = createLogger({ level, pretty: false, destination: { write: (line) => lines.push(line) } });
  const records = () => lines.map((l) => JSON.parse(l) as LogRecord);
  return {
    logger,
    lines: () => lines.map((l) => l.trimEnd()),
    records,
    messages: () => records().map((r) => r.msg),
  };
}
