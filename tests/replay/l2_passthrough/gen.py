#!/usr/bin/env python3
"""l2_passthrough: ARP and IPv6 neighbour discovery cross with `--pass arp,nd`, nothing else does.
Run: gen.py OUTDIR.

l2.pcap holds, in order:
  1  an ARP request (who-has 10.1.0.1 tell 10.1.0.21), padded to 60 bytes
  2  an ARP reply with 8 bytes of data after the minimum frame (a trailer: not passed)
  3  a neighbour solicitation fe80::21 -> ff02::1:ff00:20 (hop limit 255, source link-layer option)
  4  a neighbour advertisement fe80::20 -> fe80::21 (hop limit 255)
  5  a router solicitation :: -> ff02::2 (hop limit 255)
  6  a neighbour solicitation with hop limit 64 (RFC 4861 §7.1.1: a receiver discards it)
  7  a neighbour solicitation with a zero-length option (RFC 4861 §4.6: discarded)
  8  an ICMPv6 echo request fe80::21 -> ff02::1 (type 128: not neighbour discovery)
  9  an MLDv2 report fe80::21 -> ff02::16 (type 143, hop limit 1: not neighbour discovery)
"""
import ipaddress
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

P = R.P
MAC_C, MAC_S = "02:00:00:00:00:21", "02:00:00:00:00:20"


def arp(op, trailer=b""):
    msg = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, P.mac(MAC_C), bytes([10, 1, 0, 21]),
                      bytes(6), bytes([10, 1, 0, 1]))
    frame = P.ether("ff:ff:ff:ff:ff:ff", MAC_C, P.ETH_ARP) + msg
    return frame + bytes(max(0, 60 - len(frame))) + trailer


def icmp6(src, dst, typ, body, hop_limit=255, dst_mac="33:33:00:00:00:01"):
    msg = struct.pack("!BBH", typ, 0, 0) + body
    c = P.csum(P._pseudo(src, dst, 58, len(msg)) + msg)
    msg = msg[:2] + struct.pack("!H", c) + msg[4:]
    return P.ether(dst_mac, MAC_C, P.ETH_IPV6) + P.ipv6(src, dst, 58, msg, hop_limit=hop_limit)


def target(addr):
    return ipaddress.IPv6Address(addr).packed


SLLA = bytes([1, 1]) + P.mac(MAC_C)  # option 1, 1 x 8 bytes


def generate(out):
    ns_body = bytes(4) + target("fe80::20") + SLLA
    frames = [
        arp(1),
        arp(2, trailer=b"SMUGGLED"),
        icmp6("fe80::21", "ff02::1:ff00:20", 135, ns_body),
        icmp6("fe80::20", "fe80::21", 136, struct.pack("!I", 0x60000000) + target("fe80::20")),
        icmp6("::", "ff02::2", 133, bytes(4)),
        icmp6("fe80::21", "ff02::1:ff00:20", 135, ns_body, hop_limit=64),
        icmp6("fe80::21", "ff02::1:ff00:20", 135, bytes(4) + target("fe80::20") + bytes([1, 0]) + bytes(6)),
        icmp6("fe80::21", "ff02::1", 128, struct.pack("!HH", 7, 1) + b"ping"),
        icmp6("fe80::21", "ff02::16", 143, bytes(4), hop_limit=1),
    ]
    return {"l2.pcap": R.write(os.path.join(out, "l2.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
