#!/usr/bin/env python3
"""Records the TLS escrow captures of tests/replay/tls_real_clients: real clients (curl, openssl
s_client) talk to a real TLS server (tests/live/tls_server.py, Python's OpenSSL) across one veth
pair between two network namespaces; tcpdump on the server's end records every frame (offloads
off: real segments, real checksums) and each client writes its NSS key log (SSLKEYLOGFILE /
-keylogfile). Each scenario is cut out of the capture by its client port into <name>.pcap, next
to its key log <name>.keylog.

  netns h5b-rc-in-<pid>  10.1.0.21/32  c0 ==veth== s0  198.51.100.20/32  netns h5b-rc-out-<pid>
  (domestic client)                                     (sg-analytics, port 8443, tcpdump)

Addresses and ports are the ones the replay policy expects (examples/policy/ftz-demo.toml:
10.1.0.21 domestic, 198.51.100.20:8443 sg-analytics, which may not receive pi.identity).
Usage (root; needs ip, ethtool, tcpdump, curl, openssl): record.py [OUTDIR]   (default: here)
The result is committed (a few hundred KiB), so the replay case needs no network set-up; run this
again only to renew them (the secrets change every time; expected verdicts do not).
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "live"))
import test_live_customs as L  # noqa: E402  (sh, nsx, wait_for, tail, OFFLOADS)

PID = os.getpid()
NS_IN, NS_OUT = "h5b-rc-in-%d" % PID, "h5b-rc-out-%d" % PID
CLIENT, SERVER, PORT = "10.1.0.21", "198.51.100.20", 8443
HOST = "sg-analytics.example"
ID = b"11010519491231002X"

ID_JSON = b'{"customer": "Zhang San", "id_number": "' + ID + b'", "city": "Beijing"}'
CLEAN_JSON = b'{"shipment": "SH-2026-TLS-0001", "pallets": 12, "port": "Tianjin"}'
# 20 KB: more than one TLS record (2^14 bytes of plaintext at most), each spanning segments.
FILLER = b'"note": "' + b"pallet manifest line ok " * 850 + b'", '
BIG_ID_JSON = b"{" + FILLER + b'"id_number": "' + ID + b'"}'
BIG_CLEAN_JSON = b"{" + FILLER + b'"shipment": "SH-2026-TLS-0002"}'

# name, client port, tool, options, body. (TLS 1.2 suites: the server's key is ECDSA P-256.)
T12 = ["--tlsv1.2", "--tls-max", "1.2", "--ciphers"]
T13 = ["--tlsv1.3", "--tls13-ciphers"]
SCENARIOS = [
    ("tls13_aes128gcm_h1_id", 61001, "curl", ["--http1.1"] + T13 + ["TLS_AES_128_GCM_SHA256"], ID_JSON),
    ("tls13_aes256gcm_h1_id", 61002, "curl", ["--http1.1"] + T13 + ["TLS_AES_256_GCM_SHA384"], ID_JSON),
    ("tls13_chacha20_h1_id", 61003, "curl", ["--http1.1"] + T13 + ["TLS_CHACHA20_POLY1305_SHA256"], ID_JSON),
    ("tls12_aes128gcm_h1_id", 61004, "curl", ["--http1.1"] + T12 + ["ECDHE-ECDSA-AES128-GCM-SHA256"], ID_JSON),
    ("tls12_chacha20_h1_id", 61005, "curl", ["--http1.1"] + T12 + ["ECDHE-ECDSA-CHACHA20-POLY1305"], ID_JSON),
    ("tls13_aes128gcm_h2_id", 61006, "curl", ["--http2"] + T13 + ["TLS_AES_128_GCM_SHA256"], ID_JSON),
    ("tls12_aes256gcm_h2_id", 61007, "curl", ["--http2"] + T12 + ["ECDHE-ECDSA-AES256-GCM-SHA384"], ID_JSON),
    ("tls13_aes128gcm_h1_clean", 61008, "curl", ["--http1.1"] + T13 + ["TLS_AES_128_GCM_SHA256"], BIG_CLEAN_JSON),
    ("tls13_chacha20_h2_clean", 61009, "curl", ["--http2"] + T13 + ["TLS_CHACHA20_POLY1305_SHA256"], CLEAN_JSON),
    ("tls13_keyupdate_h1_id", 61010, "s_client", ["TLS_AES_128_GCM_SHA256"], ID_JSON),
    ("tls13_aes256gcm_h1_big_id", 61011, "curl", ["--http1.1"] + T13 + ["TLS_AES_256_GCM_SHA384"], BIG_ID_JSON),
    ("tls12_aes128gcm_h2_big_id", 61012, "curl", ["--http2"] + T12 + ["ECDHE-ECDSA-AES128-GCM-SHA256"], BIG_ID_JSON),
]


def build_network():
    for ns in (NS_IN, NS_OUT):
        L.sh(["ip", "netns", "add", ns])
        L.sh(L.nsx(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"))
        L.sh(["ip", "-n", ns, "link", "set", "lo", "up"])
    L.sh(["ip", "link", "add", "h5b%dc" % PID, "netns", NS_IN, "type", "veth", "peer", "name", "h5b%ds" % PID,
          "netns", NS_OUT])
    for ns, old, new, mac in ((NS_IN, "h5b%dc" % PID, "c0", "02:dc:00:00:12:21"),
                              (NS_OUT, "h5b%ds" % PID, "s0", "02:dc:00:00:12:20")):
        L.sh(["ip", "-n", ns, "link", "set", old, "name", new])
        L.sh(["ip", "-n", ns, "link", "set", new, "address", mac])
        L.sh(L.nsx(ns, "ethtool", "-K", new, *L.OFFLOADS))
        L.sh(["ip", "-n", ns, "link", "set", new, "up"])
    L.sh(["ip", "-n", NS_IN, "addr", "add", CLIENT + "/32", "dev", "c0"])
    L.sh(["ip", "-n", NS_IN, "route", "add", "198.51.100.0/24", "dev", "c0"])
    L.sh(["ip", "-n", NS_IN, "neigh", "replace", SERVER, "lladdr", "02:dc:00:00:12:20", "nud", "permanent",
          "dev", "c0"])
    L.sh(["ip", "-n", NS_OUT, "addr", "add", SERVER + "/32", "dev", "s0"])
    L.sh(["ip", "-n", NS_OUT, "route", "add", "10.1.0.0/16", "dev", "s0"])
    L.sh(["ip", "-n", NS_OUT, "neigh", "replace", CLIENT, "lladdr", "02:dc:00:00:12:21", "nud", "permanent",
          "dev", "s0"])
    for ns, i in ((NS_IN, "c0"), (NS_OUT, "s0")):
        L.wait_for("%s up" % i, lambda: b"LOWER_UP" in L.sh(["ip", "-n", ns, "link", "show", i]).stdout, 10)


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    L.sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", key, "-out", cert, "-days", "3650", "-subj", "/CN=" + HOST,
          "-addext", "subjectAltName=DNS:%s,IP:%s" % (HOST, SERVER)])
    return cert, key


def run_curl(d, cert, name, port, opts, body):
    path = os.path.join(d, name + ".body")
    with open(path, "wb") as f:
        f.write(body)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["SSLKEYLOGFILE"] = os.path.join(d, name + ".keylog")
    p = L.sh(L.nsx(NS_IN, "curl", "-sS", "--noproxy", "*", "--cacert", cert, "--max-time", "30",
                   "--resolve", "%s:%d:%s" % (HOST, PORT, SERVER), "--local-port", str(port),
                   "-H", "Expect:", "-H", "Content-Type: application/json", "--data-binary", "@" + path)
             + opts + ["https://%s:%d/upload" % (HOST, PORT)], env=env, timeout=60)
    assert p.stdout.strip() == str(len(body)).encode(), (name, p.stdout, p.stderr)


def run_s_client(d, cert, name, port, opts, body):
    """TLS 1.3 with a KeyUpdate (s_client's 'K' command: both sides update) between the request's
    first part and the part carrying the value, so the value is sealed with generation-1 keys."""
    head = (b"POST /upload HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (HOST.encode(), PORT, len(body)))
    cut = body.index(b'"id_number"')
    p = subprocess.Popen(L.nsx(NS_IN, "openssl", "s_client", "-connect", "%s:%d" % (SERVER, PORT),
                               "-bind", "%s:%d" % (CLIENT, port), "-servername", HOST, "-CAfile", cert,
                               "-tls1_3", "-ciphersuites", opts[0], "-alpn", "http/1.1",
                               "-keylogfile", os.path.join(d, name + ".keylog")),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for chunk in (head + body[:cut], b"K\n", body[cut:]):
        time.sleep(1.5)
        p.stdin.write(chunk)
        p.stdin.flush()
    time.sleep(2)
    out, err = p.communicate(timeout=30)
    assert b"KEYUPDATE" in out + err and b"\r\n\r\n%d\n" % len(body) in out, (name, out[-500:], err[-500:])


def split_capture(pcap, out_dir):
    """One classic pcap per scenario: the frames whose TCP ports include its client port."""
    with open(pcap, "rb") as f:
        data = f.read()
    header, off, frames = data[:24], 24, []
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        frames.append(data[off:off + 16 + incl])
        off += 16 + incl
    counts = {}
    for name, port, *_ in SCENARIOS:
        mine = [fr for fr in frames if (t := L.tcp_of(fr[16:])) and port in (t[2], t[3])]
        with open(os.path.join(out_dir, name + ".pcap"), "wb") as f:
            f.write(header + b"".join(mine))
        counts[name] = len(mine)
    return counts


def main():
    out_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else HERE)
    if os.geteuid() != 0:
        print("record.py must run as root (network namespaces)", file=sys.stderr)
        return 2
    d = tempfile.mkdtemp(prefix="h5b-record-")
    procs = []
    try:
        build_network()
        cert, key = make_cert(d)
        srv_dir = os.path.join(d, "server")
        os.mkdir(srv_dir)
        pcap = os.path.join(d, "all.pcap")
        tcpdump = subprocess.Popen(L.nsx(NS_OUT, "tcpdump", "-i", "s0", "-s", "0", "-U", "-n", "-w", pcap,
                                         "tcp", "port", str(PORT)), stderr=subprocess.PIPE)
        procs.append(tcpdump)
        srv = subprocess.Popen(L.nsx(NS_OUT, sys.executable, os.path.join(SRC, "tests", "live", "tls_server.py"),
                                     "--dir", srv_dir, "--cert", cert, "--key", key,
                                     "--listen", "%s:%d" % (SERVER, PORT), "--max-seconds", "600"))
        procs.append(srv)
        L.wait_for("the TLS server", lambda: os.path.exists(os.path.join(srv_dir, "ready")), 60, srv)
        L.wait_for("tcpdump", lambda: os.path.exists(pcap) and os.path.getsize(pcap) >= 24, 60, tcpdump)
        for name, port, tool, opts, body in SCENARIOS:
            (run_curl if tool == "curl" else run_s_client)(d, cert, name, port, opts, body)
        time.sleep(2)
        tcpdump.send_signal(signal.SIGINT)
        tcpdump.wait(30)
        counts = split_capture(pcap, out_dir)
        with open(os.path.join(srv_dir, "requests.jsonl")) as f:
            served = [json.loads(l) for l in f if l.strip()]
        for name, port, *_ in SCENARIOS:
            shutil.copy(os.path.join(d, name + ".keylog"), os.path.join(out_dir, name + ".keylog"))
            got = [r for r in served if r["peer"].endswith(":%d" % port)]
            assert len(got) == 1, (name, got)
            with open(os.path.join(srv_dir, "received-%d.bin" % port), "rb") as f:
                received = f.read()
            print("%-28s %3d frames, server read %s %d body bytes%s" % (
                name, counts[name], got[0]["proto"], got[0]["body_len"],
                " (with the ID)" if ID in received else ""))
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        for ns in (NS_IN, NS_OUT):
            L.sh(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
