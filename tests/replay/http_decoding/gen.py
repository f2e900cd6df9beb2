#!/usr/bin/env python3
"""http_decoding: IDs hidden by HTTP/1.x framing and content codings are found through the
decoding layer in the per-packet pipeline; ambiguous framing and undecodable content are named
conditions. Run: gen.py OUTDIR. Also writes policy_lenient.toml (ftz-demo.toml with
`http_anomaly = "allow"`, `content_uninspected = "alert"`).

Uploads from the domestic client to sg-analytics (may not receive pi.identity) under
examples/policy/ftz-demo.toml; none of the requests shows the resident ID in its raw bytes.

  52001  gzip'd JSON body carrying the ID                      -> block (category through gzip)
  52002  gzip'd JSON, chunked (chunk boundaries inside the gzip data) -> block
  52003  form body, every byte of the ID percent-encoded     -> block
  52004  clean gzip'd JSON upload                            -> allow
  52005  Content-Length and Transfer-Encoding: chunked (clean body) -> block http_anomaly
  52006  gzip bomb (16 MiB of zeros, ~16 KiB on the wire)    -> block content_uninspected
  52007  deflate (zlib) JSON with \\uXXXX-escaped ID           -> block
  52008  JSON field holding the base64 of a JSON with the ID  -> block
  52009  the gzip'd request of 52001 in 7-byte segments      -> block
  52010  unknown coding (Content-Encoding: compress)         -> block content_uninspected
  52011  plain JSON carrying the ID twice (seen raw and again in the JSON layer): counted twice,
         not four times
"""
import base64
import gzip
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

MSS = 1400
CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'


def conn(port):
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


def gz(data):
    return gzip.compress(data, mtime=0)  # deterministic header


def request(body, headers, length=True):
    head = (b"POST /upload HTTP/1.1\r\nHost: collector.example.net\r\n" + headers)
    if length:
        head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return head + b"\r\n" + body


def chunked(data, size):
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def exchange(port, req, step=MSS, raw_id=False):
    assert raw_id or R.VALID_ID not in req, "the raw bytes must not show the ID"
    c = conn(port)
    cuts = range(step, len(req), step)
    return c.handshake() + c.send(True, req, cuts=cuts) + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def generate(out):
    gz_json = b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
    id_json = R.json_body(R.VALID_ID)
    frames = []
    frames += exchange(52001, request(gz(id_json), gz_json))
    frames += exchange(52002, request(chunked(gz(id_json), 7),
                                      gz_json + b"Transfer-Encoding: chunked\r\n", length=False))
    form = b"a=1&idcard=" + b"".join(b"%%%02X" % b for b in R.VALID_ID) + b"&b=2"
    frames += exchange(52003, request(form, b"Content-Type: application/x-www-form-urlencoded\r\n"))
    frames += exchange(52004, request(gz(CLEAN), gz_json))
    smuggle = (b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
               b"Content-Length: " + str(len(chunked(CLEAN, 32))).encode() + b"\r\n")
    frames += exchange(52005, request(chunked(CLEAN, 32), smuggle, length=False))
    frames += exchange(52006, request(gz(b"\0" * (16 << 20)), gz_json))
    escaped = b"".join(b"\\u%04x" % b for b in R.VALID_ID)
    frames += exchange(52007, request(zlib.compress(R.json_body(escaped)),
                                      b"Content-Type: application/json\r\nContent-Encoding: deflate\r\n"))
    blob = base64.b64encode(id_json)
    frames += exchange(52008, request(b'{"batch":7,"blob":"' + blob + b'"}',
                                      b"Content-Type: application/json\r\n"))
    frames += exchange(52009, request(gz(id_json), gz_json), step=7)
    frames += exchange(52010, request(gz(id_json), b"Content-Encoding: compress\r\n"))
    twice = b'{"a":"' + R.VALID_ID + b'","b":"' + R.VALID_ID + b'"}'
    frames += exchange(52011, request(twice, b"Content-Type: application/json\r\n"), raw_id=True)
    # The same captures under a copy of the policy that lets anomalies pass and only alerts on
    # undecoded content (its [[test]] cases cut off: they name payload files next to the original).
    text = open(os.path.join(R.SOURCE_DIR, "examples", "policy", "ftz-demo.toml"),
                encoding="utf-8").read()
    assert "\n[defaults]\n" in text
    lenient = text.replace("\n[defaults]\n", '\n[defaults]\nhttp_anomaly = "allow"\n'
                           'content_uninspected = "alert"\n', 1)
    lenient = lenient[:lenient.index("\n[[test]]")] + "\n"
    lenient_path = os.path.join(out, "policy_lenient.toml")
    with open(lenient_path, "w", encoding="utf-8") as f:
        f.write(lenient)
    return {"http.pcap": R.write(os.path.join(out, "http.pcap"), frames),
            "policy_lenient": lenient_path}


if __name__ == "__main__":
    R.main_for(generate)
