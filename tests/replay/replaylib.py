"""Shared helpers for the tests/replay/<case>/gen.py capture generators.

Builds on examples/demo/pktlib.py (imported, not copied). Everything is deterministic: fixed
addresses, ports, initial sequence numbers and timestamps; randomness only through a seeded
random.Random passed in by the caller.
"""
import os
import struct
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(_HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "examples", "demo"))
import pktlib as P  # noqa: E402,F401  (re-exported for the generators)

# 2026-03-02T00:00:00Z in microseconds: inside the validity of every legal basis the cases use
# (EX-TRANSIT-2026 from 2026-01-01, SCC-2025-0042 until 2027-05-31).
T0_US = 1772409600 * 1000000

# The example policy's actors (examples/policy/ftz-demo.toml).
DOMESTIC_CLIENT = "10.1.0.21"        # domestic zone 10.1.0.0/16
DOMESTIC_SERVER = "10.1.5.5"
SG_ANALYTICS = "198.51.100.20"       # counterparty sg-analytics (198.51.100.0/26, 443/8443),
SG_PORT = 8443                       # allowed_categories = ["pi.contact"] only
EU_HQ = "203.0.113.10"               # counterparty eu-hq, may receive pi.identity

VALID_ID = b"11010519491231002X"     # GB 11643 valid (shared/reference/test-vectors.txt)


def json_body(idvalue: bytes, key: bytes = b"idcard") -> bytes:
    return (b'{"name":"\xe5\xbc\xa0\xe4\xb8\x89","' + key + b'":"' + idvalue +
            b'","city":"Wuhu","note":"upload batch 7"}')


def http_post(body: bytes, host: bytes = b"collector.example.net", path: bytes = b"/upload") -> bytes:
    return (b"POST " + path + b" HTTP/1.1\r\nHost: " + host +
            b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
            b"\r\n\r\n" + body)


def http_response(body: bytes, status: bytes = b"200 OK") -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n\r\n" + body)


HTTP_OK_EMPTY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Conn:
    """One TCP connection with explicit control of segment boundaries, order and retransmissions.

    Offsets are stream offsets (0 = first payload byte) per direction; the sequence number of
    offset o is isn + 1 + o. Frames are plain bytes; the caller orders them and writes the pcap.
    """

    def __init__(self, client, server, cport, sport, isn_c=100000, isn_s=900000):
        self.c, self.s, self.cp, self.sp = client, server, cport, sport
        self.isn = {True: isn_c, False: isn_s}
        self.sent = {True: 0, False: 0}      # payload bytes sent so far per direction
        self.v6 = ":" in client

    def _frame(self, from_client, seq, ack, flags, payload=b""):
        if from_client:
            a = (self.c, self.s, self.cp, self.sp, seq, ack, flags, payload)
        else:
            a = (self.s, self.c, self.sp, self.cp, seq, ack, flags, payload)
        return P.tcp6_frame(*a) if self.v6 else P.tcp4_frame(*a)

    def seq(self, from_client, offset):
        return self.isn[from_client] + 1 + offset

    def ack_for(self, from_client):
        """The ack a sender in this direction carries: everything the peer has sent so far."""
        return self.seq(not from_client, self.sent[not from_client])

    def handshake(self):
        return [
            self._frame(True, self.isn[True], 0, P.SYN),
            self._frame(False, self.isn[False], self.isn[True] + 1, P.SYN | P.ACK),
            self._frame(True, self.isn[True] + 1, self.isn[False] + 1, P.ACK),
        ]

    def segment(self, from_client, offset, payload, flags=P.PSH | P.ACK):
        """A data segment at an explicit stream offset (does not advance the stream)."""
        return self._frame(from_client, self.seq(from_client, offset), self.ack_for(from_client),
                           flags, payload)

    def send(self, from_client, data, cuts=(), order=None):
        """Sends data cut at the given offsets (relative to data). order: permutation of segment
        indexes (default: in order). Returns the frames; the stream advances by len(data)."""
        bounds = [0] + sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]
        base = self.sent[from_client]
        segs = [self.segment(from_client, base + bounds[i], data[bounds[i]:bounds[i + 1]])
                for i in range(len(bounds) - 1)]
        if order is not None:
            assert sorted(order) == list(range(len(segs))), "order must be a permutation"
            segs = [segs[i] for i in order]
        self.sent[from_client] += len(data)
        return segs

    def ack(self, from_client):
        return self._frame(from_client, self.seq(from_client, self.sent[from_client]),
                           self.ack_for(from_client), P.ACK)

    def close(self):
        """Client FIN, server FIN, final ACK."""
        f1 = self._frame(True, self.seq(True, self.sent[True]), self.ack_for(True), P.FIN | P.ACK)
        f2 = self._frame(False, self.seq(False, self.sent[False]), self.seq(True, self.sent[True]) + 1,
                         P.FIN | P.ACK)
        f3 = self._frame(True, self.seq(True, self.sent[True]) + 1, self.seq(False, self.sent[False]) + 1,
                         P.ACK)
        return [f1, f2, f3]


def upload(conn, body, cuts=(), order=None, response=HTTP_OK_EMPTY):
    """Handshake, an HTTP POST of body (request cut at `cuts`, offsets relative to the whole
    request), the server's response, close."""
    req = http_post(body)
    return (conn.handshake() + conn.send(True, req, cuts=cuts, order=order) +
            conn.send(False, response) + conn.close())


def body_offset(body, needle=VALID_ID):
    """Offset of needle inside the HTTP request carrying body."""
    req = http_post(body)
    i = req.find(needle)
    assert i >= 0
    return i


def write(path, frames, t0_us=T0_US, step_us=1000):
    """Classic pcap, one frame every step_us microseconds from t0_us."""
    P.write_pcap(path, [(t0_us + (i + 1) * step_us, f) for i, f in enumerate(frames)])
    return path


def pcap_header():
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def main_for(generate):
    """`python3 gen.py OUTDIR` entry point shared by the generators."""
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for name, path in sorted(generate(out).items()):
        print(f"{name}: {path}")


def read_pcap(path):
    """Records of a classic microsecond pcap written by write(): [(t_us, frame), ...]."""
    with open(path, "rb") as f:
        data = f.read()
    assert struct.unpack_from("<I", data, 0)[0] == 0xA1B2C3D4, path
    out, off = [], 24
    while off < len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        off += 16
        out.append((sec * 1000000 + usec, data[off:off + incl]))
        off += incl
    return out


def ipv4_src(frame):
    """Source address of an untagged IPv4 Ethernet frame, or None."""
    if struct.unpack_from("!H", frame, 12)[0] != P.ETH_IPV4:
        return None
    return ".".join(str(b) for b in frame[26:30])
