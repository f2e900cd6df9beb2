#!/bin/sh
# Quick start, step 1: install, build, and run the appliance on the demo captures.
# Packets from the domestic side (examples/demo/inside-rx.pcap) come out on the cross-border
# side's output capture (out/demo/outside-tx.pcap); the final counters are printed as a table.
set -eu
cd "$(dirname "$0")/.."
sh .ci/install-deps.sh
sh .ci/build.sh
bin=./build/appliance/datacustoms
mkdir -p out/demo/keys
# Audit keys: an Ed25519 key pair for signed checkpoints and a secret for keyed value hashes.
[ -f out/demo/keys/audit.key ] || $bin audit keygen --out out/demo/keys/audit
[ -f out/demo/keys/hmac.key ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > out/demo/keys/hmac.key)
$bin run --config examples/appliance.toml --out-dir out/demo --idle-exit-ms 500
echo
echo "forwarded frames: out/demo/outside-tx.pcap (cross-border side), out/demo/inside-tx.pcap (domestic side)"
echo "audit log:        out/demo/audit/  (check it: $bin audit verify out/demo/audit --pubkey out/demo/keys/audit.pub)"
