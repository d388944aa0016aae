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
# Short libFuzzer runs of every harness (tools/fuzz.sh; clang in its own
# output base, so bazel-testlogs stays this build's).
bash tools/fuzz.sh short || status=1
# The core's unit tests again under AddressSanitizer (--config=asan: no
# tcmalloc there). Same output tree, so it goes last: it rebuilds the core.
bazel test --config=asan //core/... --keep_going || status=1
exit $status
