#!/usr/bin/env python3
"""A TLS server for the TLS escrow tests (tests/live/test_live_tls.py, tests/data/tls/record.py):
records the DECRYPTED bytes each connection delivered, so a test can assert that a blocked value
never reached the application, which a capture of ciphertext cannot show.

Speaks HTTP/1.1 (POST with Content-Length or GET; answers 200 with the body's byte count) and a
minimal HTTP/2 server side (ALPN "h2": SETTINGS/PING acks, WINDOW_UPDATE for what it read, DATA
per stream, and on END_STREAM a ":status 200" HEADERS (static-table index 8) plus a DATA frame
with the byte count). Every --listen ADDR:PORT gets one listener with the same certificate.
  DIR/received-<peer port>.bin  the decrypted bytes read from that connection (appended as read)
  DIR/requests.jsonl            one line per request answered: proto, peer, path, body_len
  DIR/ready                     written once every listener is up
Exits on SIGTERM/SIGINT, after --max-seconds, or when its parent goes away.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
LOCK = threading.Lock()


def append(path, data):
    with LOCK:
        with open(path, "ab") as f:
            f.write(data)
            f.flush()


class Conn:
    """A TLS connection whose every read is recorded."""

    def __init__(self, tls, out_dir):
        self.tls, self.dir = tls, out_dir
        self.peer = "%s:%d" % tls.getpeername()[:2]
        self.path = os.path.join(out_dir, "received-%d.bin" % tls.getpeername()[1])
        self.buf = b""

    def fill(self):
        data = self.tls.recv(65536)
        if not data:
            raise EOFError
        append(self.path, data)
        self.buf += data

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until(self, sep):
        while sep not in self.buf:
            if len(self.buf) > 1 << 20:
                raise EOFError
            self.fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def record(self, **kw):
        kw["peer"] = self.peer
        append(os.path.join(self.dir, "requests.jsonl"), (json.dumps(kw) + "\n").encode())


def serve_http1(c):
    while True:
        head = c.until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        method, path = lines[0].split(" ")[:2]
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body = c.take(length) if length else b""
        c.record(proto="http/1.1", method=method, path=path, body_len=len(body))
        answer = b"%d\n" % len(body)
        c.tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                      % (len(answer), answer))


def frame(ftype, flags, stream, payload=b""):
    return struct.pack("!I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack("!I", stream) + payload


def serve_http2(c):
    if c.take(len(PREFACE)) != PREFACE:
        return
    c.tls.sendall(frame(4, 0, 0))                       # our SETTINGS: defaults
    bodies = {}
    while True:
        hdr = c.take(9)
        length = int.from_bytes(hdr[:3], "big")
        ftype, flags, stream = hdr[3], hdr[4], struct.unpack("!I", hdr[5:9])[0] & 0x7FFFFFFF
        payload = c.take(length)
        if ftype == 0:                                  # DATA
            data = payload
            if flags & 0x08:                            # PADDED
                data = payload[1:len(payload) - payload[0]]
            bodies[stream] = bodies.get(stream, 0) + len(data)
            if length:
                inc = struct.pack("!I", length)
                c.tls.sendall(frame(8, 0, 0, inc) + frame(8, 0, stream, inc))
        elif ftype == 1:                                # HEADERS
            bodies.setdefault(stream, 0)
        elif ftype == 4 and not flags & 0x01:           # SETTINGS: acknowledge
            c.tls.sendall(frame(4, 0x01, 0))
        elif ftype == 6 and not flags & 0x01:           # PING: answer
            c.tls.sendall(frame(6, 0x01, 0, payload))
        elif ftype == 7:                                # GOAWAY
            return
        if ftype in (0, 1) and flags & 0x01:            # END_STREAM: answer the request
            n = bodies.pop(stream, 0)
            c.record(proto="h2", stream=stream, body_len=n)
            c.tls.sendall(frame(1, 0x04, stream, b"\x88") + frame(0, 0x01, stream, b"%d\n" % n))


def handle(ctx, sock, out_dir):
    try:
        sock.settimeout(30)
        with ctx.wrap_socket(sock, server_side=True) as tls:
            c = Conn(tls, out_dir)
            if tls.selected_alpn_protocol() == "h2":
                serve_http2(c)
            else:
                serve_http1(c)
    except (EOFError, OSError, ValueError, ssl.SSLError):
        pass
    finally:
        sock.close()


def listen(spec):
    host, port = spec.rsplit(":", 1)
    fam = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host.strip("[]"), int(port)))
    s.listen(64)
    s.settimeout(0.2)
    return s


def accept_loop(ctx, s, out_dir, stop):
    while not stop.is_set():
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(ctx, conn, out_dir), daemon=True).start()
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--listen", action="append", default=[])
    ap.add_argument("--keylog", help="also write the server's NSS key log here (cross-checks)")
    ap.add_argument("--max-seconds", type=float, default=300)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20:AESGCM")
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    if a.keylog:
        ctx.keylog_filename = a.keylog
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [threading.Thread(target=accept_loop, args=(ctx, listen(spec), a.dir, stop), daemon=True)
               for spec in a.listen]
    for t in threads:
        t.start()
    with open(os.path.join(a.dir, "ready.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(os.path.join(a.dir, "ready.tmp"), os.path.join(a.dir, "ready"))
    parent, end = os.getppid(), time.monotonic() + a.max_seconds
    while not stop.is_set() and time.monotonic() < end and os.getppid() == parent:
        stop.wait(0.2)
    stop.set()
    for t in threads:
        t.join(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
