#!/usr/bin/env bash
# Runs tools/netns/harness.py on tools/netns/short_scenario.json (real
# processes in network namespaces, real nftables faults). Exit 77 from the
# harness (not root, no `ip`/`nft`, no network namespaces) passes as SKIPPED.
set -uo pipefail
harness="$1"; scenario="$2"; node="$3"; client="$4"
# --bin-dir is the directory holding node/narwhal_node and node/narwhal_client
# (both data deps: node/ in the runfiles).
bin_dir="$(cd "$(dirname "$node")/.." && pwd)"
logs="${TEST_UNDECLARED_OUTPUTS_DIR:-${TMPDIR:-/tmp}}/netns_logs"
python3 "$harness" --scenario "$scenario" --bin-dir "$bin_dir" --logs-on-failure "$logs"
rc=$?
if [ "$rc" -eq 77 ]; then
  echo "SKIPPED: the real-network harness cannot run here (see the line above); counted as a pass"
  exit 0
fi
[ "$rc" -eq 0 ] || echo "FAILED (exit $rc); logs in $logs"
exit "$rc"
