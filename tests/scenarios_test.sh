#!/usr/bin/env bash
# Every shipped scenario runs clean, except the two that exist to fail:
# broken_commit_rule (a deliberately broken commit rule: a checker must fire,
# exit 1) and outside_model (more Byzantine stake than tolerated: exit 3).
set -uo pipefail
sim="$1"; shift
failed=0
for f in "$@"; do
  name=$(basename "$f" .json)
  case "$name" in
    broken_commit_rule) want=1 ;;
    outside_model) want=3 ;;
    *) want=0 ;;
  esac
  out=$("$sim" --scenario="$f" 2>&1); rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $name: exit $rc, expected $want"
    printf '%s\n' "$out" | grep -E 'VIOLATION|OUTSIDE' | head -5
    failed=1
  else
    echo "ok   $name (exit $rc)"
  fi
done
exit $failed
