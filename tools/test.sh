#!/usr/bin/env bash
# Every test: unit tests, simulator scenarios (virtual time), the multi-process
# ZeroMQ cluster test, and a short determinism sweep.
set -uo pipefail
cd "$(dirname "$0")/.."
bazel test //... --keep_going
status=$?
if [ -x tools/determinism_check.sh ]; then
  bash tools/determinism_check.sh || status=1
fi
bash tools/fuzz.sh short || status=1
exit $status
