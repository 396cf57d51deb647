/** The `hpo` command line. Returns the exit code: 0 ok, 1 failure, 2 usage error. */
import { Command, CommanderError } from 'commander';
import { HpoError, UsageError } from '../shared/errors.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerData } from './commands/data.js';
import { registerModels } from './commands/models.js';
import { registerModelFiles } from './commands/model-files.js';
import { registerReport } from './commands/report.js';
import { registerResults } from './commands/results.js';
import { registerSearch } from './commands/search.js';
import { registerSetup } from './commands/setup.js';
import { registerTrain } from './commands/train.js';
import { registerGpuCheck } from './commands/gpu-check.js';
import { registerUp } from './commands/up.js';
import { registerValidate } from './commands/validate.js';
import { registerWorker } from './commands/worker.js';
import { addLogLevelOption } from './options/log-options.js';
import { NotOurDatabaseError } from '../orchestrator/store/index.js';
import { hpoVersion } from '../orchestrator/core/run-info.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function buildProgram(setExitCode: (code: number) => void = () => {}): Command {
  const program = new Command('hpo')
    .description('distributed hyperparameter search for TensorFlow.js models')
    .version(hpoVersion(), '-V, --version', "print hpo's version (from its package.json)")
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  addLogLevelOption(program);
  registerModels(program);
  registerData(program);
  registerTrain(program);
  registerGpuCheck(program, setExitCode);
  registerValidate(program);
  registerSearch(program, setExitCode);
  registerResults(program);
  registerReport(program);
  registerDashboard(program);
  registerModelFiles(program);
  registerWorker(program, setExitCode);
  registerUp(program, setExitCode);
  registerSetup(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with exit code 0; every other commander error is a usage error.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof UsageError || err instanceof NotOurDatabaseError) {
      process.stderr.write(`hpo: error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof HpoError) {
      process.stderr.write(`hpo: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}
