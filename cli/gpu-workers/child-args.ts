/**
 * The command line of one GPU worker process: the supervisor's own arguments without the options it
 * decides per process (`--gpus`, `--slots-per-gpu`, `--name`, `--concurrency`, and `--metrics-*`: the
 * supervisor serves the metrics of all of them), plus that process's name and threads.
 */
import type { GpuProcessPlan } from '../../worker/gpu/gpu-plan.js';

/** Options with a value that the supervisor removes. */
export const SUPERVISOR_OPTIONS = [
  '--gpus',
  '--slots-per-gpu',
  '--name',
  '--concurrency',
  '--metrics-port',
  '--metrics-host',
] as const;

/** `args` without the named options and their values (`--opt value` and `--opt=value`). */
export function withoutOptions(args: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (names.includes(a)) {
      i++; // its value
      continue;
    }
    if (names.some((n) => a.startsWith(`${n}=`))) continue;
    out.push(a);
  }
  return out;
}

/** Arguments of the process of `plan`, from the supervisor's (process.argv.slice(2)). */
export function childArgs(supervisorArgs: readonly string[], plan: GpuProcessPlan): string[] {
  return [
    ...withoutOptions(supervisorArgs, SUPERVISOR_OPTIONS),
    '--name',
    plan.name,
    '--concurrency',
    String(plan.threads),
  ];
}
