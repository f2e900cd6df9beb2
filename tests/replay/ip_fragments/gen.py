#!/usr/bin/env python3
"""ip_fragments: the TCP segment carrying the resident ID is split into two IPv4 fragments, the
cut falling inside the ID. Run: gen.py OUTDIR.

  46001  handshake, the request as one TCP segment in 2 fragments (first, then second), close
  46002  same, second fragment first
  46003  the fragments, then the same segment retransmitted unfragmented (what the sender does
         when the fragments are not acknowledged) -> scanned, blocked for the ID
  46004  control: the same upload unfragmented -> blocked for the ID
frag_only.pcap holds flow 46001 alone, so the replay summary's drop counter is that flow's.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
from replaylib import P  # noqa: E402

MF = 0x2000


def fragments(c, payload, cut_in_ip_payload, ident):
    """The client's data segment at stream offset 0 as two IPv4 fragments."""
    seg = P.tcp(c.c, c.s, c.cp, c.sp, c.seq(True, 0), c.ack_for(True), P.PSH | P.ACK, payload)
    assert cut_in_ip_payload % 8 == 0
    f1 = P.ether() + P.ipv4(c.c, c.s, 6, seg[:cut_in_ip_payload], ident=ident, flags_frag=MF)
    f2 = P.ether() + P.ipv4(c.c, c.s, 6, seg[cut_in_ip_payload:], ident=ident,
                            flags_frag=cut_in_ip_payload // 8)
    return f1, f2


def generate(out):
    body = R.json_body(R.VALID_ID)
    req = R.http_post(body)
    at = R.body_offset(body)
    # Cut 8-byte aligned inside the ID: IP payload offset = 20 (TCP header) + stream offset.
    cut = ((20 + at + 9) // 8) * 8
    assert 20 + at < cut < 20 + at + len(R.VALID_ID)
    frames = []

    def conn(port):
        return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)

    def finish(c):
        c.sent[True] = len(req)
        return c.send(False, R.HTTP_OK_EMPTY) + c.close()

    c = conn(46001)
    f1, f2 = fragments(c, req, cut, ident=46001)
    frames += c.handshake() + [f1, f2] + finish(c)

    frag_only = list(frames)

    c = conn(46002)
    f1, f2 = fragments(c, req, cut, ident=46002)
    frames += c.handshake() + [f2, f1] + finish(c)

    c = conn(46003)
    f1, f2 = fragments(c, req, cut, ident=46003)
    frames += c.handshake() + [f1, f2, c.segment(True, 0, req)] + finish(c)

    c = conn(46004)
    frames += R.upload(c, body)
    return {"fragments.pcap": R.write(os.path.join(out, "fragments.pcap"), frames),
            "frag_only.pcap": R.write(os.path.join(out, "frag_only.pcap"), frag_only)}


if __name__ == "__main__":
    R.main_for(generate)
