#!/usr/bin/env python3
"""Interleaved A/B of the inspection figures (docs/performance.md "Inspection"). Never part of
pass/fail testing.

  tests/bench/inspect_ab.py POLICY A_BUILD B_BUILD REPS CAPTURE[,CAPTURE...]

Per pair and build (order alternating A,B / B,A): one `datacustoms replay --quiet --timing` (CPU
seconds of the replay loop, run_cpu_s) and one `bench_raw_scan --min-seconds 0.5` of the same
capture; prints per capture and build the median [min-max] of the replay-loop payload Gbps, raw
Hyperscan Gbps, scanner-alone Gbps and the pairwise ratio replay / raw. POLICY is the bench
policy tests/bench/run makes (ftz-demo with audit_unavailable = "open"); captures from
tests/bench/gen_traffic.py.
"""
import json
import os
import re
import statistics
import subprocess
import sys


def replay(build, policy, cap):
    err = subprocess.run([os.path.join(build, "appliance/datacustoms"), "replay", "--quiet",
                          "--timing", "--flows", "65536", "--policy", policy, cap],
                         capture_output=True, text=True, check=True).stderr
    return float(re.search(r'"run_cpu_s":([0-9.]+)', err).group(1))


def raw(build, policy, cap):
    out = subprocess.run([os.path.join(build, "tests/bench/bench_raw_scan"), "--policy", policy,
                          cap, "--min-seconds", "0.5"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    policy, a, b, reps, caps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    for cap in caps.split(","):
        res = {x: {k: [] for k in ("gbps", "raw", "scan", "ratio")} for x in (a, b)}
        for r in range(reps):
            for build in ([a, b] if r % 2 == 0 else [b, a]):
                t = replay(build, policy, cap)
                rs = raw(build, policy, cap)
                g = rs["payload_bytes"] * 8 / t / 1e9
                d = res[build]
                d["gbps"].append(g)
                d["raw"].append(rs["raw_gbps"])
                d["scan"].append(rs["scanner_gbps"])
                d["ratio"].append(g / rs["raw_gbps"])
        for build in (a, b):
            cells = ["%s %.3f [%.3f-%.3f]" % (k, statistics.median(v), min(v), max(v))
                     for k, v in res[build].items()]
            print("%s %s: %s" % (os.path.basename(cap), build, "  ".join(cells)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
