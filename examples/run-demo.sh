#!/bin/sh
# Quick start, step 1: install, build, and run the appliance on the demo captures.
# Packets from the domestic side (examples/demo/inside-rx.pcap) come out on the cross-border
# side's output capture (out/demo/outside-tx.pcap); the final counters are printed as a table.
set -eu
cd "$(dirname "$0")/.."
sh .ci/install-deps.sh
sh .ci/build.sh
mkdir -p out/demo
./build/appliance/datacustoms run --config examples/appliance.toml --out-dir out/demo --idle-exit-ms 500
echo
echo "forwarded frames: out/demo/outside-tx.pcap (cross-border side), out/demo/inside-tx.pcap (domestic side)"
