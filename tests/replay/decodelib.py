"""Shared builders for the HTTP decoding replay cases (http_codings, http_responses,
http_anomalies, decoded_split_offsets): content codings, chunked framing, multipart bodies.

Deterministic: gzip without mtime, Brotli through the system libbrotlienc (Python has no brotli
module here; libbrotli-dev is a build dependency anyway) at fixed quality and window.
"""
import ctypes
import ctypes.util
import gzip
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
