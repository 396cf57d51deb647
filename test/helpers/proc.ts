import type { ChildProcess } from 'node:child_process';
import { startHpo } from './cli.js';

/** A started `hpo` process with its recent output and its exit. */
export interface Proc {
  child: ChildProcess;
  out(): string;
  exit: Promise<number | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `hpo ...args` (with `env` added), keeping the last 60,000 characters it printed. */
export function spawnHpo(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = startHpo(args, env);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-60_000)));
  child.stderr!.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-60_000)));
  const exit = new Promise<number | null>((r) => child.once('exit', r));
  return { child, out: () => text, exit };
}

/** Waits for `check`, failing after `ms` (or at once when `proc` exited) with its output. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms: number,
  proc?: Proc,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (proc && proc.child.exitCode !== null)
      throw new Error(`exited while waiting for ${what}:\n${proc.out()}`);
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${proc?.out() ?? ''}`);
    await sleep(100);
  }
}

/** The process's exit code, failing with its output if it does not exit within `ms`. */
export async function exitOf(p: Proc, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not exit within ${ms} ms:\n${p.out().slice(-6000)}`)), ms);
  });
  try {
    return await Promise.race([p.exit, limit]);
  } finally {
    clearTimeout(timer);
  }
}
