/**
 * The dashboard's JSON API (all GET, all bounded in size):
 *   /api/experiments                         every experiment with trials per state
 *   /api/experiments/:name                   summary: counts, stopped-at rungs, errors, best, parameters
 *   /api/experiments/:name/trials            a page: ?state=&sort=value|index|…|param:NAME&order=asc|desc&offset=&limit=
 *   /api/experiments/:name/trials/:id        one trial with its epochs
 *   /api/experiments/:name/curves?trials=a,b&metric=m   learning curves of chosen trials
 *   /api/experiments/:name/history           best so far, in the order trials finished
 *   /api/experiments/:name/parallel          the best trials for parallel coordinates
 *   /api/experiments/:name/importance        parameter importance (method named in the answer)
 *   /api/experiments/:name/seed-table        the seed report's table (MNIST task only; 404 otherwise)
 *   /api/workers                             workers on the bus (with --nats; available: false without)
 *   /api/events                              server-sent events: `change` when the database changed
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { WorkerHeartbeat } from '../shared/protocol/bus.js';
import { trialRung, type SearchSpace } from '../orchestrator/search-space/index.js';
import {
  TRIAL_STATES,
  trialSortProblem,
  type ExperimentRecord,
  type StoreReader,
  type TrialPageQuery,
  type TrialState,
} from '../orchestrator/store/index.js';
import type { ChangeFeed } from './change-feed.js';
import { MIN_TRIALS_FOR_IMPORTANCE, parameterImportance, type ImportanceAnswer } from './importance.js';
import { atEqualBudget } from './equal-budget.js';
import {
  bestSoFar,
  experimentList,
  experimentSummary,
  learningCurves,
  parallelRows,
  seedTable,
  trialDetail,
} from './views.js';

export const MAX_PAGE = 500;
/** Importance is recomputed at most this often while the data keeps changing. */
export const IMPORTANCE_REFRESH_MS = 5000;

export interface RouteOptions {
  reader: StoreReader;
  feed: ChangeFeed;
  /** Lists the workers on the bus (given with --nats). */
  workers?: () => Promise<WorkerHeartbeat[]>;
  /** Open event streams, ended when the server closes. */
  streams: Set<() => void>;
}

type Params = { name: string; id?: string };
type Query = Record<string, string | undefined>;

function bad(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: message });
}

function notFound(reply: FastifyReply, what: string) {
  return reply.code(404).send({ error: `no ${what}` });
}

function intParam(v: string | undefined, name: string, dflt: number, max: number): number | string {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    return `${name}: expected an integer from 0 to ${max}, got '${v}'`;
  return n;
}

/** Every route of the JSON API, in the order of the list at the top of this file. */
export function registerRoutes(app: FastifyInstance, options: RouteOptions): void {
  const { reader } = options;
  registerExperimentRoutes(app, reader);
  registerTrialRoutes(app, reader);
  registerChartRoutes(app, reader);
  registerWorkersRoute(app, options.workers);
  registerEventsRoute(app, options.feed, options.streams);
}

/** The experiment list and one experiment's summary. */
function registerExperimentRoutes(app: FastifyInstance, reader: StoreReader): void {
  app.get('/api/experiments', async () => ({ experiments: await experimentList(reader) }));

  app.get<{ Params: Params }>('/api/experiments/:name', async (req, reply) => {
    return (
      (await experimentSummary(reader, req.params.name)) ?? notFound(reply, `experiment '${req.params.name}'`)
    );
  });
}

/** A page of trials, one trial with its epochs, and the learning curves of chosen trials. */
function registerTrialRoutes(app: FastifyInstance, reader: StoreReader): void {
  app.get<{ Params: Params; Querystring: Query }>('/api/experiments/:name/trials', async (req, reply) => {
    const exp = await reader.getExperiment(req.params.name);
    if (!exp) return notFound(reply, `experiment '${req.params.name}'`);
    const query = trialPageQuery(req.query, exp.space);
    if (typeof query === 'string') return bad(reply, query);
    const page = await reader.trialPage(req.params.name, query);
    const rows = page.rows.map((t) => ({ ...t, rung: trialRung(exp.space, t) }));
    const { offset, limit, sort, descending } = query;
    return { total: page.total, rows, offset, limit, sort, order: descending ? 'desc' : 'asc' };
  });

  app.get<{ Params: Params }>('/api/experiments/:name/trials/:id', async (req, reply) => {
    return (
      (await trialDetail(reader, req.params.name, req.params.id!)) ??
      notFound(reply, `trial '${req.params.id}' in experiment '${req.params.name}'`)
    );
  });

  app.get<{ Params: Params; Querystring: Query }>('/api/experiments/:name/curves', async (req, reply) => {
    const ids = (req.query.trials ?? '').split(',').filter((s) => s !== '');
    const metric = req.query.metric || undefined;
    return (
      (await learningCurves(reader, req.params.name, ids, metric)) ??
      notFound(reply, `experiment '${req.params.name}'`)
    );
  });
}

