#!/usr/bin/env bash
# Simulator speed (issue 7's performance target; a benchmark, not a test):
# simulated seconds per wall second and events per wall second for 4, 10,
# 50 and 100 authorities, one run each, no faults, 2000 tx/s of load.
# Goals: 4 authorities x 60 s in < 2 wall s; 100 x 10 s in < 60 wall s.
#
#   tools/sim_bench.sh                 # builds narwhal_sim -c opt first
#   NARWHAL_SIM=bazel-bin/sim/narwhal_sim tools/sim_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sim="${NARWHAL_SIM:-}"
if [ -z "$sim" ]; then
  bazel build -c opt //sim:narwhal_sim >&2
  sim="bazel-bin/sim/narwhal_sim"
fi
printf '%-10s %-6s %-10s %10s %10s %12s %14s %10s\n' authorities sim_s signatures wall_s events events/s sim_s/wall_s commits
run() {  # nodes duration scheme-flag label
  local json
  json=$("$sim" --seed=1 --nodes="$1" --duration_s="$2" $3 | tail -n 1)
  python3 - "$1" "$2" "$4" "$json" <<'PY'
import json, sys
n, d, label, j = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
print(f"{n:<10} {d:<6} {label:<10} {j['wall_s']:10.2f} {j['events']:10d} {j['events_per_wall_second']:12.0f} "
      f"{j['sim_seconds_per_wall_second']:14.3f} {j['committed_sub_dags']:10d}")
PY
}
run 4 60 "" ed25519
run 4 60 --insecure_signatures insecure
run 10 10 "" ed25519
run 10 10 --insecure_signatures insecure
run 50 10 --insecure_signatures insecure
run 100 10 --insecure_signatures insecure
echo "insecure = the simulation-only signature scheme (a keyed hash, forgeable by design) for huge committees"
