#!/usr/bin/env python3
"""The foreign server of the live test; runs inside the outside network namespace.

A tiny stdlib HTTP server (GET and POST; POST answers 200 with the body's byte count) on every
--listen ADDR:PORT (or [IPV6]:PORT), plus an AF_PACKET sniffer on --sniff IFACE. It records what reached the server
side, so the test can assert that a blocked value never arrived:
  DIR/requests.jsonl  one line per request handled: method, path, local address, body length
  DIR/received.bin    every byte any connection delivered to the server, as read from the socket
  DIR/sniffed.pcap    every frame that arrived on the interface (classic pcap, Ethernet)
  DIR/ready           written once all listeners and the sniffer are up
It exits on SIGTERM/SIGINT, after --max-seconds, or when its parent process goes away.
"""
import argparse
import http.server
import io
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003
LOCK = threading.Lock()


def append(path, data):
    with LOCK:
        with open(path, "ab") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


class TeeReader(io.RawIOBase):
    """The connection's raw reader, copying every byte read into received.bin."""

    def __init__(self, raw, path):
        self.raw, self.path = raw, path

    def readable(self):
        return True

    def readinto(self, b):
        n = self.raw.readinto(b)
        if n:
            append(self.path, bytes(b[:n]))
        return n


def make_handler(out_dir):
    received = os.path.join(out_dir, "received.bin")
    requests = os.path.join(out_dir, "requests.jsonl")

    class Handler(http.server.BaseHTTPRequestHandler):
        timeout = 20                      # a stalled connection does not keep its thread forever
        protocol_version = "HTTP/1.0"

        def setup(self):
            super().setup()
            # Unbuffered at the socket, teed: nothing the kernel delivered escapes the record.
            self.rfile = io.BufferedReader(TeeReader(self.connection.makefile("rb", 0), received))

        def log_message(self, fmt, *args):
            pass

        def record(self, body_len):
            local = self.connection.getsockname()
            line = {"method": self.command, "path": self.path, "local": "%s:%d" % local[:2],
                    "peer": "%s:%d" % self.client_address[:2], "body_len": body_len}
            append(requests, (json.dumps(line) + "\n").encode())

        def answer(self, text):
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.record(0)
            self.answer("ok\n")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n) if n else b""
            self.record(len(body))
            self.answer("%d\n" % len(body))

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Server6(Server):
    address_family = socket.AF_INET6


def sniff(s, path, stop):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        f.flush()
        while not stop.is_set():
            try:
                frame, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING:
                continue                  # only what arrived at the server's interface
            t = time.time()
            with LOCK:
                f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
                f.flush()
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--listen", action="append", default=[])
    ap.add_argument("--sniff")
    ap.add_argument("--max-seconds", type=float, default=300)
    a = ap.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = []
    if a.sniff:
        # Bound before 'ready' is written, so no frame after it is missed.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((a.sniff, 0))
        s.settimeout(0.2)
        threads.append(threading.Thread(target=sniff, args=(s, os.path.join(a.dir, "sniffed.pcap"), stop),
                                        daemon=True))
    servers = []
    for spec in a.listen:
        host, port = spec.rsplit(":", 1)
        v6 = host.startswith("[")  # [ADDR]:PORT listens on IPv6
        srv = (Server6 if v6 else Server)((host.strip("[]"), int(port)), make_handler(a.dir))
        servers.append(srv)
        threads.append(threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True))
    for t in threads:
        t.start()
    with open(os.path.join(a.dir, "ready.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(os.path.join(a.dir, "ready.tmp"), os.path.join(a.dir, "ready"))
    parent = os.getppid()
    end = time.monotonic() + a.max_seconds
    while not stop.is_set() and time.monotonic() < end and os.getppid() == parent:
        stop.wait(0.2)
    stop.set()
    for srv in servers:
        srv.shutdown()
        srv.server_close()
    for t in threads:
        t.join(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
