#!/usr/bin/env bash
# Run libFuzzer harnesses for a fixed time each: run.sh OUT SECONDS NAME...
# Seeds: tests/fuzz/corpus/<name>/ (read-only); new inputs: OUT/work/<name>/.
# Prints "fuzz <name>: <execs> execs in <s> s (<rate>/s), corpus <n>" per
# harness; exits non-zero at the first crash, leaving OUT/artifacts/<name>-*.
set -uo pipefail
out=$1; secs=$2; shift 2
status=0
for h in "$@"; do
  mkdir -p "$out/work/$h" "$out/artifacts" "tests/fuzz/corpus/$h"
  log="$out/$h.log"
  "$out/fuzz_$h" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$out/artifacts/$h-" \
      "$out/work/$h" "tests/fuzz/corpus/$h" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  tsecs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  corp=$(ls "$out/work/$h" | wc -l)
  if [ $rc -ne 0 ]; then
    echo "fuzz $h: FAILED (status $rc) after ${execs:-?} execs; log $log" >&2
    grep -m5 -E 'invariant failed|ERROR: |SUMMARY|Test unit written' "$log" >&2
    status=1
    break
  fi
  echo "fuzz $h: ${execs} execs in ${secs} s (${tsecs}/s), work corpus ${corp} inputs"
done
exit $status
