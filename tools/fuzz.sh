#!/usr/bin/env bash
# The libFuzzer harnesses of //fuzz (docs/fuzzing.md): builds them with clang
# (bazel --config=fuzz, in an output base of their own) and runs each in
# turn, never two at once.
#
#   tools/fuzz.sh short [HARNESS...]         # ~15 s each (CI; FUZZ_SHORT_S)
#   tools/fuzz.sh long [EXECS] [HARNESS...]  # EXECS executions each (default 10,000,000)
#   tools/fuzz.sh corpus                     # rewrite fuzz/corpus/ from the encoders
#
# Per harness it prints executions, exec/s, new corpus units, coverage and
# crashes; a crash, leak, timeout or out-of-memory fails the run (exit 1)
# and its input is kept under $NARWHAL_FUZZ_WORKDIR/<harness>/crashes/.
# New units go to $NARWHAL_FUZZ_WORKDIR/<harness>/new/, never into the repo.
# `short` also writes one JUnit test case per harness to out/fuzz/junit.xml
# (counted by .ci/run). Without clang or libFuzzer it says so, prints a SKIP
# line and exits 0.
#
# Environment: NARWHAL_FUZZ_OUTPUT_BASE (bazel output base of the clang
# build; default: the workspace's default output base + "-fuzz"),
# NARWHAL_FUZZ_WORKDIR (default /tmp/narwhal-fuzz-$USER-<checkout hash>, one
# per checkout), NARWHAL_FUZZ_JOBS (bazel --jobs, default 2),
# NARWHAL_FUZZ_BAZEL_FLAGS (more build flags, e.g. --disk_cache= for a cold
# build), FUZZ_SHORT_S (default 15), FUZZ_TIMEOUT_S (one input, default 10),
# FUZZ_RSS_MB (default 2048).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

HARNESSES=(sender_header batch dag messenger ingress output_request store_rows node_config scenario)
mode="${1:-}"
shift || true

usage() {
  sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
  exit 2
}

checkout_md5=$(printf '%s' "$root" | md5sum | cut -c1-32)
user="${USER:-$(id -un)}"
# Where bazel puts this workspace's default output base, plus "-fuzz": the
# clang build never evicts the gcc build's analysis cache or outputs.
OB="${NARWHAL_FUZZ_OUTPUT_BASE:-${HOME}/.cache/bazel/_bazel_${user}/${checkout_md5}-fuzz}"
# One per checkout: two checkouts fuzzing at once must not share corpora,
# logs or crash folders.
WORK="${NARWHAL_FUZZ_WORKDIR:-/tmp/narwhal-fuzz-${user}-${checkout_md5:0:8}}"
JOBS="${NARWHAL_FUZZ_JOBS:-2}"
SHORT_S="${FUZZ_SHORT_S:-15}"
TIMEOUT_S="${FUZZ_TIMEOUT_S:-10}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
JUNIT="$root/out/fuzz/junit.xml"

fuzz_bazel() {
  # --symlink_prefix=/: no bazel-* links, so bazel-testlogs keeps pointing
  # at the gcc build's test results (.ci/run reads them).
  bazel --output_base="$OB" --max_idle_secs=600 "$@"
}

