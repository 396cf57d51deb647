/**
 * The pull loop: pull requests for the executor's free slots, on the consumers of the tasks this worker
 * offers (one per task route). The messages requested by all open pulls together never exceed the free
 * slots, so a worker is never handed more trials than it can start.
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { consumerSettings, ensureWorkersConsumer, errorText } from '../../shared/nats/connection.js';
import { type WorkerState, sleep } from './worker-state.js';

/** Lifetime of a pull that asks a quiet route (or one of several idle routes) for a trial. */
const PROBE_EXPIRES_MS = 1000;
/** How often a route whose consumer does not exist yet is looked up again. */
const ATTACH_EVERY_MS = 2000;

/** One task route this worker pulls from. */
interface Source {
  route: string;
  consumer?: Consumer;
  /** The last pull on it that ended received a trial: free slots go here first. */
  hot: boolean;
  /** Messages requested by its open pulls. */
  outstanding: number;
  /** When a pull on it last started (epoch ms). */
  lastPull: number;
}

interface Pull {
  source: Source;
  max: number;
  expires: number;
}

export class TrialPuller {
  private readonly sources: Source[];
  /** Messages requested by open pull requests and not yet received. */
  private outstanding = 0;
  private fetchLoops = 0;
  private readonly fetches = new Set<ConsumerMessages>();
  private attachTimer?: NodeJS.Timeout;
  private attaching = false;
  private readonly restTimers = new Map<string, NodeJS.Timeout>();
  private waitingSaid = false;

  /**
   * @param take registers and runs a received message (called synchronously on receipt).
   * @param onLoopEnd called after a pull request ends (e.g. to check whether the worker is idle).
   */
  constructor(
    private readonly state: WorkerState,
    private readonly take: (msg: JsMsg) => void,
    private readonly onLoopEnd: () => void,
  ) {
    this.sources = state.routes.map((route) => ({ route, hot: false, outstanding: 0, lastPull: 0 }));
  }

  /**
   * Starts pulling from the routes whose consumers exist (creating them where this worker's NATS user
   * may); the others are looked up again every 2 s (the orchestrator creates a task's consumer when it
   * queues the task's first trial).
   */
  async start(): Promise<void> {
    await this.attachMissing(true);
    this.attachTimer = setInterval(() => void this.attachMissing(), ATTACH_EVERY_MS);
    this.attachTimer.unref();
    this.pump();
  }

  /** Pull requests still open. */
  active(): number {
    return this.fetchLoops;
  }

  /** Ends the open pull requests (draining). */
  async close(): Promise<void> {
    clearInterval(this.attachTimer);
    for (const t of this.restTimers.values()) clearTimeout(t);
    for (const fetch of this.fetches) await fetch.close().catch(() => undefined);
  }

  /** Opens pull requests for every free slot not already covered by one. */
  pump(): void {
    const { state } = this;
    if (state.stopping) return;
    const free = state.executor.slots - state.held.size - this.outstanding;
    if (free <= 0) return;
    for (const pull of this.plan(free)) this.open(pull);
  }

  /**
   * Where `free` slots' pulls go (routes resting after a refusal left out). One route: one pull for all
   * of them. Several: first a 1-trial probe
   * of each quiet route not asked for `probeEveryMs`; then the routes that last delivered (hot) share
   * the rest; with none hot, the routes take turns (longest unasked first) with 1 s pulls, so every
   * route is asked within a few seconds and slots do not stay parked on quiet routes.
   */
  private plan(free: number): Pull[] {
    const ready = this.sources.filter((s) => s.consumer !== undefined && !this.resting(s));
    const long = this.state.options.fetchExpiresMs ?? 10_000;
    if (ready.length <= 1) return ready.map((source) => ({ source, max: free, expires: long }));
    const pulls: Pull[] = [];
    const now = Date.now();
    const probeEvery = this.state.options.probeEveryMs ?? 10_000;
    const hot = ready.filter((s) => s.hot);
    const quiet = ready.filter((s) => !s.hot && s.outstanding === 0).sort((a, b) => a.lastPull - b.lastPull);
    if (hot.length > 0) {
      for (const source of quiet) {
        if (free === 0 || now - source.lastPull < probeEvery) break;
        pulls.push({ source, max: 1, expires: PROBE_EXPIRES_MS });
        free--;
      }
      hot.sort((a, b) => a.lastPull - b.lastPull);
      const share = Math.ceil(free / hot.length);
      for (const source of hot) {
        if (free === 0) break;
        const max = Math.min(share, free);
        pulls.push({ source, max, expires: long });
        free -= max;
      }
      return pulls;
    }
    // Short pulls: once a route delivers, the slots waiting on the quiet ones come back to it within 1 s.
    const expires = PROBE_EXPIRES_MS;
    const share = Math.max(1, Math.floor(free / Math.max(1, quiet.length)));
    for (const source of quiet) {
      if (free === 0) break;
      const max = Math.min(share, free);
      pulls.push({ source, max, expires });
      free -= max;
    }
    return pulls;
  }

