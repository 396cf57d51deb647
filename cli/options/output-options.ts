/** `--json`: a command prints JSON on stdout instead of its table or text. */
import { Option } from 'commander';

export interface JsonFlags {
  json?: boolean;
}

export function jsonOption(description = 'print JSON'): Option {
  return new Option('--json', description);
}
