#!/bin/sh
# Forwarding ratio (../shared/reference/performance.md): our Mpps on a whitelisted, uninspected
# flow divided by `dpdk-testpmd --forward-mode=io` on the same virtual devices, cores and packets.
# net_pcap replays one 60-byte UDP frame (198.51.100.5 -> 10.2.0.7:443, the crossborder ->
# processing link of examples/policy/ftz-demo.toml: sg-analytics, not inspected) from memory
# (infinite_rx) into net_null. Needs dpdk-testpmd (Debian package dpdk-dev).
# Usage: tests/bench/forwarding_ratio.sh BUILD_DIR [SECONDS]
set -eu
build=${1:-build}
secs=${2:-6}
src=$(cd "$(dirname "$0")/../.." && pwd)
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd not found: apt-get install dpdk-dev"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$src" "$tmp" <<'PY'
import sys
sys.path.insert(0, sys.argv[1] + "/examples/demo")
import pktlib as P
P.write_pcap(sys.argv[2] + "/udp.pcap", [P.udp4_frame("198.51.100.5", "10.2.0.7", 40000, 443, bytes(18))] * 1024)
PY
vdevs="--vdev=net_pcap0,rx_pcap=$tmp/udp.pcap,infinite_rx=1 --vdev=net_null0,no-rx=1"
timeout -s INT $((secs + 2)) dpdk-testpmd --no-huge --no-pci -m 1024 --no-shconf -l 0,1 $vdevs -- \
  --forward-mode=io --stats-period "$secs" --nb-cores=1 --total-num-mbufs=16384 >"$tmp/testpmd.txt" 2>&1 || true
base=$(grep -E "Rx-pps" "$tmp/testpmd.txt" | awk '{print $2}' | sort -n | tail -1)
cat >"$tmp/fwd.toml" <<TOML
pairs = [["a", "b"]]
[eal]
args = ["--no-huge", "--no-pci", "-m", "1024", "--no-shconf", "--log-level=lib.eal:error"]
main_lcore = 0
workers = [1]
[memory]
mbufs = 16383
[dataplane]
policy = "$src/examples/policy/ftz-demo.toml"
[[ports]]
name = "a"
device = "net_pcap0,rx_pcap=$tmp/udp.pcap,infinite_rx=1"
zone = "crossborder"
[[ports]]
name = "b"
device = "net_null0,no-rx=1"
zone = "processing"
TOML
"$build/appliance/datacustoms" run --config "$tmp/fwd.toml" --max-seconds "$secs" --stats-json "$tmp/s.json" >/dev/null 2>&1
python3 - "$tmp/s.json" "$secs" "$base" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ours = s["totals"]["forwarded"] / float(sys.argv[2])
base = float(sys.argv[3] or 0)
print("datacustoms: %.2f Mpps (policy, whitelisted uninspected flow)" % (ours / 1e6))
print("testpmd io:  %.2f Mpps" % (base / 1e6))
if base:
    print("forwarding ratio: %.2f" % (ours / base))
PY
