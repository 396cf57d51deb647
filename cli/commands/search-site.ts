/**
 * What `hpo search` and `hpo resume` open around a run (the RunSite of cli/compose-run.ts): /metrics, the
 * JSON API, the web dashboard, the transport (local pool or NATS), the progress display and the Ctrl-C
 * handling; and how they close again.
 */
import { ModelKeeper } from '../../orchestrator/artifacts/index.js';
import { type ApiServer, startApiServer } from '../../orchestrator/api/index.js';
import type { SearchOutcome } from '../../orchestrator/core/index.js';
import { startDashboard, type Dashboard } from '../../viewer/index.js';
import { OrchestratorMetrics } from '../../orchestrator/metrics/index.js';
import { type ExperimentRecord, LEASE_STALE_MS, type Store } from '../../orchestrator/store/index.js';
import type { TaskOffers } from '../../worker/tasks/task-offers.js';
import type { RunSite } from '../compose-run.js';
import { announceMetrics, openMetrics, type OpenedMetrics } from '../options/metrics-options.js';
import type { HeldLease } from '../owner.js';
import { createProgressDisplay } from '../progress-display.js';
import { orchestratorReadiness } from '../readiness-checks.js';
import { untilSignalOr } from './linger.js';
import { type RunFlags, modelsRoot } from './run-options.js';
import { type OpenedTransport, openTransport } from './run-transport.js';

export interface SearchSiteOptions {
  store: Store;
  exp: ExperimentRecord;
  flags: RunFlags;
  lease: HeldLease;
  /** The tasks the local pool offers (from the space). */
  tasks: TaskOffers;
  /** Aborted at the first Ctrl-C / SIGTERM: running trials are cancelled, the experiment stays resumable. */
  controller: AbortController;
}

/** The site, with what lingers after the search (closed by lingerThenClose and lingerDashboard). */
export interface SearchSite extends RunSite {
  metrics?: OpenedMetrics;
  observer?: OrchestratorMetrics;
  ui?: Dashboard;
  /** The dashboard's page of this experiment ('' without --ui-port). */
  pageUrl: string;
}

interface Servers {
  metrics?: OpenedMetrics;
  api?: ApiServer;
  ui?: Dashboard;
  opened: OpenedTransport;
}

/** The servers first: a port in use fails here, before any connection or thread pool is open. */
async function openServers(o: SearchSiteOptions): Promise<Servers> {
  const { store, flags } = o;
  const name = o.exp.name;
  const metrics = await openMetrics(flags);
  let api: ApiServer | undefined;
  let ui: Dashboard | undefined;
  try {
    api =
      flags.httpPort === undefined
        ? undefined
        : await startApiServer({ store, experiment: name, port: flags.httpPort, host: flags.httpHost });
    ui =
      flags.uiPort === undefined
        ? undefined
        : await startDashboard({ db: flags.db, port: flags.uiPort, host: flags.httpHost });
    const opened = await openTransport(store, name, flags, metrics, o.tasks, o.lease.claim);
    return { metrics, api, ui, opened };
  } catch (err) {
    await ui?.close();
    await api?.close();
    await metrics?.server.close();
    throw err;
  }
}

/** The orchestrator's metrics when /metrics is served, and what its /readyz checks (lease, bus). */
function watchMetrics(o: SearchSiteOptions, servers: Servers): OrchestratorMetrics | undefined {
  const { metrics, opened } = servers;
  const observer = metrics
    ? new OrchestratorMetrics({
        registry: metrics.registry,
        store: o.store,
        top: o.flags.metricsTop,
        retentionSeconds: o.flags.metricsRetention,
        transports: [opened.transport.name],
        invalidMessages: opened.invalidMessages,
      })
    : undefined;
  metrics?.server.setReadiness(
    orchestratorReadiness({
      lease: o.lease,
      bus: opened.bus,
      staleMs: o.flags.ownerTimeout ?? LEASE_STALE_MS,
    }),
  );
  announceMetrics(metrics);
  return observer;
}

/** The first Ctrl-C (or SIGTERM) cancels running trials; the second quits at once. */
function interruptHandler(controller: AbortController): () => void {
  let interrupts = 0;
  return () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nhpo: stopping: cancelling running trials (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
}

function printStartLines(o: SearchSiteOptions, servers: Servers, pageUrl: string): void {
  const { exp, flags } = o;
  const { api, ui } = servers;
  process.stderr.write(
    `hpo: experiment '${exp.name}': ${exp.space.method} search, task ${exp.space.task}, ${servers.opened.where}, db ${flags.db}${api ? `, api ${api.url}/api/status` : ''}\n`,
  );
  if (ui) process.stderr.write(`hpo: dashboard at ${pageUrl}\n`);
  else process.stderr.write(`hpo: watch it live: hpo dashboard --db ${flags.db}\n`);
}

/** Closes what the search needed; after a failure also what would have lingered (the dashboard, /metrics). */
async function closeServers(
  servers: Servers,
  outcome: SearchOutcome | undefined,
  observer: OrchestratorMetrics | undefined,
): Promise<void> {
  const { api, ui, metrics, opened } = servers;
  opened.stopResponder();
  await api?.close();
  await opened.releaseLease?.().catch(() => undefined);
  await opened.remoteModels?.close?.();
  await opened.transport.close();
  if (!outcome) await ui?.close();
  if (metrics && !outcome) await lingerThenClose(metrics, 0, observer);
}

export async function openSearchSite(o: SearchSiteOptions): Promise<SearchSite> {
  const { exp, flags } = o;
  const servers = await openServers(o);
  const { metrics, ui, opened } = servers;
  const observer = watchMetrics(o, servers);
  const display = createProgressDisplay(exp.space.metric.name);
  const onSignal = interruptHandler(o.controller);
  const pageUrl = ui ? `${ui.url}#exp=${encodeURIComponent(exp.name)}` : '';
  return {
    transport: opened.transport,
    where: opened.where,
    onProgress: (p) => display.update(p),
    observer,
    models: new ModelKeeper({
      store: o.store,
      experiment: exp.name,
      experimentId: exp.bus_id,
      policy: flags.saveModels,
      root: modelsRoot(flags),
      remote: opened.remoteModels,
    }),
    metrics,
    ui,
    pageUrl,
    starting: () => {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      printStartLines(o, servers, pageUrl);
    },
    close: async (outcome) => {
      display.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await closeServers(servers, outcome, observer);
    },
  };
}

/** Serves /metrics `seconds` longer (a signal cuts it short) so Prometheus scrapes the final values. */
export async function lingerThenClose(
  metrics: OpenedMetrics,
  seconds: number,
  observer: OrchestratorMetrics | undefined,
): Promise<void> {
  if (seconds > 0) {
    process.stderr.write(`hpo: serving ${metrics.server.url} for ${seconds} s more (--metrics-linger)\n`);
    await untilSignalOr(seconds);
  }
  observer?.close();
  await metrics.server.close();
}