  /** Whether the worker stays off the route for now (a refusal); pumps again when the rest ends. */
  private resting(source: Source): boolean {
    const until = this.state.resting.get(source.route);
    if (until === undefined) return false;
    const left = until - Date.now();
    if (left <= 0) {
      this.state.resting.delete(source.route);
      return false;
    }
    if (!this.restTimers.has(source.route)) {
      const timer = setTimeout(() => {
        this.restTimers.delete(source.route);
        this.pump();
      }, left);
      timer.unref();
      this.restTimers.set(source.route, timer);
    }
    return true;
  }

  private open({ source, max, expires }: Pull): void {
    this.outstanding += max;
    source.outstanding += max;
    source.lastPull = Date.now();
    this.fetchLoops++;
    void this.fetchBatch(source, max, expires).finally(() => {
      this.fetchLoops--;
      this.pump();
      this.onLoopEnd();
    });
  }

  private async fetchBatch(source: Source, max: number, expires: number): Promise<void> {
    const { state } = this;
    let received = 0;
    let failed = false;
    try {
      const batch = await source.consumer!.fetch({ max_messages: max, expires });
      this.fetches.add(batch);
      if (state.stopping) await batch.close().catch(() => undefined);
      try {
        for await (const msg of batch) {
          received++;
          this.outstanding--;
          source.outstanding--;
          if (state.stopping) msg.nak();
          else this.take(msg);
        }
      } finally {
        this.fetches.delete(batch);
      }
    } catch (err) {
      failed = true;
      if (!state.stopping) {
        state.counters.busErrors++;
        state.log.report(`pulling trials failed: ${errorText(err)}`);
      }
    }
    this.outstanding -= max - received;
    source.outstanding -= max - received;
    source.hot = received > 0;
    if (failed && !state.stopping) {
      await sleep(1000);
      // The consumer may have been deleted (or the server lost its state): look it up again.
      if (state.jsm && !state.stopping && !(await this.attach(source, true))) source.consumer = undefined;
    }
  }

  /**
   * Looks up the consumers of the routes not attached yet; with `create`, creates missing ones where this
   * worker's NATS user may (tried once at start: a refused create is a permissions violation in the
   * server's log, so the periodic look-up only reads).
   */
  private async attachMissing(create = false): Promise<void> {
    if (this.attaching) return;
    this.attaching = true;
    let attached = false;
    try {
      for (const source of this.sources.filter((s) => s.consumer === undefined))
        attached = (await this.attach(source, create)) || attached;
    } finally {
      this.attaching = false;
    }
    const waiting = this.sources.filter((s) => s.consumer === undefined).length;
    if (waiting > 0 && !this.waitingSaid && !this.state.stopping) {
      this.waitingSaid = true;
      this.state.logger.debug(
        { waiting, routes: this.sources.length },
        'task routes without a consumer yet: pulling from them once an orchestrator queues their trials',
      );
    }
    if (attached) this.pump();
  }

  private async attach(source: Source, create: boolean): Promise<boolean> {
    const { state } = this;
    const { jsm, names } = state;
    if (!jsm || state.stopping) return false;
    try {
      state.settings = create
        ? await ensureWorkersConsumer(jsm, names, source.route, state.settings, false)
        : consumerSettings(await jsm.consumers.info(names.trialsStream, names.workersConsumer(source.route)));
      source.consumer = await state.js.consumers.get(
        state.names.trialsStream,
        state.names.workersConsumer(source.route),
      );
      return true;
    } catch {
      return false;
    }
  }
}
