"""Shared builders for the HTTP decoding replay cases (http_codings, http_responses,
http_anomalies, decoded_split_offsets): content codings, chunked framing, multipart bodies.

Deterministic: gzip without mtime, Brotli through the system libbrotlienc (Python has no brotli
module here; libbrotli-dev is a build dependency anyway) at fixed quality and window.
"""
import ctypes
import ctypes.util
import gzip
import struct
import zlib

import replaylib as R

REQ_HEAD = b"POST /upload HTTP/1.1\r\nHost: collector.example.net\r\n"
CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'


def gz(data):
    return gzip.compress(data, mtime=0)


def zlib_deflate(data):
    return zlib.compress(data, 9)


def raw_deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def brotli(data, quality=5, lgwin=22):
    lib = ctypes.CDLL(ctypes.util.find_library("brotlienc") or "libbrotlienc.so.1")
    cap = len(data) + (len(data) >> 2) + 1024
    out = ctypes.create_string_buffer(cap)
    size = ctypes.c_size_t(cap)
    lib.BrotliEncoderCompress.restype = ctypes.c_int
    ok = lib.BrotliEncoderCompress(ctypes.c_int(quality), ctypes.c_int(lgwin), ctypes.c_int(0),
                                   ctypes.c_size_t(len(data)), data, ctypes.byref(size), out)
    assert ok == 1, "BrotliEncoderCompress failed"
    return out.raw[:size.value]


def chunked(data, size):
    """data in chunks of `size` bytes (the last may be shorter), then the last chunk."""
    return chunks([data[i:i + size] for i in range(0, len(data), size)])


def chunks(parts):
    return b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in parts if p) + b"0\r\n\r\n"


def request(body, headers, length=True, head=REQ_HEAD):
    h = head + headers
    if length:
        h += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return h + b"\r\n" + body


def multipart(boundary, parts):
    """parts: [(headers bytes, body bytes)] -> a multipart body with CRLF delimiters."""
    out = b""
    for headers, body in parts:
        out += b"--" + boundary + b"\r\n" + headers + b"\r\n" + body + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def quoted_printable_all(data):
    """Every byte as =XX (the strongest QP hiding)."""
    return b"".join(b"=%02X" % b for b in data)


def html_refs(value):
    """Every byte as a character reference, decimal and hex alternately."""
    return b"".join((b"&#%d;" if i % 2 == 0 else b"&#x%x;") % c for i, c in enumerate(value))


def exchange(conn, req, response=R.HTTP_OK_EMPTY, step=1400, raw_id=False):
    """Handshake, the request in `step`-byte segments, the response, close."""
    assert raw_id or R.VALID_ID not in req, "the raw bytes must not show the ID"
    # A request longer than the server's 64 KiB window goes in windows of 40 segments, each
    # acknowledged by the server (as real receivers do: data past the advertised window is
    # discarded, RFC 9293 §3.10.7.4, and so dropped by the appliance too).
    window = step * 40
    frames = conn.handshake()
    for at in range(0, len(req), window):
        piece = req[at:at + window]
        frames += conn.send(True, piece, cuts=range(step, len(piece), step))
        if at + window < len(req):
            frames.append(conn.ack(False))
    return frames + conn.send(False, response) + conn.close()


def value(path, category="pi.identity", masked="110105********002X"):
    """The `values` entry replay prints for the resident ID found at `path` (no audit key)."""
    return {"category": category, "masked": masked, "hmac": "", "path": path}


# ---- ZIP archives built record by record (zip_archives, container_split_offsets) -------------

def deflate_flushed(data, flush_at=None):
    """Raw deflate (ZIP method 8); with a Z_SYNC_FLUSH after data[:flush_at]: also returns the
    offset of the flush's end in the compressed bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    if flush_at is None:
        return c.compress(data) + c.flush(), None
    first = c.compress(data[:flush_at]) + c.flush(zlib.Z_SYNC_FLUSH)
    return first + c.compress(data[flush_at:]) + c.flush(), len(first)


class ZipMember:
    """One ZIP member for zip_archive(): method 8 (deflate) or 0 (stored), optionally with a data
    descriptor (signed or not); `packed` overrides the compressed bytes."""

    def __init__(self, name, data, method=8, descriptor=False, signed=True, packed=None):
        self.name, self.data, self.method = name.encode(), data, method
        self.descriptor, self.signed = descriptor, signed
        if packed is None:
            packed = deflate_flushed(data)[0] if method == 8 else data
        self.packed = packed
        self.crc = zlib.crc32(data)


def zip_archive(members, central=True, extra_central=b"", patch=None):
    """APPNOTE 6.3.10 records, little-endian, fixed time/date. Returns (bytes, member offsets).
    `extra_central`: raw central entries appended; `patch(i, entry)` may rewrite entry i."""
    out, cd, offsets = b"", b"", []
    for i, m in enumerate(members):
        flags = 8 if m.descriptor else 0
        sizes = (0, 0, 0) if m.descriptor else (m.crc, len(m.packed), len(m.data))
        offsets.append(len(out))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, m.method, 0, 0x5A21, *sizes,
                           len(m.name), 0) + m.name + m.packed
        if m.descriptor:
            out += (struct.pack("<I", 0x08074B50) if m.signed else b"") + \
                struct.pack("<III", m.crc, len(m.packed), len(m.data))
        entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, m.method, 0, 0x5A21,
                            m.crc, len(m.packed), len(m.data), len(m.name), 0, 0, 0, 0, 0,
                            offsets[-1]) + m.name
        cd += patch(i, entry) if patch else entry
    cd += extra_central
    if not central:
        return out, offsets
    n = cd.count(b"PK\x01\x02")
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd), len(out), 0)
    return out + cd + end, offsets
