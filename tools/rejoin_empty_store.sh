#!/usr/bin/env bash
# docs/deploy.md section 7, procedure B, on loopback: 4 authorities
# (`--role all`), client load of 4 x 300 tx/s, HIST seconds of history, then
# authority 1 is killed with kill -9 and its whole store directory removed,
# and it restarts on an empty store WAIT seconds later. Every 5 s it prints
# the output index of authorities 0 and 2 (a stall of the committee shows
# as an index that stops growing) and authority 1's `narwhal_node status`.
# A separate command (minutes of wall time), not part of .ci/run.
#
#   bazel build //node:narwhal_node //node:narwhal_client
#   HIST=300 tools/rejoin_empty_store.sh            # B=dir of the binaries
#
# Measured 2026-12-04 (2 shared cores): with 813 and 440 sub-DAGs of
# history, the committee kept committing and the fresh primary served the
# whole history 15-25 s after its restart.
set -u
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/bazel-bin/node}
HIST=${HIST:-150}; WAIT=${WAIT:-15}; AFTER=${AFTER:-90}; BASE=${BASE:-25000}
D=$(mktemp -d /tmp/rejoin.XXXX); cd "$D" || exit 1
"$B/narwhal_node" committee --nodes 4 --base_port "$BASE" --keys_dir keys --generate_keys --out c.json >/dev/null || exit 1
start() { "$B/narwhal_node" run --config c.json --keys "keys/key-$1.json" --authority "$1" --store "s$1" >> "log$1" 2>&1 & echo $! > "pid$1"; }
for i in 0 1 2 3; do start $i; done
for i in 0 1 2 3; do
  "$B/narwhal_client" submit --worker "127.0.0.1:$((BASE + 4 * i + 3))" --rate 300 \
    --duration_s $((HIST + WAIT + AFTER)) --size 512 > "client$i.log" 2>&1 &
done
idx() { "$B/narwhal_node" status --config c.json --authority "$1" --role primary --timeout_ms 2000 | sed -n 's/.*output index \([0-9]*\).*/\1/p'; }
t=0
while [ $t -lt "$HIST" ]; do sleep 10; t=$((t + 10)); echo "t=$t a0 index $(idx 0)"; done
kill -9 "$(cat pid1)"; sleep 0.5; rm -rf s1; echo "t=$t killed a1, store removed"
sleep "$WAIT"; t=$((t + WAIT)); start 1; echo "t=$t a1 restarted on an empty store"
while [ $t -lt $((HIST + WAIT + AFTER)) ]; do
  sleep 5; t=$((t + 5))
  echo "t=$t a0 $(idx 0) a2 $(idx 2) a1: $("$B/narwhal_node" status --config c.json --authority 1 --role primary --timeout_ms 2000 | cut -c1-160)"
done
for i in 0 1 2 3; do kill "$(cat pid$i)" 2>/dev/null; done; sleep 3
echo "logs and stores in $D"