write_junit() {  # write_junit <file of "name|status|seconds|message" lines>
  mkdir -p "$(dirname "$JUNIT")"
  python3 - "$1" "$JUNIT" <<'PY'
import sys, xml.sax.saxutils as s
rows = [l.rstrip("\n").split("|", 3) for l in open(sys.argv[1]) if l.strip()]
failures = sum(1 for r in rows if r[1] == "failed")
out = ['<?xml version="1.0" encoding="UTF-8"?>',
       f'<testsuites><testsuite name="fuzz_short" tests="{len(rows)}" failures="{failures}" errors="0">']
for name, status, seconds, message in rows:
    attrs = f'classname="fuzz" name="{s.escape(name)}" time="{seconds}"'
    if status == "failed":
        out.append(f'<testcase {attrs}><failure message={s.quoteattr(message)}/></testcase>')
    elif status == "skipped":
        out.append(f'<testcase {attrs} status="notrun"/>')
    else:
        out.append(f'<testcase {attrs}/>')
out.append("</testsuite></testsuites>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
}

skip() {
  echo "SKIP: fuzzing not run: $1"
  if [ "$mode" = short ]; then
    printf 'all|skipped|0|%s\n' "$1" > "$WORK.junit.txt"
    write_junit "$WORK.junit.txt"
  fi
  exit 0
}

have_libfuzzer() {
  command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1 || return 1
  local dir
  dir=$(mktemp -d)
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$dir/t.cc"
  clang++ -fsanitize=fuzzer,address,undefined "$dir/t.cc" -o "$dir/t" >/dev/null 2>&1
  local rc=$?
  rm -rf "$dir"
  return $rc
}

build() {
  local targets=()
  for h in "${selected[@]}"; do targets+=("//fuzz:${h}_fuzzer"); done
  local start=$SECONDS
  echo "fuzz: building ${#targets[@]} fuzzer(s) with clang (output base $OB)"
  # shellcheck disable=SC2086
  if ! fuzz_bazel build --config=fuzz --symlink_prefix=/ --jobs="$JOBS" ${NARWHAL_FUZZ_BAZEL_FLAGS:-} "${targets[@]}"; then
    echo "fuzz: the clang build failed" >&2
    return 1
  fi
  BIN="$(fuzz_bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz"
  echo "fuzz: build took $((SECONDS - start)) s"
}

stat_of() {  # stat_of <log> <libFuzzer stat name>
  sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

run_one() {  # run_one <harness> <libFuzzer limit flag>
  local h=$1 limit=$2
  local dir="$WORK/$h"
  rm -rf "$dir/crashes"
  mkdir -p "$dir/new" "$dir/crashes"
  local corpora=("$dir/new" "$root/fuzz/corpus/$h")
  [ -d "$root/fuzz/regressions/$h" ] && corpora+=("$root/fuzz/regressions/$h")
  local dict=()
  [ -f "$root/fuzz/dict/$h.dict" ] && dict=("-dict=$root/fuzz/dict/$h.dict")
  local before
  before=$(find "$dir/new" -type f | wc -l)
  local start=$SECONDS
  "$BIN/${h}_fuzzer" $limit -timeout="$TIMEOUT_S" -rss_limit_mb="$RSS_MB" -print_final_stats=1 \
    -artifact_prefix="$dir/crashes/" "${dict[@]}" "${corpora[@]}" > "$dir/log" 2>&1
  local rc=$? took=$((SECONDS - start))
  local execs rate added cov ft crashes
  execs=$(stat_of "$dir/log" number_of_executed_units)
  rate=$(stat_of "$dir/log" average_exec_per_sec)
  added=$(( $(find "$dir/new" -type f | wc -l) - before ))
  cov=$(grep -aEo 'cov: [0-9]+ ft: [0-9]+' "$dir/log" | tail -n 1)
  # slow-unit-* files are reports, not failures.
  crashes=$(find "$dir/crashes" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  printf '%-15s %12s %9s %9s %6s %-22s %7s %s\n' "$h" "${execs:-?}" "${rate:-?}" "$added" "${took}s" "${cov:-cov: ?}" "$crashes" \
    "$([ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] && echo ok || echo "FAILED (exit $rc, log $dir/log)")"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    grep -aE 'ERROR: |Check failed|runtime error|SUMMARY' "$dir/log" | head -n 5 | sed 's/^/    /'
    for f in "$dir"/crashes/{crash,leak,timeout,oom}-*; do [ -f "$f" ] && echo "    reproducer: $f"; done
    printf '%s|failed|%s|%s\n' "$h" "$took" "see $dir/log" >> "$WORK.junit.txt"
    return 1
  fi
  printf '%s|passed|%s|\n' "$h" "$took" >> "$WORK.junit.txt"
  return 0
}

select_harnesses() {
  selected=()
  if [ "$#" -eq 0 ]; then
    selected=("${HARNESSES[@]}")
    return
  fi
  for h in "$@"; do
    if [[ ! " ${HARNESSES[*]} " =~ " $h " ]]; then
      echo "unknown harness $h (one of: ${HARNESSES[*]})" >&2
      exit 2
    fi
    selected+=("$h")
  done
}

case "$mode" in
  short)
    select_harnesses "$@"
    # A fixed seed (FUZZ_SEED, default 1): CI walks the same inputs first
    # every time, so a red CI is reproducible and not a new finding by
    # chance; finding new inputs is the long run's job.
    limit="-max_total_time=$SHORT_S -seed=${FUZZ_SEED:-1}"
    ;;
  long)
    execs=10000000
    if [[ "${1:-}" =~ ^[0-9]+$ ]]; then execs=$1; shift; fi
    select_harnesses "$@"
    limit="-runs=$execs"
    ;;
  corpus)
    have_libfuzzer || { echo "fuzz corpus: needs clang (the build is the fuzz build's)" >&2; exit 1; }
    fuzz_bazel run --config=fuzz --symlink_prefix=/ --jobs="$JOBS" //fuzz:make_corpus -- "$root/fuzz/corpus"
    exit $?
    ;;
  *) usage ;;
esac

mkdir -p "$WORK"
rm -f "$JUNIT" "$WORK.junit.txt"
have_libfuzzer || skip "clang with libFuzzer (clang++ -fsanitize=fuzzer,address,undefined) is not installed (Debian: apt-get install clang libclang-rt-dev)"
command -v bazel >/dev/null 2>&1 || skip "bazel is not installed"
total_start=$SECONDS
build || { printf 'build|failed|0|the clang build failed\n' > "$WORK.junit.txt"; [ "$mode" = short ] && write_junit "$WORK.junit.txt"; exit 1; }
printf '%-15s %12s %9s %9s %6s %-22s %7s %s\n' harness executions exec/s new_units time coverage crashes result
status=0
for h in "${selected[@]}"; do
  run_one "$h" "$limit" || status=1
done
[ "$mode" = short ] && write_junit "$WORK.junit.txt"
echo "fuzz $mode: $((SECONDS - total_start)) s in all, $([ $status -eq 0 ] && echo "no crash" || echo "CRASHES FOUND")"
exit $status
