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
  58000+k  JSON body with Content-Encoding: br, the request cut k bytes into the Brotli data
           (k = 1 .. len - 1)
  58100+k  the same with deflate sent as raw DEFLATE (no zlib header)
  58300+k  the same with deflate as a zlib stream (RFC 9110)
  58500+k  text/html body, the ID as numeric character references (&#49; and &#x31;
           alternately), the request cut k bytes into them (k = 1 .. 98)
  58700+k  JSON body whose field holds an unpadded URL-safe base64 run ('-' and '_' before the
           ID) of a text carrying the ID, the request cut k bytes into the run
  58900+k  JSON body whose field holds base64 of the base64 of a text carrying the ID (nested
           once), the request cut k bytes into the outer run
  59100+k  GET request, the ID percent-encoded byte by byte in the query string, the request
           cut k bytes into the encoded ID (k = 1 .. 53)
  59200+k  chunked JSON with chunk extensions on every chunk line, a chunk ends after k bytes of
           the ID (k = 1..17), the TCP segment cut inside the next chunk line's extension
  59300+m  the same with the chunk ending after 9 bytes of the ID, the TCP segment cut m bytes
           into the framing between the two chunks (CRLF, size, extensions, CRLF), at every m
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
    frames += more_encodings()
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


URLSAFE_TEXT = b"ref: ~~~>>>???; idcard: " + R.VALID_ID + b"; city: Wuhu"
NESTED_TEXT = b"name: Wang Fang; idcard: " + R.VALID_ID + b"; city: Wuhu"
CHUNK_EXT = b';sig=ab12;note="part of batch 7"'


def ext_chunks(parts):
    """Chunked framing with CHUNK_EXT on every chunk line (also the last chunk's)."""
    return b"".join(b"%x" % len(p) + CHUNK_EXT + b"\r\n" + p + b"\r\n" for p in parts) + \
        b"0" + CHUNK_EXT + b"\r\n\r\n"


def more_encodings():
    """The remaining encodings of the decoding layer, the ID split at every offset of its encoded
    form: Brotli, raw and zlib deflate, HTML character references, URL-safe and nested base64
    runs, a percent-encoded query string, chunk extensions."""
    body = R.json_body(R.VALID_ID)
    frames = []
    for base, coding, packed in ((58000, b"br", D.brotli(body)),
                                 (58100, b"deflate", D.raw_deflate(body)),
                                 (58300, b"deflate", D.zlib_deflate(body))):
        assert len(packed) < 200
        frames += cut_flows(base, D.request(packed, JSON + b"Content-Encoding: " + coding +
                                            b"\r\n"), packed)
    refs = D.html_refs(R.VALID_ID)
    page = (b"<!DOCTYPE html><html><body><table><tr><td>Zhang San</td><td>ID number " + refs +
            b"</td></tr></table></body></html>")
    frames += cut_flows(58500, D.request(page, b"Content-Type: text/html; charset=utf-8\r\n"), refs)
    run = base64.urlsafe_b64encode(URLSAFE_TEXT).rstrip(b"=")
    head = run[:URLSAFE_TEXT.find(R.VALID_ID) * 4 // 3]  # the characters before the ID's
    assert b"-" in head and b"_" in head and b"+" not in run and b"/" not in run
    frames += cut_flows(58700, D.request(b'{"doc":"' + run + b'"}', JSON), run)
    nested = base64.b64encode(base64.b64encode(NESTED_TEXT))
    assert len(nested) < 200
    frames += cut_flows(58900, D.request(b'{"batch":7,"token":"' + nested + b'"}', JSON), nested)
    enc = b"".join(b"%%%02X" % b for b in R.VALID_ID)
    get = (b"GET /lookup?batch=7&idcard=" + enc + b"&page=2 HTTP/1.1\r\n"
           b"Host: collector.example.net\r\n\r\n")
    frames += cut_flows(59100, get, enc)
    at = body.find(R.VALID_ID)
    for k in range(1, len(R.VALID_ID)):
        framing = ext_chunks([body[:at + k], body[at + k:]])
        req = D.request(framing, JSON + CHUNKED, length=False)
        second = req.find(CHUNK_EXT, req.find(CHUNK_EXT) + 1)
        frames += flow(59200 + k, req, [second + len(CHUNK_EXT) // 2])
    parts = [body[:at + 9], body[at + 9:]]
    req = D.request(ext_chunks(parts), JSON + CHUNKED, length=False)
    between = req.find(parts[0]) + len(parts[0])
    gap = len(b"\r\n%x" % len(parts[1]) + CHUNK_EXT + b"\r\n")
    assert req[between + gap:].startswith(parts[1])
    for m in range(0, gap + 1):
        frames += flow(59300 + m, req, [between + m])
    return frames


def lengths():
    """The port ranges expected.json lists follow from these."""
    body = R.json_body(R.VALID_ID)
    return {"gzip": gzip_len(), "br": len(D.brotli(body)), "raw deflate": len(D.raw_deflate(body)),
            "zlib deflate": len(D.zlib_deflate(body)),
            "url-safe run": len(base64.urlsafe_b64encode(URLSAFE_TEXT).rstrip(b"=")),
            "nested run": len(base64.b64encode(base64.b64encode(NESTED_TEXT))),
            "chunk gap": len(b"\r\n%x" % (len(body) - body.find(R.VALID_ID) - 9) + CHUNK_EXT +
                             b"\r\n")}


if __name__ == "__main__":
    print(lengths())
    R.main_for(generate)
