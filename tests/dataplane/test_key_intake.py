#!/usr/bin/env python3
"""Key intake in the running appliance: `datacustoms run` with [tls] key_socket creates the
socket with its mode and owner, `keys push --once` escrows a key log through it, and the
counters (Prometheus /metrics, the final --stats-json) show keys received, rejected (a bad line
does not end the connection), over-long; a key log written by OpenSSL itself (TLS 1.3 and 1.2) is
accepted whole; the socket is removed at shutdown.
Usage: test_key_intake.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import grp
import json
import os
import pwd
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "datacustoms"
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
POLICY = os.path.join(SRC, "examples", "policy", "ftz-demo.toml")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dplib import demo_config, prepare_demo  # noqa: E402

RANDOM = "0f" * 32


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as resp:
        text = resp.read().decode()
    return {name: int(v) for name, v in
            (l.rsplit(" ", 1) for l in text.splitlines() if l and not l.startswith("#"))}


def real_keylog(d):
    """A key log written by OpenSSL itself (Python's ssl module): one TLS 1.3 and one TLS 1.2
    handshake over a socketpair, the client logging its keys. Returns the file and its key lines."""
    key, crt, log = (os.path.join(d, n) for n in ("tls.key", "tls.crt", "openssl.keys"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-subj",
                    "/CN=exporter.test", "-days", "1"], check=True, capture_output=True)
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.load_cert_chain(crt, key)
        cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cli.check_hostname = False
        cli.verify_mode = ssl.CERT_NONE
        cli.minimum_version = cli.maximum_version = version
        cli.keylog_filename = log
        a, b = socket.socketpair()
        server = threading.Thread(target=lambda: srv.wrap_socket(b, server_side=True).recv(1))
        server.start()
        c = cli.wrap_socket(a)
        c.sendall(b"x")
        server.join(10)
        c.close()
        b.close()
    with open(log) as f:
        lines = [l for l in f.read().splitlines() if l and not l.startswith("#")]
    return log, lines


class KeyIntakeTest(unittest.TestCase):
    def test_push_counts_and_socket_lifecycle(self):
        d = tempfile.mkdtemp(prefix="dc-keyin-")
        proc = None
        try:
            prepare_demo(BIN, SRC, d, keys=True)
            sock = os.path.join(d, "run", "keys.sock")
            os.mkdir(os.path.dirname(sock))
            with open(sock, "w"):  # not a socket: refused, and left alone
                pass
            # As root the socket is handed to nobody:nogroup; otherwise it stays ours.
            root = os.getuid() == 0
            owner = pwd.getpwnam("nobody").pw_uid if root else os.getuid()
            group = grp.getgrnam("nogroup").gr_gid if root else os.getgid()
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            probe.close()
            tls = ('[tls]\nkey_socket = "${out_dir}/run/keys.sock"\nkey_socket_mode = "0660"\n'
                   'key_socket_owner = %d\nkey_socket_group = %d\nkey_queue_size = 64\n'
                   % (owner, group))
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                f.write(demo_config(POLICY,
                                    sections='[metrics]\nlisten = "127.0.0.1:%d"\n%s' % (port, tls)))
            args = [BIN, "run", "--config", cfg, "--out-dir", d, "--max-seconds", "120"]
            r = subprocess.run(args, capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr.decode())
            self.assertIn("exists and is not a socket (not removed)", r.stderr.decode())
            self.assertIn("[tls]", r.stderr.decode())
            os.unlink(sock)

            stats = os.path.join(d, "stats.json")
            proc = subprocess.Popen(args + ["--stats-json", stats], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            deadline = time.time() + 90
            m = {}
            while time.time() < deadline and "datacustoms_keys_received_total" not in m:
                time.sleep(0.1)
                try:
                    m = metrics(port)
                except OSError:
                    pass
            self.assertEqual(m.get("datacustoms_keys_received_total"), 0)
            st = os.lstat(sock)
            self.assertTrue(stat.S_ISSOCK(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
            self.assertEqual((st.st_uid, st.st_gid), (owner, group))

            keylog = os.path.join(d, "sslkeys.log")
            with open(keylog, "w") as f:
                f.write("# SSL/TLS secrets log file, generated by OpenSSL\n\n")  # and a blank line
                f.write("CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\r\n" % (RANDOM, "11" * 32))
                f.write("BOGUS_LABEL %s %s\n" % (RANDOM, "11" * 32))  # rejected, connection lives
                f.write("A" * 5000 + "\n")  # over-long
                f.write("SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n" % (RANDOM, "22" * 48))
                f.write("CLIENT_RANDOM %s %s\n" % (RANDOM, "33" * 48))
            p = subprocess.run([BIN, "keys", "push", "--once", "--socket", sock, keylog],
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            while time.time() < deadline and m.get("datacustoms_keys_received_total") != 3:
                time.sleep(0.1)
                m = metrics(port)
            self.assertEqual(m["datacustoms_keys_received_total"], 3)
            self.assertEqual(m["datacustoms_keys_rejected_total"], 2)
            self.assertEqual(m["datacustoms_keys_overlong_total"], 1)
            self.assertEqual(m["datacustoms_keys_ignored_total"], 1)
            self.assertEqual(m["datacustoms_key_connections_total"], 1)

            # Real OpenSSL output: every key line of both handshakes is accepted.
            log, lines = real_keylog(d)
            labels = {l.split(" ")[0] for l in lines}
            self.assertIn("CLIENT_RANDOM", labels)
            self.assertIn("SERVER_TRAFFIC_SECRET_0", labels)
            p = subprocess.run([BIN, "keys", "push", "--once", "--socket", sock, log],
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            while time.time() < deadline and m["datacustoms_keys_received_total"] == 3:
                time.sleep(0.1)
                m = metrics(port)
            self.assertEqual(m["datacustoms_keys_received_total"], 3 + len(lines))
            self.assertEqual(m["datacustoms_keys_rejected_total"], 2)

            proc.send_signal(2)
            out, err = proc.communicate(timeout=30)
            err = err.decode()
            self.assertEqual(proc.returncode, 0, err)
            self.assertFalse(os.path.exists(sock), "socket left behind")
            self.assertRegex(err, r"keys: connection from uid \d+ gid \d+ pid \d+")
            self.assertIn("line 4 rejected: unknown label", err)  # line numbers are the file's
            for secret in ("11" * 32, "22" * 48, "33" * 48):  # never logged
                self.assertNotIn(secret, err + out.decode())
            self.assertIn("== key intake ==\nreceived %d, rejected 2 (over-long 1)" % (3 + len(lines)),
                          out.decode())
            with open(stats) as f:
                keys = json.load(f)["keys"]
            self.assertEqual((keys["keys_received"], keys["keys_rejected"]), (3 + len(lines), 2))
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
