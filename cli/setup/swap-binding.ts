/**
 * Swapping a staged build into the installed package, undoably: the package's deps/ and binding file are
 * renamed aside (same file system, so each move is one rename), the new ones renamed in; `restore` puts
 * the old ones back, `commit` deletes them. A working install is never lost to a failed setup.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StagedBinding } from './build-binding.js';
import { bindingFile } from './tfjs-node-package.js';

export interface BindingSwap {
  /** Puts the previous deps/ and binding back (or removes the new ones when there were none). */
  restore(): void;
  /** Deletes the previous deps/ and binding. */
  commit(): void;
}

export function swapBinding(pkgDir: string, staged: StagedBinding, aside: string): BindingSwap {
  const targets = [
    { from: staged.deps, to: join(pkgDir, 'deps'), old: join(aside, 'deps') },
    { from: staged.binding, to: bindingFile(pkgDir), old: join(aside, 'tfjs_binding.node') },
  ];
  mkdirSync(aside, { recursive: true });
  const moved: typeof targets = [];
  const hadOld = new Set<string>();
  const restore = () => {
    for (const t of moved.reverse()) {
      rmSync(t.to, { recursive: true, force: true });
      if (hadOld.has(t.to)) renameSync(t.old, t.to);
    }
    moved.length = 0;
  };
  try {
    for (const t of targets) {
      if (existsSync(t.to)) {
        renameSync(t.to, t.old);
        hadOld.add(t.to);
      }
      moved.push(t);
      mkdirSync(dirname(t.to), { recursive: true });
      renameSync(t.from, t.to);
    }
  } catch (err) {
    restore();
    throw err;
  }
  return {
    restore,
    commit: () => rmSync(aside, { recursive: true, force: true }),
  };
}
