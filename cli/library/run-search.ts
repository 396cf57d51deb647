/** The library's search(): the same composition as `hpo search`, without a terminal. */
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { UsageError } from '../../shared/errors.js';
import { openStore } from '../../orchestrator/store/index.js';
import { InProcessTransport } from '../../orchestrator/transport/index.js';
import { InlineExecutor, TrialPool } from '../../worker/pool/index.js';
import type { TrialExecutor } from '../../shared/protocol/executor.js';
import { TASK_BRAND } from '../../worker/tasks/define-task.js';
import type { Task } from '../../worker/tasks/task.js';
import type { TaskOffers } from '../../worker/tasks/task-offers.js';
import { composeRun, type RunSite } from '../compose-run.js';
import { offersForSpace, parseSweepWithTasks, readSweepText, requireRunnable } from '../user-tasks.js';
import type { SearchOptions, SearchResult } from './search-options.js';

function sweepText(options: SearchOptions): { text: string; file: string; baseDir: string } {
  if (options.file !== undefined && options.space !== undefined) {
    throw new UsageError('search(): give file or space, not both');
  }
  if (options.file !== undefined) {
    const file = resolve(options.file);
    return { text: readSweepText(file), file: options.file, baseDir: resolve(file, '..') };
  }
  if (options.space === undefined) throw new UsageError('search(): give file or space');
  const text = typeof options.space === 'string' ? options.space : JSON.stringify(options.space);
  return { text, file: '<space>', baseDir: process.cwd() };
}

/** The sweep text with its `task` replaced. */
function withTask(text: string, task: string): string {
  const data: unknown = parseYaml(text);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return text; // the parser reports it
  return stringify({ ...(data as Record<string, unknown>), task });
}

/** The sweep text with options.task applied, and the inline task (made with defineTask) if one is given. */
function sweepWithTask(options: SearchOptions): ReturnType<typeof sweepText> & { inline?: Task } {
  const sweep = sweepText(options);
  const inline = typeof options.task === 'object' && options.task !== null ? options.task : undefined;
  if (inline && (inline as unknown as Record<symbol, unknown>)[TASK_BRAND] !== true) {
    throw new UsageError('search(): task: expected a task made with defineTask, or a module path');
  }
  if (typeof options.task === 'string') {
    return {
      ...sweep,
      text: withTask(sweep.text, isAbsolute(options.task) ? options.task : resolve(options.task)),
    };
  }
  return inline ? { ...sweep, text: withTask(sweep.text, inline.name), inline } : sweep;
}

export async function runSearch(options: SearchOptions): Promise<SearchResult> {
  const { text, file, baseDir, inline } = sweepWithTask(options);
  const analysed = await parseSweepWithTasks(text, file, {
    baseDir,
    ...(inline ? { tasks: { [inline.name]: inline.params } } : {}),
  });
  const { space } = analysed;
  requireRunnable(file, analysed, { bus: false });
  const tasks = offersForSpace(space);
  const db = options.db ?? ':memory:';
  const name = options.name ?? `search-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
  const store = openStore(db);
  try {
    if (await store.getExperiment(name)) throw new UsageError(`experiment '${name}' already exists in ${db}`);
    const { outcome } = await composeRun({
      store,
      experiment: name,
      space,
      dataDir: options.dataDir,
      ownData: inline !== undefined,
      backendChoice: 'auto',
      signal: options.signal,
      open: async () => {
        // The experiment is created once the data set is ready (a data set that fails leaves none behind).
        await store.createExperiment(name, space, text);
        return localSite(options, inline, tasks);
      },
    });
    return { ...outcome, leaderboard: await store.leaderboard(name, { top: options.top ?? 10 }), db };
  } finally {
    await store.close();
  }
}

/** The trials run in this process: a thread pool, or the caller's inline task; no terminal, no servers. */
function localSite(options: SearchOptions, inline: Task | undefined, tasks: TaskOffers): RunSite {
  const executor: TrialExecutor = inline
    ? new InlineExecutor(inline, { slots: options.workers, dataDir: options.dataDir })
    : new TrialPool({ threads: options.workers, dataDir: options.dataDir, tasks });
  const transport = new InProcessTransport(executor);
  return {
    transport,
    where: `${executor.slots} local`,
    onProgress: options.onProgress,
    observer: options.onTrial
      ? {
          onResult: (_event, record) => {
            if (record) options.onTrial!(record);
          },
        }
      : undefined,
    // After a search the transport closes (and its executor); after a failure the executor alone.
    close: (outcome) => (outcome ? transport.close() : executor.close()),
  };
}
