/**
 * W&B's command macros (sweep-file `command`), read by the sweep-file parser (to check a file) and by
 * the worker (to build a trial's argument list). See docs/TASKS.md.
 */

export const COMMAND_MACROS = [
  '${env}',
  '${interpreter}',
  '${program}',
  '${args}',
  '${args_no_hyphens}',
  '${args_json}',
  '${args_json_file}',
] as const;

export type CommandMacro = (typeof COMMAND_MACROS)[number];

/** W&B's default command. */
export const DEFAULT_COMMAND: readonly string[] = ['${env}', '${interpreter}', '${program}', '${args}'];

/** True for a `${...}` token that is not one of the macros (a likely typo). */
export function isUnknownMacro(token: string): boolean {
  return /^\$\{[^}]*\}$/.test(token) && !(COMMAND_MACROS as readonly string[]).includes(token);
}
