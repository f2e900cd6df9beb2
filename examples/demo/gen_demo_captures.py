#!/usr/bin/env python3
"""Generates the demo captures used by `datacustoms run --config examples/appliance.toml`.

  inside-rx.pcap   frames arriving on the domestic port (from hosts in 10.1.0.0/16)
  outside-rx.pcap  frames arriving on the cross-border port (from foreign hosts)

The traffic is deterministic (fixed timestamps, sequence numbers and payloads) and is judged by
examples/policy/ftz-demo.toml. It contains:
  - a TLS connection to a whitelisted counterparty (eu-hq: 203.0.113.10:443, SNI api.eu-hq.example);
  - an HTTP upload to sg-analytics (198.51.100.20:8443) carrying a resident ID number, a category
    that counterparty may not receive (blocked), and a clean upload to it (allowed);
  - a DNS query/answer and an ICMP echo to a foreign host that is not whitelisted;
  - a VLAN-tagged connection;
  - a foreign-initiated connection to a domestic SSH server (no link in that direction);
  - one of each malformed packet the decoder names (truncated, bad IHL, bad length, bad TCP data
    offset, bad UDP length), an ARP frame (unknown EtherType) and a spoofed source address.
Run: python3 examples/demo/gen_demo_captures.py [OUTDIR]   (default: this script's folder)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pktlib as P  # noqa: E402

T0 = 1767225600 * 1000000  # 2026-01-01T00:00:00Z, in microseconds


def client_hello(sni: str) -> bytes:
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    versions = struct.pack("!HHB", 43, 3, 2) + b"\x03\x04"
    exts = sni_ext + versions
    body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!H", 4) + b"\x13\x01\x13\x02" +
            b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    events = []  # (time, from_inside, frame)
    t = T0

    def add(conv_frames, gap=1000):
        nonlocal t
        for from_client_inside, frame in conv_frames:
            t += gap
            events.append((t, from_client_inside, frame))

    # 1. TLS to a whitelisted counterparty.
    c = P.TcpConversation("10.1.0.10", "203.0.113.10", 40001, 443, isn_c=100000, isn_s=900000)
    add(c.handshake())
    add(c.send(True, client_hello("api.eu-hq.example")))
    add(c.send(False, b"\x16\x03\x03\x00\x10" + b"\x02" + b"\x00" * 15))
    add(c.send(True, b"\x17\x03\x03\x00\x20" + bytes(32)))
    add(c.close())

    # 2. HTTP upload with a resident ID number (GB 11643 valid: 11010519491231002X).
    c = P.TcpConversation("10.1.0.11", "198.51.100.20", 40002, 8443, isn_c=200000, isn_s=800000)
    body = b'{"name":"\xe5\xbc\xa0\xe4\xb8\x89","idcard":"11010519491231002X","city":"Wuhu"}'
    req = (b"POST /upload HTTP/1.1\r\nHost: collector.example.net\r\nContent-Type: application/json\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    add(c.handshake())
    add(c.send(True, req))
    add(c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    add(c.close())

    # 2b. A clean upload (shipment data, no personal information) to sg-analytics.
    c = P.TcpConversation("10.1.0.14", "198.51.100.21", 40004, 8443, isn_c=250000, isn_s=850000)
    body = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'
    req = (b"POST /v1/shipments HTTP/1.1\r\nHost: api.jp-logistics.example\r\n"
           b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    add(c.handshake())
    add(c.send(True, req))
    add(c.send(False, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"))
    add(c.close())

    # 3. DNS and ICMP.
    t += 1000
    events.append((t, True, P.udp4_frame("10.1.0.12", "203.0.113.53", 5353, 53, b"\x12\x34\x01\x00\x00\x01" + bytes(6))))
    t += 1000
    events.append((t, False, P.udp4_frame("203.0.113.53", "10.1.0.12", 53, 5353, b"\x12\x34\x81\x80\x00\x01" + bytes(6))))
    t += 1000
    events.append((t, True, P.ether() + P.ipv4("10.1.0.10", "203.0.113.10", 1, P.icmp_echo())))

    # 4. VLAN-tagged connection (802.1Q VLAN 100).
    t += 1000
    events.append((t, True, P.tcp4_frame("10.1.0.13", "203.0.113.10", 40003, 443, 1, 0, P.SYN,
                                         vlans=[(P.ETH_VLAN, 100)])))

    # 5. Foreign-initiated connection to a domestic SSH server (no link crossborder -> domestic).
    c = P.TcpConversation("203.0.113.66", "10.1.0.50", 50000, 22, isn_c=300000, isn_s=700000)
    for from_client, frame in c.handshake()[:1]:
        t += 1000
        events.append((t, not from_client, frame))

    # 6. Malformed packets and other drops, all arriving on the domestic port.
    good = P.tcp4_frame("10.1.0.10", "203.0.113.10", 40009, 443, 1, 0, P.SYN)
    malformed = [
        good[:20],                                                     # truncated IPv4 header
        P.ether() + bytes([0x43]) + good[15:],                         # IHL 3
        P.ether() + P.ipv4("10.1.0.10", "203.0.113.10", 6,
                           P.tcp("10.1.0.10", "203.0.113.10", 40010, 443, 1, 0, P.SYN),
                           total_length=1400),                          # total length beyond frame
        P.ether() + P.ipv4("10.1.0.10", "203.0.113.10", 6,
                           P.tcp("10.1.0.10", "203.0.113.10", 40011, 443, 1, 0, P.SYN,
                                 data_offset=15)),                      # TCP data offset beyond segment
        P.ether() + P.ipv4("10.1.0.10", "203.0.113.53", 17,
                           struct.pack("!HHHH", 5353, 53, 200, 0) + b"abc"),  # UDP length beyond datagram
        P.ether(ethertype=P.ETH_ARP) + bytes(28),                      # ARP: unknown EtherType
        P.tcp4_frame("192.0.2.99", "203.0.113.10", 40012, 443, 1, 0, P.SYN),  # spoofed source
    ]
    for f in malformed:
        t += 1000
        events.append((t, True, f))

    inside = [(ts, f) for ts, from_inside, f in events if from_inside]
    outside = [(ts, f) for ts, from_inside, f in events if not from_inside]
    P.write_pcap(os.path.join(out, "inside-rx.pcap"), inside)
    P.write_pcap(os.path.join(out, "outside-rx.pcap"), outside)
    print("wrote %d + %d frames to %s" % (len(inside), len(outside), out))


if __name__ == "__main__":
    main()
