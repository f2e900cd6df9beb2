#!/usr/bin/env python3
"""lookalikes: values that look like a resident ID but are not one, each in its own upload to
sg-analytics under the same "idcard" key (a positive keyword, so only validation can save them).
Run: gen.py OUTDIR.

  45001  110105194912310021        GB 11643 check digit wrong (should be X)
  45002  1234567440524188001010014 a valid ID (440524188001010014) inside a 25-digit run
  45003  123440524188001010014567  ... with digits on both sides (24-digit run)
  45004  order number 202606150000123456 under "orderNo" (18 digits, province 20 does not exist)
  45005  order number 2026061511010519491 under "orderNo" (19 digits)
  45006  110105194902300022        February 30th
  45007  000000199001010015        province 00
  45008  11010519491231002Y        Y is not a check character
  45009  positive control: 440524188001010014 (valid) -> must be blocked
  45010  positive control: 11010519491231002X (valid) -> must be blocked
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

CASES = [
    (45001, b"idcard", b"110105194912310021"),
    (45002, b"idcard", b"1234567440524188001010014"),
    (45003, b"idcard", b"123440524188001010014567"),
    (45004, b"orderNo", b"202606150000123456"),
    (45005, b"orderNo", b"2026061511010519491"),
    (45006, b"idcard", b"110105194902300022"),
    (45007, b"idcard", b"000000199001010015"),
    (45008, b"idcard", b"11010519491231002Y"),
    (45009, b"idcard", b"440524188001010014"),
    (45010, b"idcard", R.VALID_ID),
]


def generate(out):
    frames = []
    for port, key, value in CASES:
        c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)
        frames += R.upload(c, R.json_body(value, key=key))
    return {"lookalikes.pcap": R.write(os.path.join(out, "lookalikes.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
