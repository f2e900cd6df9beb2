#!/usr/bin/env python3
"""out_of_order: the request carrying the resident ID is cut into segments that are sent out of
order. The reorderer holds at most 8 out-of-order segments per direction
(inspect/stream/reorder.hpp kReorderQueueCapacity), so the reordered variants use at most 9 segments
unless stated. Run: gen.py OUTDIR.

  43001  9 segments, all in reverse order
  43002  9 segments, shuffled with random.Random(20260615)
  43003  the ID cut into 3 segments (at ID offsets 6 and 12): middle, last, then first
  43004  1-byte segments across the whole ID, adjacent pairs swapped (1,0,3,2,...)
  43005  control: a clean body, 9 segments in reverse order
  43006  8-byte segments (more than the queue holds) in reverse order, then the whole request
         retransmitted in order as one segment (what a real sender does when nothing is ACKed)
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'


def nine_cuts(n, must=()):
    """8 cut points splitting n bytes into 9 near-equal segments, plus any `must` cuts merged in
    place of the nearest regular cut (so there are still 9 segments)."""
    cuts = [round(n * i / 9) for i in range(1, 9)]
    for m in must:
        j = min(range(len(cuts)), key=lambda i: abs(cuts[i] - m))
        cuts[j] = m
    return sorted(set(cuts))


def generate(out):
    frames = []
    body = R.json_body(R.VALID_ID)
    req = R.http_post(body)
    at = R.body_offset(body)
    cuts9 = nine_cuts(len(req), must=[at + 9])   # the ID is split between two segments
    assert len(cuts9) == 8

    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 43001, R.SG_PORT, isn_c=4300100)
    frames += R.upload(c, body, cuts=cuts9, order=list(reversed(range(9))))

    order = list(range(9))
    random.Random(20260615).shuffle(order)
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 43002, R.SG_PORT, isn_c=4300200)
    frames += R.upload(c, body, cuts=cuts9, order=order)

    # Segments: [0, at+6), [at+6, at+12), [at+12, end)
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 43003, R.SG_PORT, isn_c=4300300)
    frames += R.upload(c, body, cuts=[at + 6, at + 12], order=[1, 2, 0])

    cuts1 = list(range(at, at + len(R.VALID_ID) + 1))  # segment 0 = headers..at, then 1 byte each
    n1 = len(cuts1) + 1
    order = []
    for i in range(0, n1, 2):
        order += [i + 1, i] if i + 1 < n1 else [i]
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 43004, R.SG_PORT, isn_c=4300400)
    frames += R.upload(c, body, cuts=cuts1, order=order)

    clean_req = R.http_post(CLEAN)
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 43005, R.SG_PORT, isn_c=4300500)
    frames += R.upload(c, CLEAN, cuts=nine_cuts(len(clean_req)), order=list(reversed(range(9))))

    cuts8 = list(range(8, len(req), 8))
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, 43006, R.SG_PORT, isn_c=4300600)
    frames += c.handshake()
    frames += c.send(True, req, cuts=cuts8, order=list(reversed(range(len(cuts8) + 1))))
    frames.append(c.segment(True, 0, req))          # in-order retransmission of everything
    frames += c.send(False, R.HTTP_OK_EMPTY) + c.close()
    return {"ooo.pcap": R.write(os.path.join(out, "ooo.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
