#!/usr/bin/env python3
"""http_responses: the server -> client direction through the decoding layer. A foreign client
(203.0.113.10) reads a domestic server (10.1.5.5:443, plain HTTP); what the server answers is
exported. Judged under tests/replay/foreign_client/policy.toml (remote-client may read domestic
systems but not receive pi.identity). Run: gen.py OUTDIR.

  54001  GET; 200 chunked + gzip JSON with the ID                        -> block
  54002  GET; 200 chunked + gzip, clean                                  -> allow
  54003  HEAD + GET pipelined; 200 to HEAD with Content-Length: 4000 and no body, then a
         gzip'd answer with the ID (framed wrongly, the HEAD would swallow it) -> block
  54004  the same with a clean second answer (no truncated message)       -> allow
  54005  GET + GET; 204 No Content (no body), then a gzip'd ID            -> block
  54006  GET + GET; 304 with Content-Length: 500 (no body), then chunked + gzip ID -> block
  54007  three pipelined GETs (one segment); clean, clean chunked, gzip'd ID -> block
  54008  three pipelined GETs; clean gzip, clean chunked, 204               -> allow
  54009  POST with Expect: 100-continue; 100 Continue, then a gzip'd ID   -> block
  54010  GET; HTTP/1.1 200, Connection: close, no length: gzip'd ID until the close -> block
  54011  GET; 200 with Content-Encoding: br, the ID (Content-Length)      -> block
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
import decodelib as D  # noqa: E402


def get(path=b"/v1/customers/7"):
    return b"GET " + path + b" HTTP/1.1\r\nHost: crm.internal.example\r\n\r\n"


HEAD = b"HEAD /v1/export.json HTTP/1.1\r\nHost: crm.internal.example\r\n\r\n"


def response(body, headers=b"", status=b"200 OK", length=True):
    h = b"HTTP/1.1 " + status + b"\r\n" + headers
    if length:
        h += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return h + b"\r\n" + body


def gz_json(body):
    return response(D.gz(body), b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n")


def chunked_gz_json(body, size=9):
    return response(D.chunked(D.gz(body), size),
                    b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
                    b"Transfer-Encoding: chunked\r\n", length=False)


def served(port, request, answer, close_after=False):
    c = R.Conn(R.EU_HQ, R.DOMESTIC_SERVER, port, 443, isn_c=port * 100, isn_s=port * 10)
    assert R.VALID_ID not in request + answer, "the raw bytes must not show the ID"
    cuts = range(1400, len(answer), 1400)
    return c.handshake() + c.send(True, request) + c.send(False, answer, cuts=cuts) + c.close()


def generate(out):
    idj = R.json_body(R.VALID_ID)
    frames = []
    frames += served(54001, get(), chunked_gz_json(idj))
    frames += served(54002, get(), chunked_gz_json(D.CLEAN))
    head_ok = response(b"", b"Content-Type: application/json\r\nContent-Length: 4000\r\n",
                       length=False)
    frames += served(54003, HEAD + get(), head_ok + gz_json(idj))
    frames += served(54004, HEAD + get(), head_ok + gz_json(D.CLEAN))
    frames += served(54005, get() + get(), response(b"", status=b"204 No Content", length=False) +
                     gz_json(idj))
    not_modified = response(b"", b"ETag: \"v7\"\r\nContent-Length: 500\r\n",
                            status=b"304 Not Modified", length=False)
    frames += served(54006, get() + get(), not_modified + chunked_gz_json(idj))
    frames += served(54007, get(b"/a") + get(b"/b") + get(b"/c"),
                     response(D.CLEAN, b"Content-Type: application/json\r\n") +
                     chunked_gz_json(D.CLEAN, 13) + gz_json(idj))
    frames += served(54008, get(b"/a") + get(b"/b") + get(b"/c"),
                     gz_json(D.CLEAN) + chunked_gz_json(D.CLEAN, 13) +
                     response(b"", status=b"204 No Content", length=False))
    post = (b"POST /v1/query HTTP/1.1\r\nHost: crm.internal.example\r\nExpect: 100-continue\r\n"
            b"Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"id\":\"7\"}\n")
    frames += served(54009, post, b"HTTP/1.1 100 Continue\r\n\r\n" + gz_json(idj))
    frames += served(54010, get(), response(D.gz(idj), b"Content-Type: application/json\r\n"
                                            b"Content-Encoding: gzip\r\nConnection: close\r\n",
                                            length=False))
    frames += served(54011, get(), response(D.brotli(idj), b"Content-Type: application/json\r\n"
                                            b"Content-Encoding: br\r\n"))
    return {"responses.pcap": R.write(os.path.join(out, "responses.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
