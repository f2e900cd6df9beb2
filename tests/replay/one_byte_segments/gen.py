#!/usr/bin/env python3
"""one_byte_segments: HTTP uploads sent one payload byte per TCP segment. Run: gen.py OUTDIR.

  42001  whole request (headers + JSON body with the resident ID) in 1-byte segments
  42002  headers in one segment, the body in 1-byte segments
  42003  control: a clean body (no ID) in 1-byte segments
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'


def generate(out):
    frames = []
    body = R.json_body(R.VALID_ID)
    req = R.http_post(body)
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 42001, R.SG_PORT, isn_c=4200100)
    frames += R.upload(c, body, cuts=range(1, len(req)))
    hdr_len = len(req) - len(body)
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 42002, R.SG_PORT, isn_c=4200200)
    frames += R.upload(c, body, cuts=range(hdr_len, len(req)))
    clean_req = R.http_post(CLEAN)
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 42003, R.SG_PORT, isn_c=4200300)
    frames += R.upload(c, CLEAN, cuts=range(1, len(clean_req)))
    return {"onebyte.pcap": R.write(os.path.join(out, "onebyte.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
