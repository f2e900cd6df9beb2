#!/usr/bin/env python3
"""split_offsets: the resident ID in a JSON body, the request cut into two TCP segments at every
offset 1..17 inside the ID. Flow k uses client port 41000 + k. Run: gen.py OUTDIR."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402


def generate(out):
    body = R.json_body(R.VALID_ID)
    at = R.body_offset(body)
    frames = []
    for k in range(1, len(R.VALID_ID)):  # 1..17: the first segment ends with k bytes of the ID
        c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 41000 + k, R.SG_PORT, isn_c=1000000 * k)
        frames += R.upload(c, body, cuts=[at + k])
    return {"split.pcap": R.write(os.path.join(out, "split.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
