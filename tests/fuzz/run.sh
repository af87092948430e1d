#!/usr/bin/env bash
# Run libFuzzer harnesses for a fixed time each: run.sh OUT SECONDS NAME...
# Seeds: tests/fuzz/corpus/<name>/ (read-only); new inputs: OUT/work/<name>/.
# Harnesses run FUZZ_JOBS at a time (default 2), in batches in the order
# given. Prints "fuzz <name>: <execs> execs in <s> s (<rate>/s), work
# corpus <n> inputs" per harness, in that order; after the first batch
# with a crash (or a harness that cannot run) it prints what failed and
# exits non-zero without starting more, leaving OUT/artifacts/<name>-*.
set -uo pipefail
out=$1; secs=$2; shift 2
jobs=${FUZZ_JOBS:-2}
case $jobs in ''|*[!0-9]*|0) jobs=1 ;; esac

run_one() {     # name: writes OUT/<name>.log and OUT/<name>.rc
  local h=$1 rc
  if [ ! -x "$out/fuzz_$h" ]; then
    echo "no such harness: $out/fuzz_$h" >"$out/$h.log"
    echo 127 >"$out/$h.rc"
    return
  fi
  mkdir -p "$out/work/$h" "$out/artifacts" "tests/fuzz/corpus/$h"
  "$out/fuzz_$h" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$out/artifacts/$h-" \
      "$out/work/$h" "tests/fuzz/corpus/$h" >"$out/$h.log" 2>&1
  rc=$?
  echo $rc >"$out/$h.rc"
}

report() {      # name: prints its summary line; returns non-zero if it failed
  local h=$1 rc execs rate corp log="$out/$h.log"
  rc=$(cat "$out/$h.rc" 2>/dev/null || echo 255)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null)
  corp=$(ls "$out/work/$h" 2>/dev/null | wc -l)
  if [ "$rc" != 0 ]; then
    echo "fuzz $h: FAILED (status $rc) after ${execs:-?} execs; log $log" >&2
    grep -m5 -E 'invariant failed|ERROR: |SUMMARY|Test unit written|no such harness' "$log" >&2
    return 1
  fi
  echo "fuzz $h: ${execs:-?} execs in ${secs} s (${rate:-?}/s), work corpus ${corp} inputs"
}

mkdir -p "$out"
status=0
while [ $# -gt 0 ]; do
  batch=()
  pids=()
  while [ $# -gt 0 ] && [ ${#batch[@]} -lt "$jobs" ]; do
    batch+=("$1")
    rm -f "$out/$1.rc"
    run_one "$1" &
    pids+=($!)
    shift
  done
  for p in "${pids[@]}"; do
    wait "$p"
  done
  for h in "${batch[@]}"; do
    report "$h" || status=1
  done
  [ $status -eq 0 ] || break
done
exit $status
