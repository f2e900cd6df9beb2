#!/usr/bin/env python3
# Writes the seed corpus of fuzz_h2 (tests/fuzz/corpus/h2/): HTTP/2 client and server streams
# built from frames and HPACK literals (no Huffman, no indexing, so the seeds are easy to mutate).
# Input layout of fuzz_h2: byte 0 (split size; top bit clear: the fuzzer prepends the client
# preface), client frames, "\n~~\n", server frames.
import gzip
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "h2")


def frame(ftype, flags, stream, payload):
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags, stream) + payload


def lit(name, value):  # RFC 7541 §6.2.2 literal without indexing, new name, short strings
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def block(fields):
    return b"".join(lit(n, v) for n, v in fields)


SETTINGS = frame(4, 0, 0, struct.pack(">HI", 4, 65535))
REQ = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"a.example"),
       (b":path", b"/up?id=%31%31")]
RESP = [(b":status", b"200")]
body = gzip.compress(b'{"id":"11010519491231002X","n":"\\u5f20"}', mtime=0)

seeds = {
    "post_gzip_json": frame(1, 4, 1, block(REQ + [(b"content-type", b"application/json"),
                                                  (b"content-encoding", b"gzip")]))
    + frame(0, 0, 1, body[:10]) + frame(0, 1, 1, body[10:]),
    "padded_continuation": frame(1, 0x08, 1, b"\x02" + block(REQ[:2]) + b"\0\0")
    + frame(9, 4, 1, block(REQ[2:])) + frame(0, 0x09, 1, b"\x01hi\0"),
    "two_streams_rst": frame(1, 4, 1, block(REQ)) + frame(1, 4, 3, block(REQ))
    + frame(0, 0, 1, b"one") + frame(0, 0, 3, b"three") + frame(3, 0, 1, b"\0\0\0\x08")
    + frame(0, 1, 3, b"end"),
    "multipart": frame(1, 4, 1, block(REQ + [(b"content-type", b"multipart/form-data; boundary=b")]))
    + frame(0, 1, 1, b"--b\r\ncontent-disposition: form-data; name=x\r\n\r\nvalue\r\n--b--\r\n"),
    "control": frame(6, 0, 0, b"12345678") + frame(8, 0, 0, b"\0\0\x10\0")
    + frame(2, 0, 1, b"\0\0\0\x03\x10") + frame(7, 0, 0, b"\0\0\0\x01\0\0\0\0dbg"),
}
server = SETTINGS + frame(1, 4, 1, block(RESP + [(b"content-encoding", b"gzip")])) \
    + frame(5, 4, 1, b"\0\0\0\x02" + block(REQ)) + frame(0, 1, 1, body)

os.makedirs(OUT, exist_ok=True)
for i, (name, client) in enumerate(sorted(seeds.items())):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([7 + i]) + SETTINGS + client + b"\n~~\n" + server)
