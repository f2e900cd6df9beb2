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
  57300+k  JSON body, the ID written as \\u00XX escapes, the request cut k bytes into the
           escapes (k = 1 .. 107)
  57500+k  JSON body whose field holds a base64 run of a text carrying the ID, the request cut
           k bytes into the run (k = 1 .. len(run) - 1)
  57700+k  multipart upload, the ID in a base64 part, the request cut k bytes into the part's
           base64 (k = 1 .. len - 1)
  57900+k  multipart upload, the ID in a quoted-printable part (every byte =XX), the request cut
           k bytes into it (k = 1 .. 53)
"""
import base64
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
    frames += encoded_splits()
    return {"split.pcap": R.write(os.path.join(out, "split.pcap"), frames)}


def cut_flows(base, req, hidden):
    """One flow per cut k = 1 .. len(hidden) - 1 bytes into `hidden`, where it sits in req."""
    at = req.find(hidden)
    assert at >= 0
    return [f for k in range(1, len(hidden)) for f in flow(base + k, req, [at + k])]


def encoded_splits():
    """The ID behind JSON escapes, a base64 run and multipart transfer encodings, split at every
    offset of its encoded form."""
    esc = b"".join(b"\\u%04x" % b for b in R.VALID_ID)
    frames = cut_flows(57300, D.request(b'{"name":"x","idcard":"' + esc + b'"}', JSON), esc)
    run = base64.b64encode(b"name: Wang Fang; idcard: " + R.VALID_ID + b"; city: Wuhu")
    frames += cut_flows(57500, D.request(b'{"doc":"' + run + b'"}', JSON), run)
    boundary = b"dc-split"
    mp = b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
    disp = b'Content-Disposition: form-data; name="file"; filename="p.txt"\r\n'
    b64 = base64.b64encode(b"idcard " + R.VALID_ID + b"\n")
    body = D.multipart(boundary, [(disp + b"Content-Transfer-Encoding: base64\r\n", b64)])
    frames += cut_flows(57700, D.request(body, mp), b64)
    qp = D.quoted_printable_all(R.VALID_ID)
    body = D.multipart(boundary, [(disp + b"Content-Transfer-Encoding: quoted-printable\r\n", qp)])
    frames += cut_flows(57900, D.request(body, mp), qp)
    return frames


if __name__ == "__main__":
    print("gzip length:", gzip_len())
    R.main_for(generate)
