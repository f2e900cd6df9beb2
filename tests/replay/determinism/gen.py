#!/usr/bin/env python3
"""determinism: one capture mixing the flows of the other cases, and the same packets split into
two captures by side of the border. Run: gen.py OUTDIR.

  all.pcap              the captures of split_offsets, out_of_order, overlap_evasion, lookalikes
                        and foreign_client, one after another (each shifted by 10 s), one file
  inside.pcap           the frames of all.pcap sent from the domestic zone (10.0.0.0/8)
  outside.pcap          the other frames, same timestamps (replay merges them back by time)
  parts/<case>.pcap     the sibling captures as generated, all starting at the same instant, so
                        merging them interleaves the flows of five captures
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import replaylib as R  # noqa: E402

SIBLINGS = ["split_offsets", "out_of_order", "overlap_evasion", "lookalikes", "foreign_client"]


def sibling(name):
    spec = importlib.util.spec_from_file_location("gen_" + name,
                                                  os.path.join(os.path.dirname(HERE), name, "gen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def generate(out):
    paths = {}
    records = []
    for i, name in enumerate(SIBLINGS):
        d = os.path.join(out, "parts", name)
        os.makedirs(d, exist_ok=True)
        caps = sibling(name).generate(d)
        for cname, p in sorted(caps.items()):
            paths[name + "/" + cname] = p
            records += [(t + i * 10000000, f) for t, f in R.read_pcap(p)]
    records.sort(key=lambda r: r[0])
    assert len({t for t, _ in records}) == len(records), "timestamps must be unique"
    for name, recs in (("all.pcap", records),
                       ("inside.pcap", [r for r in records if (R.ipv4_src(r[1]) or "").startswith("10.")]),
                       ("outside.pcap", [r for r in records if not (R.ipv4_src(r[1]) or "").startswith("10.")])):
        p = os.path.join(out, name)
        R.P.write_pcap(p, recs)
        paths[name] = p
    return paths


if __name__ == "__main__":
    R.main_for(generate)
