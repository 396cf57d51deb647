#!/usr/bin/env bash
# Run by `npm test` (pretest): makes sure the programs the integration tests start are installed:
# nats-server, prometheus (with promtool), docker-compose (only its `config` check runs; no engine) and
# chromium (headless, driven by playwright-core in the dashboard's browser test and bench), openssl (test
# certificates for the TLS tests) and script(1) from bsdutils (runs hpo on a pseudo-terminal).
# As root on Debian it installs what is missing with apt-get; anywhere else it says what to install.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
have nats-server || missing+=(nats-server)
{ have prometheus && have promtool; } || missing+=(prometheus)
have docker-compose || missing+=(docker-compose)
[ -x "${HPO_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
have openssl || missing+=(openssl)
have script || missing+=(bsdutils)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq >/dev/null
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    # The Debian packages may start system services; the tests start their own servers on free ports.
    exit 0
  fi
  echo "pretest: apt-get install ${missing[*]} failed" >&2
fi
echo "The integration tests need: ${missing[*]}." >&2
echo "Install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}; elsewhere https://nats.io," >&2
echo "https://prometheus.io/download/, https://docs.docker.com/compose/ and a Chromium build, named by" >&2
echo "HPO_CHROMIUM if it is not /usr/bin/chromium) and run npm test again." >&2
exit 1
