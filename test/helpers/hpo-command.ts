/** Checks that an argv the deploy files run is an hpo command with options hpo's CLI accepts. */
import { strict as assert } from 'node:assert';
import { buildProgram } from '../../cli/main.js';

/**
 * `argv` names an hpo (sub)command, and each --option is one of its options with a value it accepts.
 * Values starting with `$` are filled in by the deploy tool (compose `${VAR}`, Kubernetes `$(VAR)`).
 */
export function assertHpoCommand(argv: string[]): void {
  let cmd = buildProgram();
  let i = 0;
  for (; i < argv.length && !argv[i].startsWith('-') && cmd.commands.length > 0; i++) {
    const sub = cmd.commands.find((c) => c.name() === argv[i]);
    assert.ok(sub, `hpo ${argv.slice(0, i + 1).join(' ')}: no such command`);
    cmd = sub;
  }
  for (; i < argv.length; i++) {
    if (!argv[i].startsWith('-')) continue; // an argument of the command (a file)
    const opt = cmd.options.find((o) => o.long === argv[i]);
    assert.ok(opt, `hpo ${cmd.name()}: no option ${argv[i]}`);
    if (opt.required || opt.optional) {
      const value = argv[++i];
      assert.ok(value !== undefined, `${argv[i - 1]} needs a value`);
      if (!value.startsWith('$')) opt.parseArg?.(value, undefined as never);
    }
  }
}
