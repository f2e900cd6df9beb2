#!/usr/bin/env python3
"""host_endpoints: plaintext HTTP to endpoints named by `sni` is matched by its Host. Run: gen.py OUTDIR.

Writes http.pcap and policy_http.toml: examples/policy/ftz-demo.toml with the two endpoints named
by server name also open on port 80 (eu-hq: 203.0.113.10, sni api.eu-hq.example; us-travel:
203.0.113.64/26, sni *.booking.example), us-travel restricted to pi.contact (so a resident ID to
it is blocked), and its [[test]] cases cut off (they name payload files next to the original).

  52001  Host: api.eu-hq.example, clean upload               -> allow, whitelisted:eu-hq
  52002  Host: API.EU-HQ.Example:80 (case, port)             -> allow
  52003  Host: files.attacker.example to eu-hq's address     -> no_counterparty
  52004  Host: www.booking.example (wildcard rule)           -> allow, whitelisted:us-travel
  52005  Host: www.booking.example, resident ID in the body  -> block category_not_allowed
  52006  Host: booking.example (the wildcard excludes it)    -> no_counterparty
  52007  two Host fields (RFC 9112 §3.2)                     -> no_counterparty
  52008  absolute-form target names another host than Host  -> no_counterparty
  52009  request head cut before the Host line; the first segment is retransmitted after the
         second (the sender's retransmission of what the appliance dropped while waiting)
                                                             -> allow
  52010  as 52009 but the resident ID sits in the first segment's query string, to us-travel
                                                             -> block category_not_allowed
  52011  Host: 203.0.113.10 (an address, not a name)         -> no_counterparty
  keep-alive: two requests on one connection (each answered), the first names the endpoint:
  52012  the second names the same server (case and port differ) -> allow
  52013  the second names another server                     -> block server_name_changed
  52014  the second has two Host fields                      -> block server_name_changed
  52015  us-travel: the second names another name the wildcard also covers
         (www.booking.example, then api.booking.example)     -> block server_name_changed
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

EU_HQ = "203.0.113.10"
BOOKING = "203.0.113.70"
CLEAN = b'{"order":"SO-2026-0815","items":3,"city":"Wuhu"}'


def request(host_lines, body, target=b"/upload"):
    return (b"POST " + target + b" HTTP/1.1\r\n" + b"".join(b"Host: " + h + b"\r\n" for h in host_lines) +
            b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
            b"\r\n\r\n" + body)


def exchange(port, server, req, cuts=()):
    c = R.Conn(R.DOMESTIC_CLIENT, server, port, 80, isn_c=port * 1000)
    return c.handshake() + c.send(True, req, cuts=cuts) + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def split_with_retransmission(port, server, req, cut):
    """The head in two segments; the first is sent again after the second (a retransmission)."""
    c = R.Conn(R.DOMESTIC_CLIENT, server, port, 80, isn_c=port * 1000)
    frames = c.handshake()
    first, second = c.segment(True, 0, req[:cut]), c.segment(True, cut, req[cut:])
    c.sent[True] = len(req)
    return frames + [first, second, first] + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def keep_alive(port, server, first_hosts, second_hosts):
    c = R.Conn(R.DOMESTIC_CLIENT, server, port, 80, isn_c=port * 1000)
    frames = c.handshake() + c.send(True, request(first_hosts, CLEAN))
    frames += c.send(False, R.HTTP_OK_EMPTY) + c.send(True, request(second_hosts, CLEAN))
    return frames + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def write_policy(out):
    src = os.path.join(R.SOURCE_DIR, "examples", "policy", "ftz-demo.toml")
    text = open(src, encoding="utf-8").read()
    edits = [
        ('ports = [443], sni = ["api.eu-hq.example"]', 'ports = [80, 443], sni = ["api.eu-hq.example"]'),
        ('sni = ["*.booking.example"], ports = [443]', 'sni = ["*.booking.example"], ports = [80, 443]'),
        ('legal_bases = ["EX-CONTRACT-2026"]\n',
         'legal_bases = ["EX-CONTRACT-2026"]\nallowed_categories = ["pi.contact"]\n'),
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    text = text[:text.index("\n[[test]]")] + "\n"
    path = os.path.join(out, "policy_http.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def generate(out):
    id_body = R.json_body(R.VALID_ID)
    frames = []
    frames += exchange(52001, EU_HQ, request([b"api.eu-hq.example"], CLEAN))
    frames += exchange(52002, EU_HQ, request([b"API.EU-HQ.Example:80"], CLEAN))
    frames += exchange(52003, EU_HQ, request([b"files.attacker.example"], CLEAN))
    frames += exchange(52004, BOOKING, request([b"www.booking.example"], CLEAN))
    frames += exchange(52005, BOOKING, request([b"www.booking.example"], id_body))
    frames += exchange(52006, BOOKING, request([b"booking.example"], CLEAN))
    frames += exchange(52007, EU_HQ, request([b"api.eu-hq.example", b"api.eu-hq.example"], CLEAN))
    frames += exchange(52008, EU_HQ, request([b"api.eu-hq.example"], CLEAN,
                                             target=b"http://files.attacker.example/upload"))
    req = request([b"api.eu-hq.example"], CLEAN)
    frames += split_with_retransmission(52009, EU_HQ, req, req.index(b"Host:"))
    req = request([b"www.booking.example"], CLEAN, target=b"/q?idcard=" + R.VALID_ID)
    frames += split_with_retransmission(52010, BOOKING, req, req.index(b"Host:"))
    frames += exchange(52011, EU_HQ, request([EU_HQ.encode()], CLEAN))
    eu = [b"api.eu-hq.example"]
    frames += keep_alive(52012, EU_HQ, eu, [b"API.eu-hq.example:80"])
    frames += keep_alive(52013, EU_HQ, eu, [b"files.attacker.example"])
    frames += keep_alive(52014, EU_HQ, eu, eu + eu)
    frames += keep_alive(52015, BOOKING, [b"www.booking.example"], [b"api.booking.example"])
    return {"http.pcap": R.write(os.path.join(out, "http.pcap"), frames),
            "policy_http": write_policy(out)}


if __name__ == "__main__":
    R.main_for(generate)
