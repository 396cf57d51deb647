/**
 * The logger factory (pino). Lines go to stderr, written synchronously so nothing is lost when the process
 * exits and a pool thread logs as safely as the main thread: JSON lines when stderr is not a terminal
 * (for log shippers and `jq`), pino-pretty's coloured one-liners when it is. stdout is never used: it
 * carries command output (tables, JSON results).
 */
import { isatty } from 'node:tty';
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { DEFAULT_LOG_LEVEL, type LogLevel } from './levels.js';

export type { Logger } from 'pino';

/** Fields a child logger may carry; every line of that child repeats them. */
export interface LogFields {
  /** Experiment name. */
  experiment?: string;
  /** Trial id (e.g. t0003). */
  trial?: string;
  /** Delivery attempt of that trial. */
  attempt?: number;
  /** Worker name (`--name`, default host:pid). */
  worker?: string;
  /** Which part of hpo logs (nats-transport, nats-worker, dataset, ...). */
  component?: string;
  [key: string]: unknown;
}

export interface LoggerOptions {
  /** Default: info. */
  level?: LogLevel;
  /** Human-readable lines (pino-pretty) instead of JSON. Default: whether stderr is a terminal. */
  pretty?: boolean;
  /** Where lines go. Default: stderr (fd 2), synchronously. */
  destination?: DestinationStream;
  /** Fields on every line. */
  base?: LogFields;
}

/**
 * A synchronous pino-pretty stream: each JSON line is formatted and written at once (no worker thread).
 * On the terminal, each line first clears the current one: a live progress bar (which ends without a
 * newline) is overwritten rather than run into, and redraws itself below on its next update.
 */
function prettyStream(out: DestinationStream, terminal: boolean): DestinationStream {
  const colorize = terminal;
  const clear = terminal ? '\r\u001b[2K' : '';
  const format = prettyFactory({
    colorize,
    singleLine: true,
    ignore: 'pid,hostname',
    translateTime: 'SYS:HH:MM:ss.l',
  });
  return { write: (line: string) => out.write(clear + format(line)) };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const terminal = isatty(2);
  const pretty = options.pretty ?? terminal;
  const out = options.destination ?? pino.destination({ dest: 2, sync: true });
  const logger = pino(
    {
      level: options.level ?? DEFAULT_LOG_LEVEL,
      // `"level":"warn"` rather than pino's number: what an operator searches for.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: stdTimeFunctions.isoTime,
    },
    pretty ? prettyStream(out, options.destination === undefined && terminal) : out,
  );
  return options.base ? logger.child(options.base) : logger;
}
