#!/usr/bin/env python3
"""Interleaved A/B timing of two `datacustoms` binaries on the same work (docs/architecture.md
"Measured": reassembly must not slow unfragmented traffic).

usage: reassembly_ab.py A_BIN B_BIN PAIRS replay POLICY PCAP
       reassembly_ab.py A_BIN B_BIN PAIRS run CONFIG SECONDS

`replay`: CPU time (user + sys of the child) and wall time of `BIN replay --policy POLICY PCAP`;
both binaries must print the same flow lines. `run`: the live pipeline for SECONDS on CONFIG
(e.g. net_pcap infinite_rx -> net_null, as tests/bench/forwarding_ratio.sh), forwarded packets
per second from --stats-json. Runs alternate A, B, A, B, ... so that machine load (shared with
other work) hits both alike; prints median / min / max per binary.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def replay(binary, policy, pcap):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([binary, "replay", "--policy", policy, pcap], capture_output=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_s": cpu, "wall_s": wall}, p.stdout


def run(binary, config, seconds):
    with tempfile.TemporaryDirectory() as d:
        stats = os.path.join(d, "s.json")
        subprocess.run([binary, "run", "--config", config, "--max-seconds", seconds,
                        "--stats-json", stats], capture_output=True, check=True)
        s = json.load(open(stats))
    return {"mpps": s["totals"]["forwarded"] / float(seconds) / 1e6}, b""


def main():
    a, b, pairs, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    fn = replay if mode == "replay" else run
    res = {a: [], b: []}
    outs = {}
    for i in range(pairs):
        for binary in (a, b) if i % 2 == 0 else (b, a):
            m, out = fn(binary, *sys.argv[5:7])
            res[binary].append(m)
            if mode == "replay":
                outs.setdefault(binary, out)
            print(f"pair {i} {binary}: {m}", file=sys.stderr)
    if mode == "replay" and outs[a] != outs[b]:
        print("WARNING: the binaries printed different flow lines", file=sys.stderr)
    for label, binary in (("A", a), ("B", b)):
        for key in res[binary][0]:
            v = [m[key] for m in res[binary]]
            print(f"{label} {key}: median {statistics.median(v):.3f} min {min(v):.3f} "
                  f"max {max(v):.3f} (n={len(v)}) {binary}")


if __name__ == "__main__":
    main()
