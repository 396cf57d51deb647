/**
 * `hpo dashboard`: the live web page over a database (any machine that can read the file; the search
 * may be running or finished), and the workers on the bus with --nats. Runs until Ctrl-C.
 */
import type { Command } from 'commander';
import type { NatsConnection } from '@nats-io/transport-node';
import { startDashboard, type Dashboard } from '../../viewer/index.js';
import { listWorkers } from '../../orchestrator/api/index.js';
import { connectNats } from '../../worker/nats/index.js';
import { addNatsOptions, type NatsFlags, natsSettings } from '../options/nats-options.js';
import { portValue } from '../options/option-values.js';
import { addDbOption } from '../options/store-options.js';

export const DEFAULT_DASHBOARD_PORT = 8080;

interface DashboardFlags extends NatsFlags {
  db: string;
  port: number;
  host: string;
}

/** Serves the dashboard for `db` (and the bus's workers with --nats) until SIGINT/SIGTERM. */
async function serve(flags: DashboardFlags): Promise<void> {
  const settings = natsSettings(flags);
  let nc: NatsConnection | undefined;
  let dashboard: Dashboard | undefined;
  try {
    if (settings) nc = await connectNats({ ...settings, name: 'hpo dashboard' });
    const bus = nc;
    dashboard = await startDashboard({
      db: flags.db,
      port: flags.port,
      host: flags.host,
      workers: bus ? () => listWorkers(bus, { timeoutMs: 1000 }) : undefined,
    });
    process.stderr.write(`hpo: dashboard of ${flags.db} at ${dashboard.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  } finally {
    await dashboard?.close();
    await nc?.close();
  }
}

export function registerDashboard(program: Command): void {
  addNatsOptions(
    addDbOption(
      program
        .command('dashboard')
        .description('serve a live web page of the experiments in a database (and the workers, with --nats)')
        .option('--port <n>', `port (0: any free one)`, portValue, DEFAULT_DASHBOARD_PORT)
        .option(
          '--host <host>',
          'address to listen on (set it explicitly to expose beyond this machine)',
          '127.0.0.1',
        ),
    ),
  ).action((flags: DashboardFlags) => serve(flags));
}
