#!/usr/bin/env python3
"""http_codings: every content coding and MIME wrapper the decoding layer reads, each hiding the
resident ID from the raw bytes, with clean controls; each finding names its decoding path.
Uploads from the domestic client to sg-analytics (may not receive pi.identity) under
examples/policy/ftz-demo.toml. Run: gen.py OUTDIR.

  53001  Content-Encoding: br, JSON with the ID                       -> block
  53002  br, clean JSON                                               -> allow
  53003  deflate as a raw DEFLATE stream (no zlib header), ID         -> block
  53004  deflate as a zlib stream (RFC 9110), ID                      -> block
  53005  x-gzip, ID                                                   -> block
  53006  x-gzip, clean                                                -> allow
  53007  Content-Encoding: gzip, br (two layers, decoded br first)     -> block
  53008  multipart/form-data, file part Content-Transfer-Encoding: base64 (CSV with the ID)
  53009  multipart/form-data, part in quoted-printable (every byte =XX) -> block
  53010  multipart/mixed, second part base64                          -> block
  53011  multipart/form-data, base64 and QP parts, clean              -> allow
  53012  gzip'd multipart/form-data, the ID in a base64 part          -> block
  53013  Transfer-Encoding: chunked + Content-Encoding: br, 5-byte chunks -> block
  53014  deflate raw, clean                                           -> allow
"""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
import decodelib as D  # noqa: E402

JSON = b"Content-Type: application/json\r\n"
CSV = b"name,idcard,city\r\nZhang San," + R.VALID_ID + b",Wuhu\r\n"
CLEAN_CSV = b"shipment,containers\r\nSH-2026-0001,4\r\n"


def conn(port):
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


def coded(port, body, coding, extra=b""):
    return D.exchange(conn(port), D.request(body, JSON + b"Content-Encoding: " + coding +
                                            b"\r\n" + extra))


def form_data(parts, boundary=b"----dcBoundary7MA4YWxk"):
    """multipart/form-data: parts = [(name, filename or None, cte or None, payload)]."""
    mp = []
    for name, filename, cte, payload in parts:
        h = b'Content-Disposition: form-data; name="' + name + b'"'
        if filename:
            h += b'; filename="' + filename + b'"'
        h += b"\r\n"
        if filename:
            h += b"Content-Type: text/csv\r\n"
        if cte:
            h += b"Content-Transfer-Encoding: " + cte + b"\r\n"
        mp.append((h, payload))
    return D.multipart(boundary, mp), b"multipart/form-data; boundary=" + boundary


def b64(data):
    return base64.encodebytes(data)  # 76-column lines, as mail/MIME writers do


def generate(out):
    id_json = R.json_body(R.VALID_ID)
    frames = []
    frames += coded(53001, D.brotli(id_json), b"br")
    frames += coded(53002, D.brotli(D.CLEAN), b"br")
    frames += coded(53003, D.raw_deflate(id_json), b"deflate")
    frames += coded(53004, D.zlib_deflate(id_json), b"deflate")
    frames += coded(53005, D.gz(id_json), b"x-gzip")
    frames += coded(53006, D.gz(D.CLEAN), b"x-gzip")
    frames += coded(53007, D.brotli(D.gz(id_json)), b"gzip, br")

    body, ctype = form_data([(b"batch", None, None, b"7"),
                             (b"file", b"people.csv", b"base64", b64(CSV))])
    frames += D.exchange(conn(53008), D.request(body, b"Content-Type: " + ctype + b"\r\n"))
    body, ctype = form_data([(b"note", None, b"quoted-printable", D.quoted_printable_all(CSV))])
    frames += D.exchange(conn(53009), D.request(body, b"Content-Type: " + ctype + b"\r\n"))
    mixed = D.multipart(b"mixed-b0und", [(b"Content-Type: text/plain\r\n", b"batch 7 attached"),
                                         (b"Content-Type: text/csv\r\n"
                                          b"Content-Transfer-Encoding: base64\r\n", b64(CSV))])
    frames += D.exchange(conn(53010), D.request(
        mixed, b"Content-Type: multipart/mixed; boundary=\"mixed-b0und\"\r\n"))
    body, ctype = form_data([(b"file", b"ship.csv", b"base64", b64(CLEAN_CSV)),
                             (b"note", None, b"quoted-printable",
                              D.quoted_printable_all(CLEAN_CSV))])
    frames += D.exchange(conn(53011), D.request(body, b"Content-Type: " + ctype + b"\r\n"))
    body, ctype = form_data([(b"batch", None, None, b"7"),
                             (b"file", b"people.csv", b"base64", b64(CSV))])
    frames += D.exchange(conn(53012), D.request(
        D.gz(body), b"Content-Type: " + ctype + b"\r\nContent-Encoding: gzip\r\n"))
    frames += D.exchange(conn(53013), D.request(
        D.chunked(D.brotli(id_json), 5),
        JSON + b"Content-Encoding: br\r\nTransfer-Encoding: chunked\r\n", length=False))
    frames += coded(53014, D.raw_deflate(D.CLEAN), b"deflate")
    return {"codings.pcap": R.write(os.path.join(out, "codings.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
