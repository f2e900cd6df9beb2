#!/bin/sh
# Forwarding ratio (docs/performance.md): our Mpps on whitelisted, uninspected flows divided by
# `dpdk-testpmd --forward-mode=io` on the same virtual devices, cores and packets, as interleaved
# pairs. Kept as a shortcut for `tests/bench/run --only forward`, which measures both sides the
# same way (the forwarded-packet count's slope after a warm-up second, sampled as it arrives).
# It replaces the old script's comparison of testpmd's best 6 s period with our whole-run
# average, and its "testpmd 0.00 Mpps" when testpmd was killed before a second statistics print.
# Usage: tests/bench/forwarding_ratio.sh BUILD_DIR [SECONDS]
set -eu
build=${1:-build}
secs=${2:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
exec "$src/tests/bench/run" --only forward --build "$build" --seconds "$secs"
