#!/usr/bin/env python3
"""http_anomalies: every ambiguous HTTP/1.x framing the decoding layer names (http_anomaly, the
name in the reason's detail) and every decoding condition that leaves content uninspected
(content_uninspected), including both decompression-bomb limits; with well-formed controls.
Uploads from the domestic client to sg-analytics under examples/policy/ftz-demo.toml; no body
carries personal data, so each block comes from the named condition alone. Run: gen.py OUTDIR.
Also a CONNECT tunnel (tunnel: opaque payload) and a JSON lone surrogate (noted only).
See README.md for the table of ports and names.
"""
import os
import random
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
import decodelib as D  # noqa: E402

HOST = b"Host: collector.example.net\r\n"
POST = b"POST /upload HTTP/1.1\r\n"
BODY = D.CLEAN
CL = b"Content-Length: %d\r\n" % len(BODY)


def conn(port):
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


def raw(port, req, answer=R.HTTP_OK_EMPTY):
    return D.exchange(conn(port), req, answer)


def bomb_output_limit():
    """~65 MiB that deflates about 1:137 (one random byte every 600 zeros; the 1 MiB unit
    repeats beyond the 32 KiB window, so the ratio stays the same all along): above the default
    64 MiB output limit of a flow direction, under the 1:200 ratio limit."""
    rnd = random.Random(11)
    unit = bytearray(1 << 20)
    for i in range(0, len(unit), 600):
        unit[i] = rnd.randrange(1, 256)
    c = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip wrapper, no mtime
    out = [c.compress(bytes(unit)) for _ in range(65)]
    return b"".join(out) + c.flush()


