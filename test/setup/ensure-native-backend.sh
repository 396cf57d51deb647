#!/usr/bin/env bash
# Run by `npm test` after the build: gives the tests backend `tensorflow` (tfjs-node with its binding built
# from TensorFlow's pip wheel by `hpo setup tensorflow`, docs/NATIVE-BACKEND.md). Nothing happens when a
# working binding is installed (a 3 s check); `npm ci` removes it, so CI builds it each run (about a
# minute). Where no wheel, pip or compiler can be had, the setup says so and the tests on backend
# tensorflow skip, each saying why. HPO_TEST_NATIVE=0 skips this step; any other failure fails npm test.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${HPO_TEST_NATIVE:-1}" = 0 ]; then
  echo "test setup: HPO_TEST_NATIVE=0: not building backend tensorflow (its tests will skip)" >&2
  exit 0
fi
node bin/hpo.js setup tensorflow --if-available
