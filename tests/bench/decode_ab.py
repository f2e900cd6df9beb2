#!/usr/bin/env python3
# Interleaved A/B pairs of decode_bench binaries (docs/performance.md, "Decoding layer"): each
# round runs every binary once (3 repetitions, the best CPU time per benchmark kept) and prints,
# per binary, the median [min-max] over the rounds of each time and of the per-run ratios
# raw path / decode-on (clean bodies), the decoding layer alone (`…LayerOnly`: no raw scan) over
# the raw path, `zcat | raw Hyperscan` / gzip'd JSON decode-and-scan, and (`BM_Paired…`, when the
# binary has them) raw ÷ decode-on of neighbouring passes within one run.
#
#   tests/bench/decode_ab.py A/decode_bench,B/decode_bench [ROUNDS] [FILTER]
import json
import statistics
import subprocess
import sys


def best_times(binary, flt):
    out = subprocess.run([binary, f"--benchmark_filter={flt}", "--benchmark_min_time=0.4",
                          "--benchmark_repetitions=3", "--benchmark_format=json"],
                         capture_output=True, text=True, check=True).stdout
    best, paired = {}, {}
    for r in json.loads(out)["benchmarks"]:
        if r.get("run_type") != "iteration":
            continue
        if "paired_ratio" in r:  # BM_Paired…: raw ÷ decode-on of neighbouring passes in one run
            paired.setdefault(r["run_name"], []).append(r["paired_ratio"])
            paired.setdefault(r["run_name"] + " split", []).append(r["split_ratio"])
            continue
        best[r["run_name"]] = min(best.get(r["run_name"], float("inf")), r["cpu_time"])
    for name, ratios in paired.items():  # the median of the repetitions
        best[name] = statistics.median(ratios)
    return best


def spread(xs):
    return f"{statistics.median(xs):.3f} [{min(xs):.3f}-{max(xs):.3f}]"


def main():
    binaries = sys.argv[1].split(",")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    flt = sys.argv[3] if len(sys.argv) > 3 else "Clean|Gzip|Zcat"  # BM_PairedClean… match too
    runs = {b: [] for b in binaries}
    for _ in range(rounds):
        for b in binaries:  # interleaved: A, B, A, B ...
            runs[b].append(best_times(b, flt))
    for b in binaries:
        print(f"== {b} ({rounds} runs; CPU ms per pass over 4 MiB of JSON)")
        rs = runs[b]
        for name in [n for n in rs[0] if not n.startswith("BM_Paired")]:
            print(f"  {name:30s} {spread([r[name] for r in rs])}")
        raw = "BM_CleanJsonRawOnly"
        # The form bytes have their own raw path (BM_CleanFormRawOnly, when the binary has it).
        form_raw = "BM_CleanFormRawOnly" if "BM_CleanFormRawOnly" in rs[0] else raw
        for name, base in (("BM_CleanJsonDecodeOn", raw), ("BM_CleanOctetDecodeOn", raw),
                           ("BM_CleanFormDecodeOn", form_raw)):
            if name in rs[0] and base in rs[0]:
                print(f"  ratio raw / {name[3:]:21s} {spread([r[base] / r[name] for r in rs])}")
        for name, base in (("BM_CleanJsonLayerOnly", raw), ("BM_CleanOctetLayerOnly", raw),
                           ("BM_CleanFormLayerOnly", form_raw)):
            if name in rs[0] and base in rs[0]:  # the layer alone over the raw path
                print(f"  layer / raw  {name[3:]:24s} {spread([r[name] / r[base] for r in rs])}")
        for name in [n for n in rs[0] if n.startswith("BM_Paired")]:
            what = "raw / split pass" if name.endswith(" split") else "raw / decode on"
            print(f"  paired {what:16s} {name[9:]:23s} {spread([r[name] for r in rs])}")
        gz, zcat = "BM_GzipJsonDecodeScan", "BM_ZcatRawHyperscan"
        if gz in rs[0] and zcat in rs[0]:
            print(f"  ratio zcat|hs / gzip decode   {spread([r[zcat] / r[gz] for r in rs])}")


if __name__ == "__main__":
    main()
