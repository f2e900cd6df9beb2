#!/usr/bin/env python3
"""A large capture of unfragmented traffic for `datacustoms replay` A/B runs (reassembly must not
slow unfragmented traffic; docs/architecture.md "Measured").

usage: unfragmented_capture.py OUT.pcap [FLOWS]

FLOWS (default 2000) HTTP uploads of ~60 KB clean JSON from a domestic client to sg-analytics
(inspected, allowed under examples/policy/ftz-demo.toml) in 1460-byte segments, each answered,
built with the replay cases' generator (tests/replay/replaylib.py). Deterministic.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "replay"))
import replaylib as R  # noqa: E402


def body(i):
    rec = b'{"order":"SO-2026-%05d","items":3,"city":"Wuhu","note":"%s"},' % (i % 100000, b"x" * 40)
    return b"[" + rec * (60000 // len(rec)) + b"{}]"


def main():
    out = sys.argv[1]
    flows = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    frames = []
    data = body(0)
    cuts = list(range(1460, len(R.http_post(data)), 1460))
    for i in range(flows):
        port = 20000 + i
        c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 7919)
        frames += R.upload(c, data, cuts=cuts)
    R.write(out, frames, step_us=10)
    print(f"{out}: {len(frames)} frames, {flows} flows")


if __name__ == "__main__":
    main()
