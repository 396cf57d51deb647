/**
 * Reply subjects (inboxes). Every client makes its requests from an inbox under a prefix of its own user,
 * `_INBOX.<user>` (nats.js `inboxPrefix`), so a server can let each user read its own inboxes and no
 * other's (deploy/nats/nats-server.conf). A responder answers only on a subject of inbox form: a reply
 * subject names where the answer is published, with the responder's rights, and must never be a stream's
 * subject (`hpo.trials.<id>`), a JetStream API call (`$JS.API.STREAM.PURGE...`) or a KV key
 * (`$KV.hpo_owners...`). See docs/RELIABILITY.md "Threat model".
 */

/** The inbox prefix of clients without a user (token, .creds or no authentication): nats.js's default. */
export const DEFAULT_INBOX_PREFIX = '_INBOX';

/** `_INBOX.<user>`: one subject token made of the user name ([A-Za-z0-9_-], anything else as `_`). */
export function inboxPrefixFor(user: string | undefined): string {
  if (user === undefined || user === '') return DEFAULT_INBOX_PREFIX;
  return `${DEFAULT_INBOX_PREFIX}.${user.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64)}`;
}

/**
 * `_INBOX` followed by 1 to 4 tokens of [A-Za-z0-9_-] (a nats.js request: `_INBOX[.<user>].<nuid>.<n>`;
 * other clients' `_INBOX.<nuid>[.<n>]`), 200 characters at most.
 */
const INBOX = /^_INBOX(\.[A-Za-z0-9_-]{1,64}){1,4}$/;

/** True if `reply` is a subject of inbox form (and so may be answered). */
export function isInboxReply(reply: string | undefined): reply is string {
  return reply !== undefined && reply.length <= 200 && INBOX.test(reply);
}

/** Why a request with this reply subject is not answered (for the rejected-message log). */
export function replyRefusal(reply: string | undefined): string {
  if (!reply) return 'no reply subject';
  const shown = reply.length > 80 ? `${reply.slice(0, 80)}...` : reply;
  return `reply subject '${shown}' is not an inbox (_INBOX.<token>...): not answered`;
}