/** A trial page's query string checked (in this order): the reader's query, or what is wrong with it. */
function trialPageQuery(q: Query, space: SearchSpace): TrialPageQuery | string {
  const state = q.state || undefined;
  if (state !== undefined && !TRIAL_STATES.includes(state as TrialState)) {
    return `state: expected one of ${TRIAL_STATES.join(', ')}, got '${state}'`;
  }
  const offset = intParam(q.offset, 'offset', 0, 1_000_000_000);
  const limit = intParam(q.limit, 'limit', 50, MAX_PAGE);
  if (typeof offset === 'string') return offset;
  if (typeof limit === 'string') return limit;
  if (q.order !== undefined && q.order !== 'asc' && q.order !== 'desc') {
    return `order: expected asc or desc, got '${q.order}'`;
  }
  const sort = q.sort ?? 'value';
  const sortProblem = trialSortProblem(sort, space);
  if (sortProblem) return sortProblem;
  // The objective sorts best first unless told otherwise.
  const descending = q.order ? q.order === 'desc' : sort === 'value' && space.metric.goal === 'maximize';
  return { state: state as TrialState | undefined, sort, descending, offset, limit };
}

/** Best so far, parallel coordinates, parameter importance and the seed report's table. */
function registerChartRoutes(app: FastifyInstance, reader: StoreReader): void {
  const importance: ImportanceCache = new Map();

  app.get<{ Params: Params }>('/api/experiments/:name/history', async (req, reply) => {
    return (await bestSoFar(reader, req.params.name)) ?? notFound(reply, `experiment '${req.params.name}'`);
  });

  app.get<{ Params: Params }>('/api/experiments/:name/parallel', async (req, reply) => {
    return (
      (await parallelRows(reader, req.params.name)) ?? notFound(reply, `experiment '${req.params.name}'`)
    );
  });

  app.get<{ Params: Params }>('/api/experiments/:name/importance', async (req, reply) => {
    const exp = await reader.getExperiment(req.params.name);
    if (!exp) return notFound(reply, `experiment '${req.params.name}'`);
    return importanceOf(reader, importance, req.params.name, exp);
  });

  app.get<{ Params: Params }>('/api/experiments/:name/seed-table', async (req, reply) => {
    const rows = await seedTable(reader, req.params.name);
    return rows
      ? { rows }
      : notFound(reply, `seed table: experiment '${req.params.name}' is not of the MNIST task`);
  });
}

/** Importance answers by experiment, with the database version and time they were computed at. */
type ImportanceCache = Map<string, { version: number; at: number; answer: ImportanceAnswer }>;

/**
 * An experiment's parameter importance, from the cache while the data is unchanged or the answer is
 * younger than IMPORTANCE_REFRESH_MS; trials compared at an equal budget.
 */
async function importanceOf(
  reader: StoreReader,
  cache: ImportanceCache,
  name: string,
  exp: ExperimentRecord,
): Promise<ImportanceAnswer & { computed_at: number }> {
  const cached = cache.get(name);
  const now = Date.now();
  const version = await reader.version();
  if (cached && (cached.version === version || now - cached.at < IMPORTANCE_REFRESH_MS)) {
    return { ...cached.answer, computed_at: cached.at };
  }
  const metric = exp.space.metric.name;
  const budget = await atEqualBudget(
    await reader.finishedParams(name),
    MIN_TRIALS_FOR_IMPORTANCE,
    metric,
    (epoch) => reader.metricAtEpoch(name, epoch, metric),
  );
  const answer = parameterImportance(exp.space, budget.trials);
  if (budget.note) answer.note = answer.note ? `${answer.note}; ${budget.note}` : budget.note;
  cache.set(name, { version, at: now, answer });
  return { ...answer, computed_at: now };
}

/** The workers on the bus: listed on the first ask, then again in the background when 3 s old. */
function registerWorkersRoute(app: FastifyInstance, list?: () => Promise<WorkerHeartbeat[]>): void {
  let workers: { at: number; list: WorkerHeartbeat[]; refreshing?: Promise<void> } | undefined;
  app.get('/api/workers', async () => {
    // Not an error without a bus: the page just has no workers panel.
    if (!list) return { available: false, workers: [], at: null };
    const refresh = () =>
      list().then(
        (found) => {
          workers = { at: Date.now(), list: found };
        },
        () => {
          if (workers) workers.refreshing = undefined;
        },
      );
    if (!workers) await refresh();
    else if (Date.now() - workers.at > 3000 && !workers.refreshing) workers.refreshing = refresh();
    return { available: true, workers: workers?.list ?? [], at: workers?.at ?? null };
  });
}

/** Server-sent events: `hello` with the feed's state, then `change` per change; ended with the server. */
function registerEventsRoute(app: FastifyInstance, feed: ChangeFeed, streams: Set<() => void>): void {
  app.get('/api/events', async (req, reply) => {
    const hello = await feed.current();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('hello', hello);
    const unsubscribe = feed.subscribe((e) => send('change', e));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const end = () => {
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    req.raw.on('close', end);
  });
}
