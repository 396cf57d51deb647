/** The library's search(): the same composition as `hpo search`, without a terminal. */
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { UsageError } from '../../shared/errors.js';
import { collectRunInfo, SearchRunner } from '../../orchestrator/core/index.js';
import { createScheduler } from '../../orchestrator/schedulers/index.js';
import { createStrategy } from '../../orchestrator/strategies/index.js';
import { openStore } from '../../orchestrator/store/index.js';
import { InProcessTransport } from '../../orchestrator/transport/index.js';
import { loadDataset } from '../../worker/data/dataset.js';
import { InlineExecutor, TrialPool } from '../../worker/pool/index.js';
import type { TrialExecutor } from '../../shared/protocol/executor.js';
import { TASK_BRAND } from '../../worker/tasks/define-task.js';
import { expectedTotal } from '../commands/run-options.js';
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

export async function runSearch(options: SearchOptions): Promise<SearchResult> {
  const sweep = sweepText(options);
  const { file, baseDir } = sweep;
  let text = sweep.text;
  const inline = typeof options.task === 'object' && options.task !== null ? options.task : undefined;
  if (inline && (inline as unknown as Record<symbol, unknown>)[TASK_BRAND] !== true) {
    throw new UsageError('search(): task: expected a task made with defineTask, or a module path');
  }
  if (typeof options.task === 'string') {
    text = withTask(text, isAbsolute(options.task) ? options.task : resolve(options.task));
  } else if (inline) {
    text = withTask(text, inline.name);
  }
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
  let executor: TrialExecutor | undefined;
  try {
    if (await store.getExperiment(name)) throw new UsageError(`experiment '${name}' already exists in ${db}`);
    let data: { seed: number; sha256: string } | undefined;
    if (space.task === 'multi-digit-mnist' && !inline) {
      const ds = await loadDataset({ seed: space.data.seed, dataDir: options.dataDir });
      data = { seed: space.data.seed, sha256: ds.sha256 };
    }
    await store.createExperiment(name, space, text);
    executor = inline
      ? new InlineExecutor(inline, { slots: options.workers, dataDir: options.dataDir })
      : new TrialPool({ threads: options.workers, dataDir: options.dataDir, tasks });
    const transport = new InProcessTransport(executor);
    await store.recordRun(
      name,
      collectRunInfo({ backendChoice: 'auto', workers: `${executor.slots} local`, data }),
    );
    const outcome = await new SearchRunner({
      store,
      transport,
      strategy: createStrategy(space),
      scheduler: createScheduler(space),
      experiment: name,
      data,
      signal: options.signal,
      total: expectedTotal(space),
      onProgress: options.onProgress,
      observer: options.onTrial
        ? {
            onResult: (_event, record) => {
              if (record) options.onTrial!(record);
            },
          }
        : undefined,
    }).run();
    await transport.close();
    executor = undefined;
    return { ...outcome, leaderboard: await store.leaderboard(name, { top: options.top ?? 10 }), db };
  } finally {
    await executor?.close();
    await store.close();
  }
}
