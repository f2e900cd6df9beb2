#!/usr/bin/env python3
"""decoded_split_offsets: the resident ID split across decoded boundaries at every offset, like
split_offsets does for raw TCP segments. Uploads from the domestic client to sg-analytics under
examples/policy/ftz-demo.toml; every flow must be blocked for pi.identity. Run: gen.py OUTDIR.

  56000+k  gzip'd JSON body, the request cut into two TCP segments k bytes into the gzip data
           (k = 1 .. len(gzip) - 1)
  56200+k  chunked JSON (no coding): a chunk ends after k bytes of the ID (k = 1..17), both
           chunks in one TCP segment (the raw bytes never show the ID)
  56300+k  the same, the TCP segment also cut at that chunk boundary
  56400+k  gzip'd JSON with a deflate sync flush after k bytes of the ID and the TCP segment cut
           right after the flush: the decompressor emits the ID in two pieces (k = 1..17)
  57000+k  gzip'd JSON, chunked into two chunks that meet k bytes into the gzip data, each chunk
           in its own TCP segment (k = 1 .. len(gzip) - 1)
  57200+k  form body, the ID percent-encoded byte by byte, the request cut k bytes into the
           encoded ID (k = 1 .. 53)
"""
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
import decodelib as D  # noqa: E402

GZ_JSON = b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
JSON = b"Content-Type: application/json\r\n"
CHUNKED = b"Transfer-Encoding: chunked\r\n"


def conn(port):
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


def flow(port, req, cuts):
    c = conn(port)
    assert R.VALID_ID not in req, "the raw bytes must not show the ID"
    return c.handshake() + c.send(True, req, cuts=cuts) + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def gz_flushed(data, at):
    """gzip of data with a Z_SYNC_FLUSH after data[:at]; returns (stream, offset of the flush)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = c.compress(data[:at]) + c.flush(zlib.Z_SYNC_FLUSH)
    return first + c.compress(data[at:]) + c.flush(), len(first)


def gzip_len():
    return len(D.gz(R.json_body(R.VALID_ID)))


def generate(out):
    body = R.json_body(R.VALID_ID)
    at = body.find(R.VALID_ID)
    gzb = D.gz(body)
    frames = []
    req = D.request(gzb, GZ_JSON)
    start = len(req) - len(gzb)
    for k in range(1, len(gzb)):
        frames += flow(56000 + k, req, [start + k])
    for k in range(1, len(R.VALID_ID)):
        parts = [body[:at + k], body[at + k:]]
        req = D.request(D.chunks(parts), JSON + CHUNKED, length=False)
        frames += flow(56200 + k, req, [])
        head = len(req) - len(D.chunks(parts))
        frames += flow(56300 + k, req, [head + len(D.chunks(parts[:1])) - len(b"0\r\n\r\n")])
    for k in range(1, len(R.VALID_ID)):
        stream, flushed = gz_flushed(body, at + k)
        req = D.request(stream, GZ_JSON)
        frames += flow(56400 + k, req, [len(req) - len(stream) + flushed])
    for k in range(1, len(gzb)):
        chunks = D.chunks([gzb[:k], gzb[k:]])
        req = D.request(chunks, GZ_JSON + CHUNKED, length=False)
        first = len(req) - len(chunks) + len(b"%x\r\n" % k) + k + 2
        frames += flow(57000 + k, req, [first])
    enc = b"".join(b"%%%02X" % b for b in R.VALID_ID)
    form = b"a=1&idcard=" + enc + b"&b=2"
    req = D.request(form, b"Content-Type: application/x-www-form-urlencoded\r\n")
    for k in range(1, len(enc)):
        frames += flow(57200 + k, req, [req.find(enc) + k])
    return {"split.pcap": R.write(os.path.join(out, "split.pcap"), frames)}


if __name__ == "__main__":
    print("gzip length:", gzip_len())
    R.main_for(generate)
