#!/usr/bin/env python3
"""foreign_client: a foreign client (203.0.113.10, counterparty eu-hq in the example policy)
opens connections to a domestic server (10.1.5.5:443, plain HTTP) on the crossborder->domestic
link (reply = "inspected"). What the domestic server sends back is exported. Run: gen.py OUTDIR.

  47001  GET; the server answers with a JSON record holding the resident ID
  47002  GET; the server answers with a UnionPay card number (sensitive PI)
  47003  the foreign client POSTs the resident ID to the server (an import, not an export);
         the server answers with a clean body
  47004  GET; the ID answer cut inside the ID into 3 segments sent out of order (2, 0, 1)
  47005  GET; a clean answer
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

GET = b"GET /v1/customers/7 HTTP/1.1\r\nHost: crm.internal.example\r\nAccept: application/json\r\n\r\n"
CARD_BODY = b'{"order":"A-1001","card_number":"6222021234567890128","holder":"ZHANG SAN"}'
CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'


def generate(out):
    frames = []

    def conn(port):
        return R.Conn(R.EU_HQ, R.DOMESTIC_SERVER, port, 443, isn_c=port * 100, isn_s=port * 10)

    id_resp = R.http_response(R.json_body(R.VALID_ID))
    c = conn(47001)
    frames += c.handshake() + c.send(True, GET) + c.send(False, id_resp) + c.close()

    c = conn(47002)
    frames += c.handshake() + c.send(True, GET) + c.send(False, R.http_response(CARD_BODY)) + c.close()

    c = conn(47003)
    frames += (c.handshake() + c.send(True, R.http_post(R.json_body(R.VALID_ID))) +
               c.send(False, R.http_response(CLEAN)) + c.close())

    at = id_resp.find(R.VALID_ID)
    c = conn(47004)
    frames += (c.handshake() + c.send(True, GET) +
               c.send(False, id_resp, cuts=[at + 5, at + 11], order=[2, 0, 1]) + c.close())

    c = conn(47005)
    frames += c.handshake() + c.send(True, GET) + c.send(False, R.http_response(CLEAN)) + c.close()
    return {"foreign_client.pcap": R.write(os.path.join(out, "foreign_client.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
