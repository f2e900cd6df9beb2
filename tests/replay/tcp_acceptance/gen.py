#!/usr/bin/env python3
"""tcp_acceptance: data the receiver discards is not scanned as stream. Run: gen.py OUTDIR.

Uploads to sg-analytics (may not receive pi.identity) under examples/policy/ftz-demo.toml. Both
copies of a byte range differ only in one 18-byte value: the resident ID or clean text.

  51101  PAWS (RFC 7323 §5.3): a stale-TSval segment carries the ID, the real segment at the same
         seq (current TSval) is clean: the receiver reads the clean one    -> allow (tcp_paws)
  51102  the reverse: the stale segment is clean, the real one carries the ID -> block, no evasion
  51103  a segment entirely beyond the server's advertised window (RFC 9293 §3.10.7.4) carries
         the ID; the real bytes at that seq, sent once the window opened, are clean -> allow
  51104  the reverse: beyond-window segment clean, the real one carries the ID -> block, no evasion
  51105  window scaling (RFC 7323 §2.3): both SYNs offer shift 7, the server's window 1024 << 7
         covers an 80 KB upload (unscaled it would end at 64 KiB): the ID at its end is scanned
  51106  timestamps negotiated, every TSval current, the ID: scanned as usual (no false PAWS drop)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

P = R.P
CLEAN = b"shipment-abcdefghi"  # as long as the ID
assert len(CLEAN) == len(R.VALID_ID)
DATA = P.PSH | P.ACK


def ts_opt(tsval, tsecr):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", tsval & 0xFFFFFFFF, tsecr & 0xFFFFFFFF)


def ws_opt(shift):
    return b"\x01\x03\x03" + bytes([shift])


def tcp4(src, dst, sport, dport, seq, ack, flags, payload, window, options):
    assert len(options) % 4 == 0
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (5 + len(options) // 4) << 4, flags, window, 0, 0) + options
    seg = hdr + payload
    c = P.csum(P._pseudo(src, dst, 6, len(seg)) + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return P.ether() + P.ipv4(src, dst, 6, seg)


class OptConn:
    """A client -> sg-analytics connection whose segments carry TCP options: Timestamps (each
    side's clock advances by one per segment unless a TSval is given) and Window Scale in the
    SYNs. Offsets are stream offsets as in replaylib.Conn."""

    def __init__(self, port, ts=False, wscale=None, syn_ack_window=65535):
        self.c, self.s, self.cp, self.sp = R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT
        self.isn = {True: port * 100, False: 900000}
        self.sent = {True: 0, False: 0}
        self.ts, self.wscale, self.syn_ack_window = ts, wscale, syn_ack_window
        self.clock = {True: 1000, False: 50000}
        self.last_ts = {True: 0, False: 0}  # the newest TSval seen from each side (its TSecr)

    def seq(self, client, off):
        return self.isn[client] + 1 + off

    def frame(self, client, seq, ack, flags, payload=b"", window=65535, tsval=None, syn_opts=b""):
        opts = syn_opts
        if self.ts:
            if tsval is None:
                self.clock[client] += 1
                tsval = self.clock[client]
            opts += ts_opt(tsval, self.last_ts[not client])
            self.last_ts[client] = max(self.last_ts[client], tsval)
        a = (self.c, self.s, self.cp, self.sp) if client else (self.s, self.c, self.sp, self.cp)
        return tcp4(*a, seq, ack, flags, payload, window, opts)

    def handshake(self):
        ws = ws_opt(self.wscale) if self.wscale is not None else b""
        return [
            self.frame(True, self.isn[True], 0, P.SYN, syn_opts=ws),
            self.frame(False, self.isn[False], self.isn[True] + 1, P.SYN | P.ACK,
                       window=self.syn_ack_window, syn_opts=ws),
            self.frame(True, self.isn[True] + 1, self.isn[False] + 1, P.ACK),
        ]

    def data(self, client, off, payload, tsval=None):
        """A data segment at stream offset `off` (does not advance the stream)."""
        return self.frame(client, self.seq(client, off), self.seq(not client, self.sent[not client]),
                          DATA, payload, tsval=tsval)

    def send(self, client, payload, mss=1460):
        out = [self.data(client, self.sent[client] + i, payload[i:i + mss])
               for i in range(0, len(payload), mss)]
        self.sent[client] += len(payload)
        return out

    def ack(self, client, window=65535):
        return self.frame(client, self.seq(client, self.sent[client]),
                          self.seq(not client, self.sent[not client]), P.ACK, window=window)

    def close(self):
        return [
            self.frame(True, self.seq(True, self.sent[True]), self.seq(False, self.sent[False]),
                       P.FIN | P.ACK),
            self.frame(False, self.seq(False, self.sent[False]), self.seq(True, self.sent[True]) + 1,
                       P.FIN | P.ACK),
            self.frame(True, self.seq(True, self.sent[True]) + 1,
                       self.seq(False, self.sent[False]) + 1, P.ACK),
        ]


def request(value, pad=0):
    body = b'{"note":"' + b"a" * pad + b'","idcard":"' + value + b'"}'
    return R.http_post(body)


def two_views(port, first_real_id, stale):
    """The request's tail [k, end) is sent twice at the same seq: first a copy the receiver
    discards (`stale`: a PAWS-stale TSval, otherwise beyond the window), then the real one."""
    pad = 0 if stale else 2100
    c = OptConn(port, ts=stale, syn_ack_window=65535 if stale else 1000)
    bogus = request(R.VALID_ID if first_real_id is False else CLEAN, pad)
    real = request(R.VALID_ID if first_real_id else CLEAN, pad)
    k = real.index(b'{"note"')  # the body
    frames = c.handshake() + c.send(True, real[:k]) + [c.ack(False, window=65535 if stale else 1000)]
    if stale:
        frames.append(c.data(True, k, bogus[k:], tsval=c.clock[True] - 100))
    else:
        # Entirely beyond the edge the server advertised (its ACK of k with window 1000).
        assert k + 1000 < len(bogus) - len(R.VALID_ID) - 2
        frames.append(c.data(True, k + 1000, bogus[k + 1000:]))
        frames.append(c.ack(False, window=16000))  # the window opens
    frames += c.send(True, real[k:]) + c.send(False, R.HTTP_OK_EMPTY) + c.close()
    return frames


def scaled_upload(port):
    c = OptConn(port, wscale=7)
    req = request(R.VALID_ID, pad=80000)
    frames = c.handshake() + [c.ack(False, window=1024)]  # 1024 << 7 = 128 KiB
    return frames + c.send(True, req) + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def generate(out):
    frames = []
    frames += two_views(51101, first_real_id=False, stale=True)
    frames += two_views(51102, first_real_id=True, stale=True)
    frames += two_views(51103, first_real_id=False, stale=False)
    frames += two_views(51104, first_real_id=True, stale=False)
    frames += scaled_upload(51105)
    c = OptConn(51106, ts=True, wscale=2)
    frames += c.handshake() + c.send(True, request(R.VALID_ID, pad=3000)) + [c.ack(False)]
    frames += c.send(False, R.HTTP_OK_EMPTY) + c.close()
    return {"tcp.pcap": R.write(os.path.join(out, "tcp.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
