#!/usr/bin/env python3
"""accounting: distinct persons per basis and year, max_persons = 3 (docs/accounting.md).

Writes persons.pcap: HTTP uploads to eu-hq (203.0.113.10:80, basis SCC-CAP3, max_persons = 3),
one after the other, each carrying resident IDs (GB 11643 valid) of persons 1..5:

  60001  person 1                          -> allow (1 of 3)
  60002  person 2                          -> allow (2 of 3)
  60003  person 3                          -> alert volume_warn (3 of 3 >= 0.9 * 3)
  60004  person 4                          -> block volume_cap (the 4th person); its body
                                              never crosses
  60005  person 2 again                    -> alert (known: counted once, never refused)
  60006  persons 1 and 3 in one body      -> alert (known persons)
  60007  person 5 in a reply (not exported) -> allow: only exported bytes count
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

EU_HQ = "203.0.113.10"


def resident_id(n):
    """An 18-character GB 11643 resident ID: Beijing, born 1980-01-01, sequence n."""
    body = "110105198001" + "01" + "%03d" % (100 + n)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    s = sum(int(c) * w for c, w in zip(body, weights))
    return (body + "10X98765432"[s % 11]).encode()


def post(body):
    return (b"POST /upload HTTP/1.1\r\nHost: api.eu-hq.example\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def body_of(ids):
    return b'{"people":[' + b",".join(b'{"idcard":"' + i + b'"}' for i in ids) + b"]}"


def exchange(port, upload, reply=R.HTTP_OK_EMPTY):
    c = R.Conn(R.DOMESTIC_CLIENT, EU_HQ, port, 80, isn_c=port * 1000)
    return c.handshake() + c.send(True, upload) + c.send(False, reply) + c.close()


def generate(out):
    p = {n: resident_id(n) for n in range(1, 6)}
    frames = []
    frames += exchange(60001, post(body_of([p[1]])))
    frames += exchange(60002, post(body_of([p[2]])))
    frames += exchange(60003, post(body_of([p[3]])))
    frames += exchange(60004, post(body_of([p[4]])))
    frames += exchange(60005, post(body_of([p[2]])))
    frames += exchange(60006, post(body_of([p[1], p[3]])))
    frames += exchange(60007, post(b'{"q":"lookup"}'), R.http_response(body_of([p[5]])))
    return {"persons.pcap": R.write(os.path.join(out, "persons.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
