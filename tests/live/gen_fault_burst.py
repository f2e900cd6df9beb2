#!/usr/bin/env python3
"""Burst captures for the fault-injection test: many border flows at once, to exhaust the audit
ring (flow_open / final outcome slots) and the evidence buffer pool of a tiny `ring_size`.

  inside-rx.pcap   COUNT TCP connections from 10.1.<10+i/250>.<i%250+1>:<40000+i> to sg-analytics
                   (198.51.100.20:8443, examples/policy/ftz-demo.toml), one after the other, each
                   SYN, ACK, upload, FIN or (every fourth) RST (client side only: net_pcap replays both ports as fast as
                   it can, so a server's SYN+ACK could overtake its SYN). Even i: a clean upload
                   with the marker "FB-CLEAN-<port>;"; odd i: an upload carrying the resident ID
                   number (blocked, needs evidence). The first flows find the pools empty, the
                   later ones find them exhausted.
  outside-rx.pcap  one ARP request (the crossborder port needs a capture; dropped).
Deterministic. Usage: gen_fault_burst.py OUTDIR [COUNT]
"""
import os
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(SRC, "examples", "demo"))
import pktlib as P  # noqa: E402

SERVER, PORT = "198.51.100.20", 8443
RESIDENT_ID = b"11010519491231002X"
FIRST_PORT = 40000


def client_ip(i):
    return "10.1.%d.%d" % (10 + i // 250, i % 250 + 1)


def upload(i):
    port = FIRST_PORT + i
    if i % 2 == 0:
        body = b'{"shipment":"FB-CLEAN-%d;","pallets":3}' % port
    else:
        body = b'{"name":"Zhang San","idcard":"' + RESIDENT_ID + b'","ref":"FB-ID-%d;"}' % port
    return (b"POST /upload HTTP/1.1\r\nHost: collector.example.net\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    inside = []
    for i in range(count):
        c = P.TcpConversation(client_ip(i), SERVER, FIRST_PORT + i, PORT, isn_c=100000 + i * 1000,
                              isn_s=900000 + i * 1000)
        syn, _, ack = c.handshake()  # the server's SYN+ACK is not replayed (see above)
        inside += [syn[1], ack[1]] + [f for _, f in c.send(True, upload(i))]
        # Every fourth flow (clean) aborts with a RST right after its upload, while the upload
        # still waits for its flow_open record.
        inside.append(c._frame(True, P.RST if i % 4 == 2 else P.FIN | P.ACK))
    P.write_pcap(os.path.join(out, "inside-rx.pcap"), inside)
    # One ARP request (dropped: unknown EtherType) so that the crossborder port has a capture.
    arp = (P.ether("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:02", 0x0806) +
           bytes.fromhex("0001080006040001") + P.mac("02:00:00:00:00:02") + bytes([198, 51, 100, 20]) +
           bytes(6) + bytes([10, 1, 0, 1]))
    P.write_pcap(os.path.join(out, "outside-rx.pcap"), [arp])

if __name__ == "__main__":
    main()
