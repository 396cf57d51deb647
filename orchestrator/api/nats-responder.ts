/** Answers status and leaderboard requests about one experiment on the bus (request/reply). */
import type { NatsConnection } from '@nats-io/transport-node';
import { busNames } from '../../shared/protocol/bus.js';
import { HpoError } from '../../shared/errors.js';
import { childLogger, RateLimitedLog } from '../../shared/log/index.js';
import { isInboxReply, replyRefusal } from '../../shared/nats/inbox.js';
import { decodeJson, encodeMessage } from '../../shared/protocol/validate.js';
import type { StoreReader } from '../store/types.js';
import { answerQuery, parseQuery } from './query.js';

export interface QueryResponderOptions {
  prefix?: string;
}

export interface QueryAnswerOptions extends QueryResponderOptions {
  /**
   * A request refused (its reply subject is not an inbox), for counting; it is also logged, rate-limited.
   */
  onInvalid?: (reason: string) => void;
}

/**
 * Subscribes; returns a function that unsubscribes. Answers only on a reply subject of inbox form: the
 * answer goes out with this connection's rights, so a reply subject such as `$JS.API.STREAM.PURGE...`
 * would be a purge by the orchestrator.
 */
export function startQueryResponder(
  nc: NatsConnection,
  store: StoreReader,
  experiment: string,
  options: QueryAnswerOptions = {},
): () => void {
  const names = busNames(options.prefix);
  const log = new RateLimitedLog(childLogger({ component: 'query-responder' }));
  const sub = nc.subscribe(names.querySubject(experiment), {
    callback: (err, msg) => {
      if (err) return;
      if (!isInboxReply(msg.reply)) {
        const reason = `status question on ${msg.subject}: ${replyRefusal(msg.reply)}`;
        log.report(`rejected invalid message: ${reason}`);
        options.onInvalid?.(reason);
        return;
      }
      const decoded = decodeJson(msg.data);
      const query = decoded.ok ? parseQuery(decoded.value) : null;
      const answer = query
        ? answerQuery(store, experiment, query).then((a) => a ?? { error: `no experiment '${experiment}'` })
        : Promise.resolve({ error: 'expected {"kind":"status"} or {"kind":"leaderboard","top":N}' });
      answer.then(
        (a) => msg.respond(encodeMessage(a)),
        (e: unknown) => {
          log.report(`could not answer a status question: ${e instanceof Error ? e.message : String(e)}`);
          msg.respond(encodeMessage({ error: 'the orchestrator could not read its store' }));
        },
      );
    },
  });
  return () => sub.unsubscribe();
}

/** Asks the orchestrator running `experiment`; rejects with a clear message when none answers. */
export async function queryOrchestrator(
  nc: NatsConnection,
  experiment: string,
  query: object,
  options: QueryResponderOptions & { timeoutMs?: number } = {},
): Promise<unknown> {
  const names = busNames(options.prefix);
  let reply;
  try {
    reply = await nc.request(names.querySubject(experiment), encodeMessage(query), {
      timeout: options.timeoutMs ?? 3000,
    });
  } catch (err) {
    throw new HpoError(
      `no orchestrator answered for experiment '${experiment}' on the bus (is 'hpo search' or 'hpo resume' running it?)`,
      { cause: err },
    );
  }
  const decoded = decodeJson(reply.data);
  if (!decoded.ok) throw new HpoError(`the orchestrator sent an unreadable answer: ${decoded.error}`);
  return decoded.value;
}
