import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_DATA_DIR } from './dataset.js';

/** bin/hpo.js of this checkout (tests run from dist/test/...). */
export const HPO_BIN = fileURLToPath(new URL('../../../bin/hpo.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `hpo ...args` as a user would, with the test data cache. */
export function startHpo(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [HPO_BIN, ...args], {
    env: { ...process.env, HPO_DATA_DIR: TEST_DATA_DIR, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `hpo ...args` to the end. */
export function runHpo(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startHpo(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Collects a child's stdout and stderr; the returned function reads what it printed so far. */
export function captureOutput(child: ChildProcess): () => string {
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  return () => text;
}

/** Waits until the child's output matches `pattern`; fails if it exits first or after `ms`. */
export async function waitForOutput(
  read: () => string,
  pattern: RegExp,
  child: ChildProcess,
  ms = 120_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(read())) {
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${pattern}:\n${read()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
