#!/usr/bin/env python3
"""ip_fragments: uploads whose TCP segment travels as IP fragments (IPv4, and IPv6 Fragment
extension headers), reassembled before inspection. Run: gen.py OUTDIR.

fragments.pcap (IPv4 46001-46008, IPv6 46011-46012), to sg-analytics:8443:
  46001  the request in 2 fragments cut inside the resident ID, in order       -> block (ID)
  46002  same, second fragment first                                           -> block (ID)
  46003  the fragments, then the segment retransmitted unfragmented            -> block (ID)
  46004  control: the same upload unfragmented                                 -> block (ID)
  46005  a clean request in 3 fragments, arriving 3rd, 1st, 2nd                -> allow
  46006  clean, the 2nd fragment overlapping the 1st with identical bytes, and
         an exact duplicate of the 2nd                                         -> allow
  46007  clean, the 2nd fragment overlapping the 1st with different bytes      -> block (evasion)
  46008  same conflict between two later fragments, before the 1st arrives     -> block (evasion)
  46011  IPv6: the request in 2 fragments cut inside the ID                    -> block (ID)
  46012  IPv6: a clean request in 2 fragments                                  -> allow
frag_only.pcap holds flow 46001 alone; incomplete.pcap (46020) a request whose 2nd fragment
never comes; too_many.pcap (46021) a request in 9 fragments (reassembly holds 8). Both end
there: the request never reached the server, so it neither answers nor sees a FIN.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
from replaylib import P  # noqa: E402

MF = 0x2000
CLIENT6 = "fd00:1::21"
SERVER6 = "2001:db8:20::20"
CLEAN = R.json_body(b"nothing personal in here, only a status report", key=b"note")


def segment(c, payload):
    """The client's data segment at stream offset 0 (TCP header + payload, the IP payload)."""
    return P.tcp(c.c, c.s, c.cp, c.sp, c.seq(True, 0), c.ack_for(True), P.PSH | P.ACK, payload)


def frag(c, data, begin, end, ident, last, patch=None):
    """One fragment carrying data[begin:end] of the IP payload; patch=(index, byte) alters it."""
    chunk = bytearray(data[begin:end])
    if patch is not None:
        chunk[patch[0] - begin] = patch[1]
    assert begin % 8 == 0 and (last or (end - begin) % 8 == 0)
    if c.v6:
        fh = struct.pack("!BBHI", 6, 0, begin | (0 if last else 1), ident)
        return P.ether(ethertype=P.ETH_IPV6) + P.ipv6(c.c, c.s, 44, fh + bytes(chunk))
    return P.ether() + P.ipv4(c.c, c.s, 6, bytes(chunk), ident=ident,
                              flags_frag=(0 if last else MF) | begin // 8)


def split(c, data, cuts, ident):
    """data cut at `cuts` (8-byte aligned) into fragments, in order."""
    b = [0] + list(cuts) + [len(data)]
    return [frag(c, data, b[i], b[i + 1], ident, i == len(b) - 2) for i in range(len(b) - 1)]


def conn(port, v6=False):
    if v6:
        return R.Conn(CLIENT6, SERVER6, port, R.SG_PORT, isn_c=port * 100)
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


def finish(c, req):
    c.sent[True] = len(req)
    return c.send(False, R.HTTP_OK_EMPTY) + c.close()


def id_cut(req):
    """An 8-byte aligned IP payload offset inside the ID (20 = the TCP header)."""
    at = req.find(R.VALID_ID)
    cut = ((20 + at + 9) // 8) * 8
    assert 20 + at < cut < 20 + at + len(R.VALID_ID)
    return cut


def id_uploads():
    req = R.http_post(R.json_body(R.VALID_ID))
    frames = []
    for port, order in ((46001, (0, 1)), (46002, (1, 0))):
        c = conn(port)
        fr = split(c, segment(c, req), [id_cut(req)], port)
        frames += c.handshake() + [fr[i] for i in order] + finish(c, req)
    c = conn(46003)
    fr = split(c, segment(c, req), [id_cut(req)], 46003)
    frames += c.handshake() + fr + [c.segment(True, 0, req)] + finish(c, req)
    frames += R.upload(conn(46004), R.json_body(R.VALID_ID))
    return frames


def clean_uploads():
    req = R.http_post(CLEAN)
    frames = []
    c = conn(46005)
    fr = split(c, segment(c, req), [48, 96], 46005)
    frames += c.handshake() + [fr[2], fr[0], fr[1]] + finish(c, req)
    c = conn(46006)
    d = segment(c, req)
    dup = frag(c, d, 40, 96, 46006, False)  # overlaps [40, 48) of the first, same bytes
    frames += (c.handshake() + [frag(c, d, 0, 48, 46006, False), dup, dup,
                                frag(c, d, 96, len(d), 46006, True)] + finish(c, req))
    c = conn(46007)
    d = segment(c, req)
    frames += (c.handshake() + [frag(c, d, 0, 48, 46007, False),
                                frag(c, d, 40, len(d), 46007, True, patch=(44, d[44] ^ 0x20))] +
               finish(c, req))
    c = conn(46008)
    d = segment(c, req)
    frames += (c.handshake() + [frag(c, d, 48, len(d), 46008, True),
                                frag(c, d, 40, len(d), 46008, True, patch=(60, d[60] ^ 0x20)),
                                frag(c, d, 0, 48, 46008, False)] + finish(c, req))
    return frames


def ipv6_uploads():
    frames = []
    req = R.http_post(R.json_body(R.VALID_ID))
    c = conn(46011, v6=True)
    frames += c.handshake() + split(c, segment(c, req), [id_cut(req)], 46011) + finish(c, req)
    req = R.http_post(CLEAN)
    c = conn(46012, v6=True)
    frames += c.handshake() + split(c, segment(c, req), [64], 46012) + finish(c, req)
    return frames


def generate(out):
    req = R.http_post(R.json_body(R.VALID_ID))
    c = conn(46001)
    frag_only = c.handshake() + split(c, segment(c, req), [id_cut(req)], 46001) + finish(c, req)
    c = conn(46020)
    incomplete = c.handshake() + split(c, segment(c, req), [id_cut(req)], 46020)[:1]
    c = conn(46021)
    cuts = [24 + 8 * i for i in range(8)]  # 9 fragments
    too_many = c.handshake() + split(c, segment(c, req), cuts, 46021)
    frames = id_uploads() + clean_uploads() + ipv6_uploads()
    return {"fragments.pcap": R.write(os.path.join(out, "fragments.pcap"), frames),
            "frag_only.pcap": R.write(os.path.join(out, "frag_only.pcap"), frag_only),
            "incomplete.pcap": R.write(os.path.join(out, "incomplete.pcap"), incomplete),
            "too_many.pcap": R.write(os.path.join(out, "too_many.pcap"), too_many)}


if __name__ == "__main__":
    R.main_for(generate)
