#!/usr/bin/env bash
# Determinism gate for CI (docs/ci_determinism.md): a short swarm sweep where
# every seed runs twice in one process and once in each of two fresh
# processes; any trace-hash mismatch fails the job. .ci/run calls it.
#
#   tools/determinism_check.sh                      # 10 seeds x 20 s, 4 authorities
#   SEEDS=1..50 DURATION_S=30 tools/determinism_check.sh
#   NARWHAL_SIM=/path/to/narwhal_sim tools/determinism_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="${SEEDS:-1..10}"
DURATION_S="${DURATION_S:-20}"
NODES="${NODES:-4}"
EXTRA_FLAGS="${EXTRA_FLAGS:-}"
sim="${NARWHAL_SIM:-}"
if [ -z "$sim" ]; then
  bazel build //sim:narwhal_sim >&2
  sim="bazel-bin/sim/narwhal_sim"
fi
# Swarm mode: every seed draws its own faults, so the check covers crashes,
# restarts, partitions, Byzantine authorities... not just a quiet network.
# shellcheck disable=SC2086
out=$("$sim" --swarm --nodes="$NODES" --duration_s="$DURATION_S" --seeds="$SEEDS" --check_determinism $EXTRA_FLAGS) && rc=0 || rc=$?
printf '%s\n' "$out" | grep -v '^{' || true
last=$(printf '%s\n' "$out" | tail -n 1)
echo "$last"
case "$last" in
  *'"check_determinism":true'*'"mismatches":0'*) ;;
  *) rc=${rc:-1}; [ "$rc" -eq 0 ] && rc=1 ;;
esac
if [ "$rc" -ne 0 ]; then
  echo "determinism_check: FAILED (seeds $SEEDS, ${DURATION_S}s each): replay a seed with the command printed above" >&2
fi
exit "$rc"
