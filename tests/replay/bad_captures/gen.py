#!/usr/bin/env python3
"""bad_captures: broken capture files. Run: gen.py OUTDIR.

  good.pcap              a valid capture: one upload with the resident ID (blocked)
  bad_magic.pcap         good.pcap with the magic number replaced by "XXXX"
  truncated_record.pcap  good.pcap cut in the middle of the data of its 6th record
  truncated_header.pcap  good.pcap cut in the middle of the header of its 6th record
  empty.pcap             zero bytes
  header_only.pcap       a valid global header and no records (not an error: zero flows)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402


def generate(out):
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 48001, R.SG_PORT, isn_c=4800100)
    good = R.write(os.path.join(out, "good.pcap"), R.upload(c, R.json_body(R.VALID_ID)))
    data = open(good, "rb").read()
    # Offset of record 6 (index 5): the 24-byte global header, then (16 + len) per record.
    recs = R.read_pcap(good)
    off6 = 24 + sum(16 + len(f) for _, f in recs[:5])
    paths = {"good.pcap": good}

    def put(name, content):
        p = os.path.join(out, name)
        with open(p, "wb") as f:
            f.write(content)
        paths[name] = p

    put("bad_magic.pcap", b"XXXX" + data[4:])
    put("truncated_record.pcap", data[:off6 + 16 + len(recs[5][1]) // 2])
    put("truncated_header.pcap", data[:off6 + 8])
    put("empty.pcap", b"")
    put("header_only.pcap", R.pcap_header())
    return paths


if __name__ == "__main__":
    R.main_for(generate)
