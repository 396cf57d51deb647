/**
 * A trial's argument list from a W&B `command` template: each macro expands, every other item stays one
 * argument, exactly as written. No shell ever sees it, so parameter values (quotes, `;`, `$(x)`,
 * newlines) reach the program literally.
 */
import { DEFAULT_COMMAND } from '../../shared/command-macros.js';
import type { ParamValue, TrialParams } from '../../shared/protocol/index.js';

export interface CommandLineOptions {
  /** The sweep's `command` (default: W&B's `${env} ${interpreter} ${program} ${args}`). */
  command?: readonly string[];
  /** Program path as the child sees it. */
  program: string;
  /** `${interpreter}` (omitted when undefined: the program runs itself). */
  interpreter?: string;
  params: TrialParams;
  /** Path of the params JSON file for `${args_json_file}`. */
  argsJsonFile: string;
}

/** W&B writes values as Python's str() would for numbers and strings; booleans as true/false here. */
function text(value: ParamValue): string {
  return String(value);
}

export function buildCommandLine(options: CommandLineOptions): string[] {
  const { params } = options;
  const argv: string[] = [];
  for (const item of options.command ?? DEFAULT_COMMAND) {
    switch (item) {
      case '${env}':
        if (process.platform !== 'win32') argv.push('/usr/bin/env');
        break;
      case '${interpreter}':
        if (options.interpreter !== undefined) argv.push(options.interpreter);
        break;
      case '${program}':
        argv.push(options.program);
        break;
      case '${args}':
        for (const [k, v] of Object.entries(params)) argv.push(`--${k}=${text(v)}`);
        break;
      case '${args_no_hyphens}':
        for (const [k, v] of Object.entries(params)) argv.push(`${k}=${text(v)}`);
        break;
      case '${args_json}':
        argv.push(JSON.stringify(params));
        break;
      case '${args_json_file}':
        argv.push(options.argsJsonFile);
        break;
      default:
        argv.push(item);
    }
  }
  return argv;
}

/** The executable a command line starts: the item after `/usr/bin/env` when it starts with env. */
export function commandExecutable(argv: readonly string[]): string | undefined {
  if (argv[0] === '/usr/bin/env') return argv[1];
  return argv[0];
}
