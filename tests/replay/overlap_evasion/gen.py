#!/usr/bin/env python3
"""overlap_evasion: retransmissions that re-send already-sent sequence space. Run: gen.py OUTDIR.

The "decoy" body has 18 x's where the real body has the resident ID (same length), so the
scanner may see one version and the receiver keep the other (Ptacek/Newsham).

  44001  [0,at) + decoy [at,end), then [at,end) retransmitted with the real ID  -> evasion
  44002  real [at,end) first, then retransmitted as the decoy (ID already seen) -> block
  44003  decoy cut at at+5; then one segment [at,at+18) with the real ID, overlapping the
         tails/heads of both original segments                                -> evasion
  44004  out of order: decoy [at+9,end) queued first, then [0,at+12) with the real ID,
         overlapping the queued segment by 3 changed bytes                     -> evasion
  44005  control: clean body, one segment retransmitted identically            -> allow
  44006  control: clean body, identical retransmission coalescing two segments  -> allow
  44007  real ID, one segment retransmitted identically: blocked for the ID, not for evasion
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'
DECOY_ID = b"x" * len(R.VALID_ID)


def generate(out):
    frames = []
    real = R.http_post(R.json_body(R.VALID_ID))
    decoy = R.http_post(R.json_body(DECOY_ID))
    at = R.body_offset(R.json_body(R.VALID_ID))
    n = len(real)
    assert len(decoy) == n and real[:at] == decoy[:at]

    def conn(port):
        return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)

    def finish(c, length):
        c.sent[True] = length
        return c.send(False, R.HTTP_OK_EMPTY) + c.close()

    c = conn(44001)
    frames += c.handshake() + [c.segment(True, 0, real[:at]), c.segment(True, at, decoy[at:]),
                               c.segment(True, at, real[at:])] + finish(c, n)

    c = conn(44002)
    frames += c.handshake() + [c.segment(True, 0, real[:at]), c.segment(True, at, real[at:]),
                               c.segment(True, at, decoy[at:])] + finish(c, n)

    c = conn(44003)
    frames += c.handshake() + [c.segment(True, 0, decoy[:at + 5]), c.segment(True, at + 5, decoy[at + 5:]),
                               c.segment(True, at, real[at:at + 18])] + finish(c, n)

    c = conn(44004)
    frames += c.handshake() + [c.segment(True, at + 9, decoy[at + 9:]), c.segment(True, 0, real[:at + 12])]
    frames += finish(c, n)

    clean = R.http_post(CLEAN)
    m = len(clean) // 2
    c = conn(44005)
    frames += c.handshake() + [c.segment(True, 0, clean[:m]), c.segment(True, 0, clean[:m]),
                               c.segment(True, m, clean[m:])] + finish(c, len(clean))

    c = conn(44006)
    frames += c.handshake() + [c.segment(True, 0, clean[:m]), c.segment(True, m, clean[m:]),
                               c.segment(True, m - 10, clean[m - 10:m + 10])] + finish(c, len(clean))

    c = conn(44007)
    frames += c.handshake() + [c.segment(True, 0, real[:at + 9]), c.segment(True, 0, real[:at + 9]),
                               c.segment(True, at + 9, real[at + 9:])] + finish(c, n)
    return {"overlap.pcap": R.write(os.path.join(out, "overlap.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
