"""Tiny, dependency-free packet and pcap builder used by the demo and test capture generators.

Only the Python standard library is used so the generators run on a fresh Debian machine.
Checksums are computed (IPv4 header, TCP/UDP/ICMP with pseudo-headers) so that the captures are
exactly what a real host would send.
"""
import ipaddress
import struct

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8
ETH_ARP = 0x0806

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac(s: str) -> bytes:
    return bytes(int(x, 16) for x in s.split(":"))


def ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01", ethertype=ETH_IPV4, vlans=()):
    """vlans: sequence of (tpid, vid) from outer to inner."""
    hdr = mac(dst) + mac(src)
    for tpid, vid in vlans:
        hdr += struct.pack("!HH", tpid, vid & 0x0FFF)
    return hdr + struct.pack("!H", ethertype)


def ipv4(src, dst, proto, payload: bytes, ident=1, ttl=64, flags_frag=0, options=b"", total_length=None,
         bad_checksum=False):
    ihl = 5 + len(options) // 4
    tl = total_length if total_length is not None else ihl * 4 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, tl, ident, flags_frag, ttl, proto, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed) + options
    c = csum(hdr)
    if bad_checksum:
        c ^= 0x1111
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, next_header, payload: bytes, hop_limit=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, hop_limit,
                       ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed) + payload


def _pseudo(src, dst, proto, length):
    a = ipaddress.ip_address(src)
    b = ipaddress.ip_address(dst)
    if a.version == 4:
        return a.packed + b.packed + struct.pack("!BBH", 0, proto, length)
    return a.packed + b.packed + struct.pack("!IxxxB", length, proto)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", window=65535, data_offset=None):
    off = data_offset if data_offset is not None else 5
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4, flags,
                      window, 0, 0)
    seg = hdr + payload
    c = csum(_pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload=b""):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(_pseudo(src, dst, 17, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp_echo(ident=1, seqno=1, payload=b"ping"):
    msg = struct.pack("!BBHHH", 8, 0, 0, ident, seqno) + payload
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def tcp4_frame(src, dst, sport, dport, seq, ack, flags, payload=b"", vlans=()):
    return ether(vlans=vlans) + ipv4(src, dst, 6, tcp(src, dst, sport, dport, seq, ack, flags, payload))


def tcp6_frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    return ether(ethertype=ETH_IPV6) + ipv6(src, dst, 6, tcp(src, dst, sport, dport, seq, ack, flags, payload))


def udp4_frame(src, dst, sport, dport, payload=b""):
    return ether() + ipv4(src, dst, 17, udp(src, dst, sport, dport, payload))


class TcpConversation:
    """Builds the frames of one TCP connection: handshake, data both ways, FIN close."""

    def __init__(self, client, server, cport, sport, isn_c=1000, isn_s=5000):
        self.c, self.s, self.cp, self.sp = client, server, cport, sport
        self.cseq, self.sseq = isn_c, isn_s
        self.v6 = ipaddress.ip_address(client).version == 6

    def _frame(self, from_client, flags, payload=b""):
        if from_client:
            args = (self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, flags, payload)
        else:
            args = (self.s, self.c, self.sp, self.cp, self.sseq, self.cseq, flags, payload)
        f = tcp6_frame(*args) if self.v6 else tcp4_frame(*args)
        adv = len(payload) + (1 if flags & (SYN | FIN) else 0)
        if from_client:
            self.cseq += adv
        else:
            self.sseq += adv
        return f

    def handshake(self):
        return [(True, self._frame(True, SYN)), (False, self._frame(False, SYN | ACK)),
                (True, self._frame(True, ACK))]

    def send(self, from_client, data, mss=1400):
        out = []
        for i in range(0, len(data), mss):
            out.append((from_client, self._frame(from_client, PSH | ACK, data[i:i + mss])))
        return out

    def close(self):
        return [(True, self._frame(True, FIN | ACK)), (False, self._frame(False, FIN | ACK)),
                (True, self._frame(True, ACK))]


def write_pcap(path, frames, start_ts=1767225600.0, step=0.001):
    """frames: list of bytes, or of (timestamp, bytes); a timestamp is float seconds or int
    microseconds since the epoch. Classic pcap, microsecond resolution."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = start_ts
        for item in frames:
            if isinstance(item, tuple):
                t, data = item
            else:
                data = item
                t += step
            if isinstance(t, int):  # integer microseconds since the epoch
                sec, usec = divmod(t, 1000000)
            else:
                sec = int(t)
                usec = int(round((t - sec) * 1e6))
                if usec >= 1000000:
                    sec, usec = sec + 1, usec - 1000000
            f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
            f.write(data)
