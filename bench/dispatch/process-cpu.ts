/**
 * CPU time of other processes (nats-server, `hpo worker`s) from /proc/<pid>/stat, so a run can say
 * where the machine's cores went. Linux only; elsewhere every reading is null.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number.parseInt(out.stdout ?? '', 10);
    ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** User + system CPU ms the process (all its threads) used so far, or null if it cannot be read. */
export function processCpuMs(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may contain spaces) start at field 3 (state).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1000) / clockTicks();
}

/** Busy CPU ms of the whole machine so far (all cores: everything but idle and iowait), or null. */
export function machineBusyMs(): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const fields = text.split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 5 || fields.some((f) => !Number.isFinite(f))) return null;
  const total = fields.reduce((s, f) => s + f, 0);
  return ((total - fields[3] - fields[4]) * 1000) / clockTicks();
}

/** CPU ms of this process so far (user + system, all threads). */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Named processes' CPU readings at start; `since()` gives each one's CPU ms used after that. */
export class CpuMeter {
  private readonly start = new Map<string, number | null>();
  private readonly ownStart = ownCpuMs();
  private readonly machineStart = machineBusyMs();

  constructor(private readonly pids: ReadonlyMap<string, number>) {
    for (const [name, pid] of pids) this.start.set(name, processCpuMs(pid));
  }

  /**
   * CPU ms per name since construction (`orchestrator` is this process), null when unreadable; then
   * `other processes` (the machine's busy time minus all of these: load that is not the benchmark's).
   */
  since(): Record<string, number | null> {
    const machineNow = machineBusyMs();
    const out: Record<string, number | null> = { orchestrator: Math.round(ownCpuMs() - this.ownStart) };
    let ours = out.orchestrator ?? 0;
    for (const [name, pid] of this.pids) {
      const before = this.start.get(name);
      const now = processCpuMs(pid);
      out[name] = before === null || before === undefined || now === null ? null : Math.round(now - before);
      ours += out[name] ?? 0;
    }
    out['other processes'] =
      this.machineStart === null || machineNow === null
        ? null
        : Math.max(0, Math.round(machineNow - this.machineStart - ours));
    return out;
  }
}

/**
 * The bench's processes' CPU and everything else's (`other processes`), each as a share (%) of all the
 * machine's cores over `seconds`.
 */
export function cpuShares(
  cpu: Record<string, number | null>,
  cores: number,
  seconds: number,
): { bench_pct: number; other_pct: number | null } {
  const coreMs = cores * seconds * 1000;
  let bench = 0;
  for (const [name, ms] of Object.entries(cpu)) if (name !== 'other processes') bench += ms ?? 0;
  const other = cpu['other processes'];
  return {
    bench_pct: Math.round((1000 * bench) / coreMs) / 10,
    other_pct: other === null || other === undefined ? null : Math.round((1000 * other) / coreMs) / 10,
  };
}
