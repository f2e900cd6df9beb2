#!/usr/bin/env python3
"""`datacustoms keys push` and the [tls] key socket settings of appliance.toml: exit codes,
messages, and following a key log like `tail -F` (appended, truncated, rotated, created later,
the socket going away and coming back). A small UNIX socket server in this script stands in for
the appliance's key intake (tests/dataplane/test_key_intake.py runs the real one).

usage: test_keys.py DATACUSTOMS_BINARY SOURCE_DIR [unittest options]
Hermetic: temporary directories only, removed afterwards.
"""
import os
import pwd
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = None
SRC = None
RANDOM = "ab" * 32


def key(label_no):
    """A distinct, valid TLS 1.3 key log line (no line end)."""
    return "CLIENT_TRAFFIC_SECRET_0 %s %064x" % (RANDOM, label_no)


def run(args, timeout=60, **kw):
    p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class FakeIntake:
    """Accepts connections on `path` and collects the complete lines it is sent."""

    def __init__(self, path):
        self.path = path
        self.lines = []
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conns = []
        while self.running:
            try:
                c, _ = self.sock.accept()
                c.setblocking(False)
                conns.append([c, b""])
                with self.lock:
                    self.connections += 1
            except socket.timeout:
                pass
            for entry in conns[:]:
                try:
                    data = entry[0].recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    entry[0].close()
                    conns.remove(entry)
                    continue
                entry[1] += data
                *done, entry[1] = entry[1].split(b"\n")
                with self.lock:
                    self.lines.extend(x.decode() for x in done)
        for c, _ in conns:
            c.close()

    def stop(self):
        self.running = False
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)

    def wait_lines(self, n, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.lines) >= n:
                    return list(self.lines)
            time.sleep(0.02)
        with self.lock:
            return list(self.lines)


APPLIANCE = """pairs = [["inside", "outside"]]
[eal]
args = ["--no-huge", "--no-pci"]
[[ports]]
name = "inside"
device = "net_null0"
zone = "domestic"
[[ports]]
name = "outside"
device = "net_null1"
zone = "crossborder"
[tls]
key_socket = "keys.sock"
"""


class KeysTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dc-keys-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.sock = os.path.join(self.tmp, "keys.sock")
        self.log = os.path.join(self.tmp, "sslkeys.log")
        self.procs = []
        self.addCleanup(self._kill)

    def _kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    def write_log(self, lines, mode="w", path=None):
        with open(path or self.log, mode) as f:
            f.write("".join(l + "\n" for l in lines))

    def follow(self, *extra):
        p = subprocess.Popen([BIN, "keys", "push", "--socket", self.sock, "--interval-ms", "20"]
                             + list(extra) + [self.log], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.procs.append(p)
        return p

    def stop(self, p):
        p.send_signal(2)
        _, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0, err.decode())
        return err.decode()

    # ---- appliance.toml [tls] -------------------------------------------------------------
    def config_errors(self, extra):
        cfg = os.path.join(self.tmp, "appliance.toml")
        with open(cfg, "w") as f:
            f.write(APPLIANCE + extra)
        rc, _, err = run(["run", "--config", cfg])
        self.assertEqual(rc, 2, err)
        self.assertIn("nothing started", err)
        return err.replace(cfg, "appliance.toml")

    def test_config_errors_are_exact(self):
        line = APPLIANCE.count("\n") + 1
        cases = [
            ('key_socket_mode = "rw-rw----"\n', '%d:19: error: \'key_socket_mode\' must be an '
             'octal string of permission bits such as "0660"' % line),
            ('key_socket_mode = "0666"\n', '%d:19: error: key_socket_mode "0666" lets every local '
             'user write keys; give access to the owner and group only (e.g. "0660")' % line),
            ("key_socket_mode = 0o660\n", "%d:19: error: 'key_socket_mode' must be an octal "
             "string" % line),
            ('key_socket_owner = "no-such-user-h4g"\n',
             "%d:20: error: unknown user 'no-such-user-h4g'" % line),
            ('key_socket_group = "no-such-group-h4g"\n',
             "%d:20: error: unknown group 'no-such-group-h4g'" % line),
            ('key_allowed_uids = [0, "no-such-user-h4g"]\n',
             "%d:24: error: unknown user 'no-such-user-h4g'" % line),
            ("key_queue_size = 8\n", "%d:18: error: 'key_queue_size' = 8 is out of range" % line),
            ("key_sock = 1\n", "%d:1: error: unknown key 'key_sock' in [tls]" % line),
        ]
        for extra, want in cases:
            with self.subTest(extra=extra):
                self.assertIn("appliance.toml:" + want, self.config_errors(extra))

    # ---- keys push: errors ----------------------------------------------------------------
    def test_missing_socket(self):
        self.write_log([key(1)])
        rc, _, err = run(["keys", "push", "--once", "--socket", self.sock, self.log])
        self.assertEqual(rc, 3, err)
        self.assertIn("no key socket at " + self.sock, err)

    def test_missing_socket_while_following_gives_up_after_retry_for(self):
        t0 = time.time()
        rc, _, err = run(["keys", "push", "--retry-for", "1", "--socket", self.sock, self.log])
        self.assertEqual(rc, 3, err)
        self.assertIn("retrying for up to 1 s", err)
        self.assertLess(time.time() - t0, 10)

    def test_permission_denied(self):
        if os.getuid() != 0:
            self.skipTest("needs root to run the client as another user")
        intake = FakeIntake(self.sock)
        self.addCleanup(intake.stop)
        os.chmod(self.sock, 0o600)
        os.chmod(self.tmp, 0o755)
        self.write_log([key(1)])
        os.chmod(self.log, 0o644)
        nobody = pwd.getpwnam("nobody")
        rc, _, err = run(["keys", "push", "--once", "--socket", self.sock, self.log],
                         user=nobody.pw_uid, group=nobody.pw_gid)
        self.assertEqual(rc, 3, err)
        self.assertIn("permission denied on " + self.sock, err)

    def test_not_a_socket(self):
        open(self.sock, "w").close()
        rc, _, err = run(["keys", "push", "--once", "--socket", self.sock, "-"])
        self.assertEqual(rc, 3, err)
        self.assertIn("nobody accepts on " + self.sock, err)

    def test_usage_and_input_errors(self):
        self.assertEqual(run(["keys"])[0], 2)
        self.assertEqual(run(["keys", "push", "--bogus"])[0], 2)
        self.assertEqual(run(["keys", "push", "--interval-ms", "x"])[0], 2)
        self.assertEqual(run(["keys", "push", "a", "b"])[0], 2)
        rc, out, _ = run(["keys", "push", "--help"])
        self.assertEqual(rc, 0)
        self.assertIn("exit codes", out)
        intake = FakeIntake(self.sock)
        self.addCleanup(intake.stop)
        rc, _, err = run(["keys", "push", "--once", "--socket", self.sock, self.log])
        self.assertEqual(rc, 4, err)
        self.assertIn(self.log + ": No such file or directory", err)
        rc, _, err = run(["keys", "push", "--once", "--socket", self.sock, self.tmp])
        self.assertEqual(rc, 4, err)
        self.assertIn("not a regular file", err)

    # ---- keys push: sending and following --------------------------------------------------
    def test_once_and_stdin(self):
        intake = FakeIntake(self.sock)
        self.addCleanup(intake.stop)
        with open(self.log, "w") as f:
            f.write("# header\n%s\r\n%s" % (key(1), key(2)))  # CRLF, and no final line end
        rc, _, err = run(["keys", "push", "--once", "--socket", self.sock, self.log])
        self.assertEqual(rc, 0, err)
        p = subprocess.run([BIN, "keys", "push", "--socket", self.sock, "-"],
                           input=(key(3) + "\n").encode(), capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(intake.wait_lines(4), ["# header", key(1) + "\r", key(2), key(3)])

    def test_follow_append_truncate_rotate(self):
        intake = FakeIntake(self.sock)
        self.addCleanup(intake.stop)
        self.write_log([key(1)])
        p = self.follow()
        self.assertEqual(intake.wait_lines(1), [key(1)])
        with open(self.log, "a") as f:  # a line written in two steps is sent once, whole
            f.write(key(2)[:30])
            f.flush()
            time.sleep(0.2)
            f.write(key(2)[30:] + "\n")
        self.assertEqual(intake.wait_lines(2)[1:], [key(2)])
        self.write_log([key(3)])  # truncated and rewritten in place
        self.assertEqual(intake.wait_lines(3)[2:], [key(3)])
        self.write_log([key(4)], mode="a")  # rotated with a line not read yet: it is read
        os.rename(self.log, self.log + ".1")  # from the old file, then the new file
        self.write_log([key(5)])
        self.assertEqual(intake.wait_lines(5)[3:], [key(4), key(5)])
        err = self.stop(p)
        self.assertIn("truncated", err)
        self.assertIn("was replaced", err)

    def test_follow_waits_for_the_file_and_reconnects(self):
        intake = FakeIntake(self.sock)
        p = self.follow()
        ready, _, _ = select.select([p.stderr], [], [], 20)  # the file is created only after
        self.assertTrue(ready, "no message while waiting for the file")
        self.assertIn("waiting for %s to appear" % self.log, p.stderr.readline().decode())
        self.write_log([key(1)])
        self.assertEqual(intake.wait_lines(1), [key(1)])
        intake.stop()  # the appliance restarts
        self.write_log([key(2)], mode="a")
        time.sleep(0.3)
        intake = FakeIntake(self.sock)
        self.addCleanup(intake.stop)
        self.assertEqual(intake.wait_lines(1), [key(2)])
        self.assertIn("reconnecting", self.stop(p))


def main():
    global BIN, SRC
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])


if __name__ == "__main__":
    main()