def cases():
    """[(port, request bytes, response bytes)]"""
    chunked_body = D.chunked(BODY, 16)
    te = b"Transfer-Encoding: chunked\r\n"
    out = [
        (55001, POST + HOST + te + CL + b"\r\n" + chunked_body, None),
        (55002, POST + HOST + CL + b"Content-Length: %d\r\n\r\n" % (len(BODY) + 4) + BODY + b"abcd",
         None),
        (55003, POST + HOST + CL + CL + b"\r\n" + BODY, None),
        (55004, POST + HOST + b"Content-Length: %d, %d\r\n\r\n" % (len(BODY), len(BODY) + 1) +
         BODY, None),
        (55005, POST + HOST + b"Content-Length: %dabc\r\n\r\n" % len(BODY) + BODY, None),
        (55006, POST + HOST + b"Transfer-Encoding:\r\n chunked\r\n\r\n" + chunked_body, None),
        (55007, POST + HOST + b"Content-Length : %d\r\n\r\n" % len(BODY) + BODY, None),
        (55008, POST + HOST + b"X-Batch 7\r\n" + CL + b"\r\n" + BODY, None),
        (55009, POST + HOST + b"X-Batch: 7\x00\r\n" + CL + b"\r\n" + BODY, None),
        (55010, POST + b" X-Lead: 1\r\n" + HOST + CL + b"\r\n" + BODY, None),
        (55011, POST + HOST + b"Transfer-Encoding: chunked, gzip\r\n\r\n" + chunked_body, None),
        (55012, POST + HOST + b"Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked_body, None),
        (55013, b"POST /upload HTTP/1.0\r\n" + HOST + te + b"\r\n" + chunked_body, None),
        (55014, POST + HOST + te + b"\r\nzz\r\n" + BODY + b"\r\n0\r\n\r\n", None),
        (55015, POST + HOST + te + b"\r\n%x junk\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n", None),
        (55016, POST + HOST + te + b"\r\n%x\r\n" % len(BODY) + BODY + b"XX0\r\n\r\n", None),
        (55017, POST + HOST + te + b"\r\n" + chunked_body + b"smuggled bytes\r\n\r\n", None),
        (55018, POST + HOST + te + b"\r\n" + chunked_body[:-2] + b"Bad Trailer\r\n\r\n", None),
        (55019, POST + HOST + b"X-Pad: " + b"a" * 70000 + b"\r\n" + CL + b"\r\n" + BODY, None),
        (55020, POST + HOST + CL + b"\r\n" + BODY,
         b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (55021, POST + HOST + CL + b"\r\n" + BODY, R.HTTP_OK_EMPTY + R.HTTP_OK_EMPTY),
        (55022, POST + HOST + b"Content-Length: %d\r\n\r\n" % (len(BODY) + 100) + BODY, None),
        # Controls: bare LF line ends (RFC 9112 §2.2 allows them), chunk extensions + trailer.
        (55023, (POST + HOST + CL).replace(b"\r\n", b"\n") + b"\n" + BODY, None),
        (55024, POST + HOST + te + b"Trailer: X-Sum\r\n\r\n" +
         D.chunked(BODY, 16).replace(b"\r\n", b";ext=1\r\n", 1)[:-2] + b"X-Sum: 7\r\n\r\n", None),
        # Decoding conditions (content_uninspected).
        (55025, POST + HOST + b"Content-Encoding: zstd\r\n" + CL + b"\r\n" + BODY, None),
        (55026, POST + HOST + b"Transfer-Encoding: compress, chunked\r\n\r\n" + chunked_body,
         None),
    ]
    g4 = D.gz(D.gz(D.gz(D.gz(BODY))))
    out.append((55027, POST + HOST + b"Content-Encoding: gzip, gzip, gzip, gzip\r\n" +
                b"Content-Length: %d\r\n\r\n" % len(g4) + g4, None))
    bad = bytearray(D.gz(BODY * 4))
    for i in range(14, 40):
        bad[i] ^= 0x5A
    out.append((55028, POST + HOST + b"Content-Encoding: gzip\r\n" +
                b"Content-Length: %d\r\n\r\n" % len(bad) + bytes(bad), None))
    trail = D.gz(BODY) + b"PLAINTEXT AFTER THE GZIP MEMBER"
    out.append((55029, POST + HOST + b"Content-Encoding: gzip\r\n" +
                b"Content-Length: %d\r\n\r\n" % len(trail) + trail, None))
    ratio = D.gz(b"\0" * (4 << 20))
    out.append((55030, POST + HOST + b"Content-Encoding: gzip\r\n" +
                b"Content-Length: %d\r\n\r\n" % len(ratio) + ratio, None))
    big = bomb_output_limit()
    out.append((55031, POST + HOST + b"Content-Type: application/octet-stream\r\n"
                b"Content-Encoding: gzip\r\n" + b"Content-Length: %d\r\n\r\n" % len(big) + big,
                None))
    mp = b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n"
    out.append((55032, POST + HOST + b"Content-Type: multipart/form-data\r\n" +
                b"Content-Length: %d\r\n\r\n" % len(mp) + mp, None))
    for port, data in ((55033, D.zlib_deflate(BODY) + b"PLAINTEXT AFTER THE ZLIB STREAM"),
                       (55034, D.brotli(BODY) + b"PLAINTEXT AFTER THE BROTLI STREAM")):
        coding = b"deflate" if port == 55033 else b"br"
        out.append((port, POST + HOST + b"Content-Encoding: " + coding + b"\r\n" +
                    b"Content-Length: %d\r\n\r\n" % len(data) + data, None))
    return out


def tunnel(port):
    """A CONNECT the server accepts, then bytes that are no HTTP (a TLS ClientHello's start)."""
    c = conn(port)
    req = b"CONNECT collector.example.net:443 HTTP/1.1\r\nHost: collector.example.net:443\r\n\r\n"
    hello = bytes.fromhex("160301006e0100006a0303") + bytes(range(32)) + b"\x00\x00\x02\x13\x01"
    return (c.handshake() + c.send(True, req) +
            c.send(False, b"HTTP/1.1 200 Connection established\r\n\r\n") + c.send(True, hello) +
            c.send(False, b"\x15\x03\x03\x00\x02\x02\x28") + c.close())


def generate(out):
    frames = []
    for port, req, answer in cases():
        frames += raw(port, req, answer or R.HTTP_OK_EMPTY)
    frames += tunnel(55035)
    lone = b'{"shipment":"SH-2026-0001","note":"\\ud83d without its pair","port":"Wuhu"}'
    frames += raw(55036, POST + HOST + b"Content-Type: application/json\r\n" +
                  b"Content-Length: %d\r\n\r\n" % len(lone) + lone)
    return {"anomalies.pcap": R.write(os.path.join(out, "anomalies.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
