#!/usr/bin/env bash
# Run by `npm test` (pretest): makes sure the servers the integration tests start are installed.
# As root on Debian it installs what is missing with apt-get; anywhere else it says what to install.
set -euo pipefail

missing=()
{ command -v nats-server || [ -x /usr/sbin/nats-server ]; } >/dev/null 2>&1 || missing+=(nats-server)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq >/dev/null
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    # The Debian package starts no server we need; the tests start their own on free ports.
    exit 0
  fi
  echo "pretest: apt-get install ${missing[*]} failed" >&2
fi
echo "The integration tests need: ${missing[*]}." >&2
echo "Install it (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}; elsewhere see https://nats.io) and run npm test again." >&2
exit 1
