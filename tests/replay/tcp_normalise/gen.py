#!/usr/bin/env python3
"""tcp_normalise: the TCP normaliser sees what the receiving host sees. Run: gen.py OUTDIR.

Uploads to sg-analytics (may not receive pi.identity) under examples/policy/ftz-demo.toml, and
under a copy of it with `[defaults] urgent_data = "allow"` (policy_urgent_allow.toml, written here).

  51001  urgent byte 'Z' inside the resident ID, URG pointer on it: a Linux receiver reads the
         real ID (the byte is out of band)           -> tcp_urgent_ambiguous (+ the ID is found)
  51002  urgent byte inside clean data               -> tcp_urgent_ambiguous only
  51003  injected RST far outside the window, then the ID: the flow lives on, ID inspected
  51004  injected RST inside the window but not at the next seq (RFC 5961 challenge-ACK case),
         then the ID: the flow lives on, ID inspected
  51005  clean upload, then a RST at the exact seq carrying diagnostic text: not evasion
  51006  clean upload, then a RST at the exact seq whose data is the ID: the data is not stream
         data (trimmed before forwarding, never scanned): allow
  51007  RST at the exact seq, then the ID: the flow is closed, the late bytes are dropped
  51008  capture starts at the SYN-ACK: the opener is the SYN-ACK's destination (the client)
  51009  capture starts mid-stream (no SYN at all)    -> midstream (default block)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

P = R.P
URG, RST = 0x20, 0x04
CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'


def tcp4_urg(src, dst, sport, dport, seq, ack, flags, payload, urgent):
    """An IPv4 TCP frame with an urgent pointer (pktlib writes 0 there)."""
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                      65535, 0, urgent)
    seg = hdr + payload
    c = P.csum(P._pseudo(src, dst, 6, len(seg)) + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return P.ether() + P.ipv4(src, dst, 6, seg)


def conn(port):
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


def urgent_upload(port, body, at):
    """The request with one extra byte 'Z' at offset `at` of the request, sent in the segment
    [at - 4, end) whose urgent pointer designates it (BSD/Linux: pointer = offset + 1)."""
    c = conn(port)
    req = R.http_post(body)
    wire = req[:at] + b"Z" + req[at:]
    start = at - 4
    frames = c.handshake() + [c.segment(True, 0, wire[:start])]
    frames.append(tcp4_urg(c.c, c.s, c.cp, c.sp, c.seq(True, start), c.ack_for(True),
                           P.PSH | P.ACK | URG, wire[start:], urgent=at - start + 1))
    c.sent[True] = len(wire)
    return frames + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def rst(c, from_client, seq, payload=b""):
    return c._frame(from_client, seq, c.ack_for(from_client), RST | P.ACK, payload)


def generate(out):
    frames = []
    id_req = R.http_post(R.json_body(R.VALID_ID))
    id_at = R.body_offset(R.json_body(R.VALID_ID))
    frames += urgent_upload(51001, R.json_body(R.VALID_ID), id_at + 9)
    frames += urgent_upload(51002, CLEAN, len(R.http_post(CLEAN)) - 10)

    # 51003/51004: the first half of the request, an injected RST from the "server", the rest.
    for port, rst_off in ((51003, 5_000_000), (51004, 100)):
        c = conn(port)
        half = len(id_req) // 3
        frames += c.handshake() + [c.segment(True, 0, id_req[:half]), c.ack(False)]
        c.sent[True] = half
        # The server's RST: its seq is relative to the server's next seq (0 bytes sent so far).
        frames.append(rst(c, False, c.seq(False, 0) + rst_off))
        frames += [c.segment(True, half, id_req[half:])]
        c.sent[True] = len(id_req)
        frames += c.send(False, R.HTTP_OK_EMPTY) + c.close()

    # 51005/51006: a clean exchange, then the client resets at its exact next seq, with data.
    for port, text in ((51005, b"connection aborted by application"), (51006, R.VALID_ID)):
        c = conn(port)
        frames += c.handshake() + c.send(True, R.http_post(CLEAN)) + c.send(False, R.HTTP_OK_EMPTY)
        frames.append(rst(c, True, c.seq(True, c.sent[True]), text))

    # 51007: an exact RST from the server, then the client still sends the ID.
    c = conn(51007)
    frames += c.handshake() + c.send(True, R.http_post(CLEAN)) + [c.ack(False)]
    frames.append(rst(c, False, c.seq(False, 0)))
    frames.append(c.segment(True, c.sent[True], id_req))

    # 51008: first seen at the SYN-ACK (the client's SYN took another path).
    c = conn(51008)
    frames += c.handshake()[1:] + c.send(True, R.http_post(CLEAN)) + c.send(False, R.HTTP_OK_EMPTY)
    frames += c.close()

    # 51009: picked up mid-stream: the first packet is the client's data.
    c = conn(51009)
    c.handshake()
    frames += c.send(True, R.http_post(CLEAN)) + c.send(False, R.HTTP_OK_EMPTY) + c.close()

    src = os.path.join(R.SOURCE_DIR, "examples", "policy", "ftz-demo.toml")
    text = open(src, encoding="utf-8").read()
    assert "\n[defaults]\n" in text
    allow = text.replace("\n[defaults]\n", '\n[defaults]\nurgent_data = "allow"\n', 1)
    allow = allow[:allow.index("\n[[test]]")] + "\n"  # its cases name payload files next to it
    allow_path = os.path.join(out, "policy_urgent_allow.toml")
    with open(allow_path, "w", encoding="utf-8") as f:
        f.write(allow)
    return {"tcp.pcap": R.write(os.path.join(out, "tcp.pcap"), frames),
            "policy_urgent_allow": allow_path}


if __name__ == "__main__":
    R.main_for(generate)
