#!/bin/sh
# Prints one NATS user per worker machine, to paste into the `users` list of nats-server.conf (beside or
# instead of the shared `worker`). Each may do what `worker` may, but reads only its own inboxes
# (_INBOX.worker-<name>.>): the trials, with their delivery tokens, that another worker pulls never reach
# it. The worker logs in with HPO_NATS_USER=worker-<name> and HPO_NATS_PASS=<its password>; nats-server
# reads the password from HPO_NATS_WORKER_<NAME>_PASSWORD (upper case, `-` as `_`).
#
#   deploy/nats/worker-users.sh gpu1 gpu2 cpu1
set -eu
[ "$#" -gt 0 ] || { echo "usage: $0 NAME... (names of [A-Za-z0-9_-])" >&2; exit 2; }
for name in "$@"; do
  case "$name" in
    '' | *[!A-Za-z0-9_-]*) echo "$0: '$name': a name is 1-50 characters of [A-Za-z0-9_-]" >&2; exit 2 ;;
  esac
  [ "${#name}" -le 50 ] || { echo "$0: '$name': longer than 50 characters" >&2; exit 2; }
  var=$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')
  printf '    { user: worker-%s, password: $HPO_NATS_WORKER_%s_PASSWORD, permissions: { publish: $WORKER_PUBLISH, subscribe: { allow: ["hpo.cancel.>", "hpo.workers.ping", "_INBOX.worker-%s.>"] } } }\n' \
    "$name" "$var" "$name"
done
