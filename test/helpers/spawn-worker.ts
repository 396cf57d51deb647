/** How the NATS tests start an `hpo worker`: one argv with options, started by whichever helper a test uses. */
import { type Proc, spawnHpo } from './proc.js';

export interface WorkerArgsOptions {
  /** --concurrency (default 2). */
  concurrency?: number;
  /** --backend (default cpu: a test must not depend on which backends this installation has). */
  backend?: string;
  /** More options, after the common ones (e.g. --metrics-port 0, --task FILE). */
  extra?: string[];
}

/** `worker --nats URL --concurrency N --backend B --name NAME ...extra` (the args after `hpo`). */
export function workerArgs(nats: string, name: string, options: WorkerArgsOptions = {}): string[] {
  return [
    'worker',
    '--nats',
    nats,
    '--concurrency',
    String(options.concurrency ?? 2),
    '--backend',
    options.backend ?? 'cpu',
    '--name',
    name,
    ...(options.extra ?? []),
  ];
}

/** Starts `hpo worker` (workerArgs) with `env` added, keeping its output (see spawnHpo). */
export function spawnWorker(
  nats: string,
  name: string,
  options: WorkerArgsOptions = {},
  env: NodeJS.ProcessEnv = {},
): Proc {
  return spawnHpo(workerArgs(nats, name, options), env);
}
