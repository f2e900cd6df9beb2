#!/bin/sh
# Memory of `datacustoms audit verify` on a large log (issue 9: "report the figure for a 1 GB
# log"). Generates a hash-chained log of SIZE_MB megabytes of flow-shaped records (no
# checkpoints: no signing key is needed, so the run uses --live and reports the unsealed tail as
# a warning), then prints the verifier's wall time and peak resident memory.
#   tests/bench/verify_memory.sh [SIZE_MB=1024] [BUILD_DIR=build]
set -eu
size_mb=${1:-1024}
build=${2:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/log" "$size_mb" <<'PY'
import hashlib, os, sys
d, size_mb = sys.argv[1], int(sys.argv[2])
os.makedirs(d)
prev = "0" * 64
seq, per_file, written, target = 1, 200000, 0, size_mb << 20
f = None
body = (',"time":"2026-12-01T00:00:00.000000Z","flow_id":%d,"community_id":"1:abcdefghijklmnopqrstuvwxyz0=",'
        '"src_ip":"10.1.2.3","src_port":40000,"dest_ip":"203.0.113.7","dest_port":443,"proto":"TCP",'
        '"zones":{"src":"domestic","dest":"crossborder"},"counterparty":"eu-hq","verdict":"allow",'
        '"action":"forward","reasons":[],"sni":null,"http_host":null,"categories":[]')
while written < target:
    if (seq - 1) % per_file == 0:
        if f: f.close()
        f = open(os.path.join(d, "audit-%012d.jsonl" % seq), "w")
    t = "start" if seq == 1 else "flow"
    line = '{"seq":%d,"prev":"%s","type":"%s"' % (seq, prev, t)
    line += (',"time":"2026-12-01T00:00:00.000000Z"}' if t == "start" else body % seq + "}")
    f.write(line + "\n")
    prev = hashlib.sha256(line.encode()).hexdigest()
    written += len(line) + 1
    seq += 1
f.close()
print("generated %d records, %d MB" % (seq - 1, written >> 20))
PY
"$root/$build/appliance/datacustoms" audit keygen --out "$work/k" >/dev/null
/usr/bin/time -f "verify: %e s wall, peak RSS %M KiB" \
  "$root/$build/appliance/datacustoms" audit verify "$work/log" --pubkey "$work/k.pub" --live \
  --no-evidence | tail -1
