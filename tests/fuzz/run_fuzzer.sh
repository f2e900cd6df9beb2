#!/bin/sh
# Runs one libFuzzer binary for a bounded time over its committed seed corpus (ctest fuzz_*_short).
# usage: run_fuzzer.sh FUZZER SEED_DIR ARTIFACT_DIR RUNS MAX_SECONDS [DICT]
# New interesting inputs go to a temporary directory that is removed afterwards, so the committed
# corpus is never modified; crash/leak/timeout reproducers are kept in ARTIFACT_DIR.
# Exit status is the fuzzer's: non-zero on any crash or sanitizer report.
set -eu
fuzzer=$1 seeds=$2 artifacts=$3 runs=$4 max_time=$5 dict=${6:-}
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/dc-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
set -- -runs="$runs" -max_total_time="$max_time" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/"
if [ -n "$dict" ] && [ -f "$dict" ]; then set -- "$@" -dict="$dict"; fi
status=0
if [ -d "$seeds" ]; then set -- "$@" "$work" "$seeds"; else set -- "$@" "$work"; fi
"$fuzzer" "$@" || status=$?
exit $status
