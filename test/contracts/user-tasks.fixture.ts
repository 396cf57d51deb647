/**
 * A task module and a command program the transport contract runs (issue 14): both written once into a
 * temp folder and offered by every executor the contract's factories build.
 */
import { TaskOffers, commandOffer, fileSha256 } from '../../worker/tasks/index.js';
import { TRAIN_PROGRAM, quadraticModule, tempDir, writeFile } from '../helpers/user-tasks.js';

export interface ContractUserTasks {
  offers: TaskOffers;
  module: { name: string; sha256: string };
  command: { name: string; sha256: string };
}

let made: ContractUserTasks | undefined;

export function contractUserTasks(): ContractUserTasks {
  if (made) return made;
  const dir = tempDir('contract-tasks');
  const modulePath = writeFile(dir, 'contract-task.mjs', quadraticModule('contract-quad', 3));
  const program = writeFile(dir, 'contract-train.mjs', TRAIN_PROGRAM);
  const offers = new TaskOffers();
  const module = { name: 'contract-quad', sha256: fileSha256(modulePath) };
  offers.add({ kind: 'module', ...module, path: modulePath });
  const cmd = commandOffer(program);
  offers.add(cmd);
  made = { offers, module, command: { name: cmd.name, sha256: cmd.sha256 } };
  return made;
}
