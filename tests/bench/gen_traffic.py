#!/usr/bin/env python3
"""Benchmark traffic for tests/bench/run (docs/performance.md): deterministic captures against
examples/policy/ftz-demo.toml, written with examples/demo/pktlib.py (standard library only).

  gen_traffic.py OUT_DIR [--quick]

Writes, for SIZE in 64, 512, 1500, imix (frame sizes with FCS, as RFC 2544 counts them; the
captures hold frames without it, so 64 B is a 60-byte frame):
  fwd-SIZE.pcap      UDP on a whitelisted, uninspected link (crossborder 198.51.100.0/26 ->
                     processing 10.2.0.0/16:443, counterparty sg-analytics), 4,096 flows
  inspect-SIZE.pcap  (--quick: 1500 and imix only) TCP on a whitelisted, inspected link (domestic 10.1.0.0/16 -> sg-analytics
                     198.51.100.0/26:8443, which may receive pi.contact): handshake, data from the client, FIN close; the
                     payload is JSON order records, about 1 in 400 carrying a mobile number
  border-512.pcap    UDP on the inspected border link (domestic -> sg-analytics:8443), 4,096 flows,
                     512 B frames (audit on/off)
  acct-512.pcap      the same flows and frames with person keys at a customer-data rate: 1 record
                     in 20 carries a distinct mobile number (about 1 packet in 7; accounting on/off)
  newflows.pcap      one UDP packet per flow, every flow new (uninspected link)
  small.pcap         one 8-packet TCP flow (replay start-up)
and flows.txt with the counts. IMIX is the simple 7:4:1 mix of 64, 594 and 1518-byte frames.

  gen_traffic.py OUT_DIR --decode [--quick]

writes only the decoding layer's pair (issue 11), 1500 B frames on the inspected link as above:
  upload-http.pcap   one HTTP/1.1 POST per flow, Content-Type application/json, Content-Length
                     framing, the body JSON order records (decoding layer active: JSON view,
                     base64-run search)
  upload-raw.pcap    the same bytes, but each flow's first byte is 0x01: not HTTP, so the layer
                     stays inert and only the raw scan runs, as before the layer existed
and flows-decode.txt.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../examples/demo"))
import pktlib as P  # noqa: E402

SIZES = ["64", "512", "1500", "imix"]
IMIX = [64] * 7 + [594] * 4 + [1518]
ETH_IP_UDP = 14 + 20 + 8
ETH_IP_TCP = 14 + 20 + 20


def frame_sizes(size, n, rng):
    if size == "imix":
        return [rng.choice(IMIX) for _ in range(n)]
    return [int(size)] * n


class Records:
    """Endless JSON order records; about 1 in `rare` carries a mainland mobile number."""

    def __init__(self, rng, rare=400):
        self.rng, self.rare, self.buf, self.n = rng, rare, b"", 0

    def record(self):
        r = self.rng
        self.n += 1
        rec = ('{"seq":%d,"orderId":"%019d","ts":%d,"sku":"SKU-%08d","price":"%d.00",'
               '"remark":"deliver between 9:00 and 18:00, leave at the front desk"' %
               (self.n, r.randrange(10**18, 10**19), 1700000000000 + r.randrange(10**8),
                r.randrange(10**8), r.randrange(10000)))
        if r.randrange(self.rare) == 0:
            rec += ',"mobile":"13%09d"' % r.randrange(10**9)
        return (rec + "},\n").encode()

    def take(self, n):
        while len(self.buf) < n:
            self.buf += self.record()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def fwd_frames(size, n_packets, n_flows, rng, border=False, rare=400):
    """UDP frames of whitelisted flows, flows interleaved round robin: uninspected (crossborder
    -> processing), or with `border` inspected border flows (domestic -> sg-analytics:8443)."""
    if border:
        flows = [("10.1.%d.%d" % ((i // 250) % 256, 1 + i % 250), "198.51.100.%d" % (1 + i % 62),
                  20000 + i % 40000) for i in range(n_flows)]
    else:
        flows = [("198.51.100.%d" % (1 + i % 62), "10.2.%d.%d" % ((i // 250) % 256, 1 + i % 250),
                  20000 + i % 40000) for i in range(n_flows)]
    payload = Records(rng, rare)
    frames = []
    for k, fs in enumerate(frame_sizes(size, n_packets, rng)):
        src, dst, sport = flows[k % n_flows]
        body = payload.take(max(0, fs - 4 - ETH_IP_UDP))
        frames.append(P.udp4_frame(src, dst, sport, 8443 if border else 443, body))
    return frames


def conversations(n_flows, per_flow, group_payloads, active=8):
    """TCP flows to sg-analytics, `active` open at a time: their handshakes, then their segments
    interleaved, then their FIN closes. group_payloads(flow indices) returns payload(k, j), the
    k-th segment of the group's j-th flow (called k-major)."""
    frames = []
    for base in range(0, n_flows, active):
        flows = list(range(base, min(n_flows, base + active)))
        convs = []
        for i in flows:
            c = P.TcpConversation("10.1.%d.%d" % ((i // 250) % 256, 1 + i % 250),
                                  "198.51.100.%d" % (1 + i % 62), 30000 + i % 30000, 8443)
            frames += [f for _, f in c.handshake()]
            convs.append(c)
        payload = group_payloads(flows)
        for k in range(per_flow):
            for j, c in enumerate(convs):
                data = payload(k, j)
                frames += [f for _, f in c.send(True, data, mss=len(data))]
                # The server acknowledges every 4th segment: without ACKs the normaliser drops
                # what goes beyond the first 64 KiB window (tcp_beyond_window), unscanned.
                if k % 4 == 3:
                    frames.append(c._frame(False, P.ACK))
        for c in convs:
            frames += [f for _, f in c.close()]
    return frames


def inspect_frames(size, n_flows, per_flow, rng):
    """JSON order records in frames of `size`, one stream of records across the flows."""
    records = Records(rng)

    def group(flows):
        sizes = [frame_sizes(size, per_flow, rng) for _ in flows]
        return lambda k, j: records.take(max(1, sizes[j][k] - 4 - ETH_IP_TCP))
    return conversations(n_flows, per_flow, group)


def upload_frames(http, n_flows, per_flow, rng):
    """One JSON upload per flow in 1500 B frames, 64 open at a time (a border link carries many
    uploads at once; with 8, a burst of 32 packets would hold ~4 segments of each): an HTTP/1.1
    POST, or (not `http`) the same bytes with a first byte that no HTTP message starts with."""
    records = Records(rng)
    seg = 1500 - 4 - ETH_IP_TCP
    head = ("POST /upload HTTP/1.1\r\nHost: collector.example.net\r\n"
            "Content-Type: application/json\r\nContent-Length: %07d\r\n\r\n")
    body_len = seg * per_flow - len(head % 0)

    def group(flows):
        data = []
        for _ in flows:
            d = (head % body_len).encode() + records.take(body_len)
            data.append(d if http else b"\x01" + d[1:])
        return lambda k, j: data[j][k * seg:(k + 1) * seg]
    return conversations(n_flows, per_flow, group, active=64)


def main():
    ap = argparse.ArgumentParser(description="Benchmark traffic for tests/bench/run "
                                 "(docs/performance.md).")
    ap.add_argument("out_dir", help="directory for the captures and flows.txt (made if missing)")
    ap.add_argument("--quick", action="store_true", help="fewer packets (tests/bench/run --quick)")
    ap.add_argument("--decode", action="store_true",
                    help="only the decoding layer's pair, upload-http.pcap and upload-raw.pcap")
    args = ap.parse_args()
    out, quick = args.out_dir, args.quick
    os.makedirs(out, exist_ok=True)
    if args.decode:
        n_flows, per_flow = (64, 48) if quick else (512, 160)
        counts = []
        for name, http in (("upload-http", True), ("upload-raw", False)):
            frames = upload_frames(http, n_flows, per_flow, random.Random(20261207))
            P.write_pcap(os.path.join(out, name + ".pcap"), frames, step=1e-5)
            counts.append("%s %d packets %d flows" % (name, len(frames), n_flows))
        with open(os.path.join(out, "flows-decode.txt"), "w") as f:
            f.write("\n".join(counts) + "\n")
        return
    rng = random.Random(20261206)
    counts = []
    fwd_packets = 4096 if quick else 16384
    for size in SIZES:
        frames = fwd_frames(size, fwd_packets, 4096, rng)
        P.write_pcap(os.path.join(out, "fwd-%s.pcap" % size), frames, step=1e-6)
        counts.append("fwd-%s %d packets %d flows" % (size, len(frames), 4096))
        if quick and size in ("64", "512"):
            continue
        n_flows, per_flow = (64, 48) if quick else (256, 160)
        frames = inspect_frames(size, n_flows, per_flow, rng)
        P.write_pcap(os.path.join(out, "inspect-%s.pcap" % size), frames, step=1e-5)
        counts.append("inspect-%s %d packets %d flows" % (size, len(frames), n_flows))
    frames = fwd_frames("512", fwd_packets, 4096, rng, border=True)
    P.write_pcap(os.path.join(out, "border-512.pcap"), frames, step=1e-6)
    counts.append("border-512 %d packets %d flows" % (len(frames), 4096))
    n_new = 10000 if quick else 50000
    frames = [P.udp4_frame("198.51.100.%d" % (1 + i % 62), "10.2.%d.%d" % ((i // 250) % 256, 1 + i % 250),
                           1024 + (i // 62) % 60000, 443, b"x" * 18) for i in range(n_new)]
    P.write_pcap(os.path.join(out, "newflows.pcap"), frames, step=1e-6)
    counts.append("newflows %d packets %d flows" % (n_new, n_new))
    c = P.TcpConversation("10.1.0.1", "198.51.100.20", 40000, 8443)
    small = [f for _, f in c.handshake() + c.send(True, records_bytes(rng), mss=1400) + c.close()]
    P.write_pcap(os.path.join(out, "small.pcap"), small[:8])
    # After the others, so that they stay the captures earlier measurements were made with.
    frames = fwd_frames("512", fwd_packets, 4096, rng, border=True, rare=20)
    P.write_pcap(os.path.join(out, "acct-512.pcap"), frames, step=1e-6)
    counts.append("acct-512 %d packets %d flows" % (len(frames), 4096))
    with open(os.path.join(out, "flows.txt"), "w") as f:
        f.write("\n".join(counts) + "\n")


def records_bytes(rng):
    return Records(rng).take(2 * 1400)


if __name__ == "__main__":
    main()
