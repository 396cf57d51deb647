/** What the benchmark ran on, for the JSON report. */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  mem_gb: number;
  os: string;
  node: string;
  nats_server: string;
}

export function machineInfo(natsServerBin: string): MachineInfo {
  const version = spawnSync(natsServerBin, ['--version'], { encoding: 'utf8' });
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    mem_gb: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    nats_server: (version.stdout ?? '').trim() || 'unknown',
  };
}
