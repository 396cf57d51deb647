/**
 * Child processes the bench must not leave behind: each registers a synchronous kill, run on normal
 * exit, on an uncaught error and on SIGINT / SIGTERM.
 */
const killers = new Set<() => void>();
let installed = false;

function killAll(): void {
  for (const kill of killers) {
    try {
      kill();
    } catch {
      // Best effort: keep killing the others.
    }
  }
  killers.clear();
}

/** Registers `kill` until the returned function is called (after a graceful stop). */
export function killOnExit(kill: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', killAll);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        process.stderr.write(`\nbench: ${signal}: killing child processes\n`);
        killAll();
        process.exit(130);
      });
    }
  }
  killers.add(kill);
  return () => killers.delete(kill);
}
