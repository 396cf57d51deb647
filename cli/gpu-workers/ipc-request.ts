/**
 * One question from the supervisor to a GPU worker process over the IPC channel, matched to its answer
 * by id: the metrics at scrape time (ipc-metrics.ts), the readiness at probe time (ipc-readiness.ts).
 */
import type { ChildProcess } from 'node:child_process';

let nextId = 1;

export interface IpcQuestion<T> {
  /** Message type of the question, and of the answer. */
  request: string;
  reply: string;
  /** The answer's payload from its message, or undefined when malformed. */
  read(message: Record<string, unknown>): T | undefined;
  timeoutMs: number;
}

/** Asks `child`; undefined when it has no channel or does not answer in time. */
export function askChild<T>(child: ChildProcess, q: IpcQuestion<T>): Promise<T | undefined> {
  if (!child.connected) return Promise.resolve(undefined);
  const id = nextId++;
  return new Promise((resolve) => {
    const done = (value: T | undefined) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(value);
    };
    const onMessage = (msg: unknown) => {
      const m = msg as Record<string, unknown> | null;
      if (m?.type !== q.reply || m.id !== id) return;
      const value = q.read(m);
      if (value !== undefined) done(value);
    };
    const timer = setTimeout(() => done(undefined), q.timeoutMs);
    child.on('message', onMessage);
    try {
      child.send({ type: q.request, id });
    } catch {
      done(undefined);
    }
  });
}

/** In a GPU worker process: answers the supervisor's `request` questions with `answer()` as `key`. */
export function answerOverIpc(
  request: string,
  reply: string,
  key: string,
  answer: () => Promise<unknown>,
): void {
  process.on('message', (msg: unknown) => {
    const m = msg as { type?: unknown; id?: unknown } | null;
    if (m?.type !== request || typeof m.id !== 'number') return;
    const id = m.id;
    answer().then(
      (value) => process.send?.({ type: reply, id, [key]: value }),
      () => undefined, // no answer: the supervisor's question times out
    );
  });
}
