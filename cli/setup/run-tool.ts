/** Runs one program of `hpo setup` (pip, npm, node-gyp, python), keeping its output for error messages. */
import { spawn } from 'node:child_process';
import { SetupError } from '../../shared/errors.js';

export interface RunToolOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** What the step does, for the error message, e.g. `pip download tensorflow-cpu==2.21.0`. */
  what: string;
}

export interface ToolOutput {
  stdout: string;
  stderr: string;
}

/** The last `lines` non-empty lines of a tool's output, indented, for an error message. */
export function outputTail(text: string, lines = 15): string {
  const tail = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines);
  return tail.map((l) => `    ${l}`).join('\n');
}

/** Runs `bin args`; resolves with its output when it exits 0, else rejects with a SetupError naming the step. */
export function runTool(bin: string, args: string[], options: RunToolOptions): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', (err) =>
      reject(new SetupError(`${options.what}: cannot run ${bin}: ${err.message}`, { cause: err })),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = outputTail(`${stdout}\n${stderr}`);
      reject(new SetupError(`${options.what}: ${bin} ${how}${tail ? `:\n${tail}` : ''}`));
    });
  });
}
