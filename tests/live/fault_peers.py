#!/usr/bin/env python3
"""The two ends of the fault-injection test (test_fault_injection.py), run inside its namespaces.

  sink    --dir D --listen ADDR:PORT
          a raw TCP server: every byte a connection delivers is appended to D/conn-<peer port>.bin
          as it is read from the socket (so what reached the server survives any later fault);
          D/ready once listening. Exits on SIGTERM/SIGINT or when its parent goes away.
  clients --server ADDR:PORT --ports FIRST:COUNT [--stagger-ms S] [--chunk-ms C] [--chunks K]
          COUNT concurrent TCP connections, connection i from source port FIRST+i, opened S ms
          apart; each sends K chunks (C ms apart) of its marker "FI-<port>-<chunk>;" padded to
          200 bytes (K 0: until stopped), then closes. SIGTERM stops every connection at once
          with a reset (SO_LINGER 0: nothing is retransmitted later). Prints one JSON line:
          {"<port>": {"connected": bool, "sent": bytes}, ...}.
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading

STOP = threading.Event()


def marker(port, i):
    m = b"FI-%d-%d;" % (port, i)
    return m + b"." * (200 - len(m))


def serve_conn(conn, path):
    conn.settimeout(0.5)
    with open(path, "ab") as f:
        while not STOP.is_set():
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            f.write(data)
            f.flush()
    conn.close()


def sink(a):
    host, port = a.listen.rsplit(":", 1)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(1024)
    srv.settimeout(0.2)
    with open(os.path.join(a.dir, "ready"), "w") as f:
        f.write("%d\n" % os.getpid())
    parent = os.getppid()
    while not STOP.is_set() and os.getppid() == parent:
        try:
            conn, peer = srv.accept()
        except socket.timeout:
            continue
        path = os.path.join(a.dir, "conn-%d.bin" % peer[1])
        threading.Thread(target=serve_conn, args=(conn, path), daemon=True).start()
    srv.close()
    return 0


def client(server, port, a, result, socks):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    socks.append(s)
    r = result[str(port)] = {"connected": False, "sent": 0}
    try:
        s.bind(("0.0.0.0", port))
        s.settimeout(5)
        s.connect(server)
        r["connected"] = True
        i = 0
        while not STOP.is_set() and (a.chunks == 0 or i < a.chunks):
            s.sendall(marker(port, i))
            r["sent"] += 200
            i += 1
            STOP.wait(a.chunk_ms / 1000.0)
        if not STOP.is_set():
            s.shutdown(socket.SHUT_WR)
            s.settimeout(2)
            try:
                s.recv(1)  # the server's FIN (or nothing, if the appliance is gone)
            except OSError:
                pass
    except OSError as e:
        r["error"] = str(e)


def clients(a):
    host, port = a.server.rsplit(":", 1)
    first, count = (int(x) for x in a.ports.split(":"))
    result, socks, threads = {}, [], []
    for i in range(count):
        if STOP.is_set():
            break
        t = threading.Thread(target=client, args=((host, int(port)), first + i, a, result, socks), daemon=True)
        t.start()
        threads.append(t)
        STOP.wait(a.stagger_ms / 1000.0)
    for t in threads:
        while t.is_alive() and not STOP.is_set():
            t.join(0.1)
    for s in socks:  # stopped: reset what is still open (linger 0), nothing lingers on the wire
        try:
            s.close()
        except OSError:
            pass
    for t in threads:
        t.join(6)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["sink", "clients"])
    ap.add_argument("--dir")
    ap.add_argument("--listen")
    ap.add_argument("--server")
    ap.add_argument("--ports", default="42000:10")
    ap.add_argument("--stagger-ms", type=float, default=10)
    ap.add_argument("--chunk-ms", type=float, default=50)
    ap.add_argument("--chunks", type=int, default=0)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    return sink(a) if a.mode == "sink" else clients(a)


if __name__ == "__main__":
    sys.exit(main())
