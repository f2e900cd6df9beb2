#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_decode to corpus/decode/ (one well-formed frame per file).

The frames mirror the well-formed rows of tests/unit/inspect/decode_test.cpp: plain TCP/UDP/ICMP
over IPv4 and IPv6, VLAN and QinQ, IPv4 options, IPv6 extension headers, fragments, padding.
Deterministic: re-running produces identical files. Usage: ./gen_corpus_decode.py [OUT_DIR]
"""
import os
import struct
import sys

SRC4, DST4 = bytes([10, 0, 0, 1]), bytes([198, 51, 100, 2])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000100000000000000000002")


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(ethertype, tags=()):
    b = bytes.fromhex("020000000002020000000001")
    for tpid, vid in tags:
        b += struct.pack("!HH", tpid, vid)
    return b + struct.pack("!H", ethertype)


def tcp(sport, dport, flags, payload=b"", options=b""):
    doff = 5 + len(options) // 4
    return 6, struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, doff << 4, flags, 8192, 0, 0) + options + payload, 16


def udp(sport, dport, payload=b""):
    return 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload, 6


def icmp(proto, typ, code, rest):
    return proto, bytes([typ, code, 0, 0]) + rest, 2


def with_csum(l4, pseudo):
    proto, b, at = l4
    if at is None:
        return b
    c = csum(pseudo + b)
    return b[:at] + struct.pack("!H", c) + b[at + 2:]


def ipv4(l4, options=b"", frag=0, src=SRC4, raw_l4=False):
    proto, b, _ = l4
    if not raw_l4:
        pseudo = b"" if proto == 1 else src + DST4 + struct.pack("!BBH", 0, proto, len(b))
        b = with_csum(l4, pseudo)
    ihl = (20 + len(options)) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(b), 0x1234, frag, 64, proto, 0, src, DST4) + options
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + b


def ipv6(l4, exts=(), raw_l4=False):
    """exts: list of (type, body-without-next-header-byte)."""
    proto, b, _ = l4
    if not raw_l4:
        b = with_csum(l4, SRC6 + DST6 + struct.pack("!IxxxB", len(b), proto))
    body = b""
    types = [t for t, _ in exts] + [proto]
    for i, (_, ext) in enumerate(exts):
        body += bytes([types[i + 1]]) + ext
    body += b
    return struct.pack("!IHBB", 6 << 28, len(body), types[0], 64) + SRC6 + DST6 + body


PADN6 = bytes([0, 1, 4, 0, 0, 0, 0])  # hdr ext len 0 + PadN: an empty 8-byte options header

FRAMES = {
    "tcp4": eth(0x0800) + ipv4(tcp(40000, 443, 0x18, b"hello")),
    "udp4_dns": eth(0x0800) + ipv4(udp(5353, 53, bytes(12))),
    "icmp4_echo": eth(0x0800) + ipv4(icmp(1, 8, 0, b"\0\1\0\1ping")),
    "tcp6_synack": eth(0x86DD) + ipv6(tcp(40000, 443, 0x12, b"hello")),
    "udp6": eth(0x86DD) + ipv6(udp(1234, 4321, b"abc")),
    "icmp6_echo": eth(0x86DD) + ipv6(icmp(58, 128, 0, b"\0\1\0\2x")),
    "vlan_tcp4": eth(0x0800, [(0x8100, 0x2064)]) + ipv4(tcp(1, 2, 0x10)),
    "qinq_udp4": eth(0x0800, [(0x88A8, 200), (0x8100, 300)]) + ipv4(udp(7, 9)),
    "qinq9100_icmp6": eth(0x86DD, [(0x9100, 4095), (0x8100, 1)]) + ipv6(icmp(58, 129, 0, bytes(4))),
    "ipv4_options": eth(0x0800) + ipv4(udp(68, 67, b"\0\0"), options=bytes([1, 0x94, 4, 0, 0, 1, 0, 0])),
    "ipv6_hbh_dest_tcp": eth(0x86DD) + ipv6(tcp(80, 50000, 0x11, b"bye"),
                                            [(0, PADN6), (60, bytes([1, 0x1E, 12]) + bytes(12))]),
    "ipv6_ah_routing_udp": eth(0x86DD) + ipv6(udp(1, 2), [(43, bytes([2, 2, 1, 0, 0, 0, 0]) + bytes(16)),
                                                          (51, bytes([4, 0, 0, 0, 0, 0x10, 0]) + bytes(16))]),
    "ipv6_esp": eth(0x86DD) + ipv6((50, bytes(24), None)),
    "ipv4_first_fragment": eth(0x0800) + ipv4((17, udp(5353, 53, bytes(40))[1][:24], None), frag=0x2000),
    "ipv4_nonfirst_fragment": eth(0x0800) + ipv4((17, b"\xab" * 24, None), frag=3),
    "ipv6_first_fragment": eth(0x86DD) + ipv6((17, udp(5353, 53, bytes(40))[1][:16], None),
                                              [(44, bytes([0, 0, 1, 0xAB, 0xCD, 0xEF, 0x01]))]),
    "ipv6_nonfirst_fragment": eth(0x86DD) + ipv6((17, bytes(10), None), [(44, bytes([0, 0, 16, 0, 0, 0, 7]))]),
    "padded_udp4": (eth(0x0800) + ipv4(udp(9, 10, b"hi"))).ljust(60, b"\0"),
    "dhcp_discover": eth(0x0800) + ipv4(udp(68, 67, bytes(8)), src=bytes(4)),
    "arp": eth(0x0806) + bytes(28),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "decode")
    os.makedirs(out, exist_ok=True)
    for name, frame in FRAMES.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(frame)
    print(f"wrote {len(FRAMES)} seeds to {out}")


if __name__ == "__main__":
    main()
