#!/usr/bin/env bash
# Prints the trace hash of every shipped scenario (scenarios/*.json) and of
# a few plain seeds: one line "name trace_hash violations" each. A change
# that means no behaviour change must leave every line as it was (issue 15):
#
#   tools/trace_hashes.sh > /tmp/before.txt; (change); tools/trace_hashes.sh | diff /tmp/before.txt -
#
#   NARWHAL_SIM=path/to/narwhal_sim tools/trace_hashes.sh   # an existing binary
set -euo pipefail
cd "$(dirname "$0")/.."
sim="${NARWHAL_SIM:-}"
if [ -z "$sim" ]; then
  bazel build //sim:narwhal_sim >&2
  sim="bazel-bin/sim/narwhal_sim"
fi
line() {  # name, then narwhal_sim flags
  local name="$1"; shift
  # A scenario with violations exits non-zero: its hash counts all the same.
  { "$sim" "$@" 2>/dev/null || true; } | tail -n 1 | python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
print(sys.argv[1], j["trace_hash"], j.get("violations", 0) if isinstance(j.get("violations", 0), int) else len(j["violations"]))
' "$name"
}
for f in scenarios/*.json; do
  line "$(basename "$f" .json)" --scenario="$PWD/$f"
done
for seed in 1 2 3; do
  line "seed$seed" --seed=$seed --nodes=4 --duration_s=20 --packet_loss_probability=0.05
done
line "swarm7" --swarm --seed=7 --duration_s=30
line "sqlite5" --seed=5 --duration_s=10 --sqlite
