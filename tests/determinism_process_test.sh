#!/usr/bin/env bash
# Two separate processes, same seed: the same trace_hash. A different seed: a
# different one. (ASLR, allocator state and hash-map seeds differ between
# processes; none of them may leak into the run.)
set -euo pipefail
sim="$1"
run() { "$sim" --seed="$1" --nodes=4 --duration_s=10 --packet_loss_probability=0.1 | tail -n 1 | sed -n 's/.*"trace_hash":"\([0-9a-f]*\)".*/\1/p'; }
a=$(run 11); b=$(run 11); c=$(run 12)
echo "seed 11: $a and $b; seed 12: $c"
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ]
