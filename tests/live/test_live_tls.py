#!/usr/bin/env python3
"""Live TLS with escrowed keys: curl uploads over HTTPS THROUGH `datacustoms run`, its key log
(SSLKEYLOGFILE) forwarded to the appliance's key intake socket by `datacustoms keys push` while
curl runs; the appliance decrypts a copy, inspects it, and forwards the untouched ciphertext.

Same topology and helpers as test_live_customs.py (imported, not copied), with this test's own
namespaces and veths (prefix h5b-). The foreign server is tests/live/tls_server.py (Python's
OpenSSL, HTTP/1.1 and a minimal HTTP/2), which records the DECRYPTED bytes each connection
delivered: frames on the wire are ciphertext, so only the server's plaintext can show that a
value never arrived. Policy: examples/policy/ftz-demo.toml with [defaults] tls_escrow =
"optional" (TLS flows wait for their keys up to [tls] key_wait_ms) and opaque_payload = "block"
(sg-analytics, 198.51.100.20:8443, may not receive pi.identity). Checks:
  1. a clean HTTPS POST (HTTP/1.1, keys escrowed) gets 200: the server read the whole body, the
     flow record is allow and says it was decrypted with escrowed keys; again after the blocks;
  2. a POST carrying the resident ID (keys escrowed) is cut: curl times out, the server's
     plaintext never holds the ID; record block category_not_allowed:pi.identity with the hash of
     the key line that unlocked it (never the secret);
  3. a clean POST whose key log is never pushed gets the opaque action (block): the body never
     reaches the server's plaintext; record block opaque_payload;
  4. the same as 1 and 2 over HTTP/2 (curl --http2, ALPN h2);
  5. the intake counted the pushed keys, no secret is in the audit log or the appliance's stderr,
     the appliance stops cleanly and the audit log verifies.
Needs root, `ip`, `curl`, `ethtool`, `openssl`; exits 77 (ctest: skipped) when one is missing.
Usage: test_live_tls.py DATACUSTOMS_BINARY SOURCE_DIR    (DC_LIVE_KEEP=1 keeps the directory)
"""
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_live_customs as L  # noqa: E402  (its helpers; its own tests are not collected)

_spec = importlib.util.spec_from_file_location(
    "tls_real_clients_gen", os.path.join(HERE, "..", "replay", "tls_real_clients", "gen.py"))
ESCROW = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ESCROW)  # set_defaults(): the policy's [defaults] tls_escrow / opaque_payload

# This test's own names, so it never collides with another live test.
L.NS_IN, L.NS_OUT = "h5b-in-%d" % L.PID, "h5b-out-%d" % L.PID
L.IF_A, L.IF_B = "h5b%da" % L.PID, "h5b%db" % L.PID

BIN, SRC = L.BIN, L.SRC
HOST, SERVER, PORT = "sg-analytics.example", L.SERVER, 8443
ID = L.RESIDENT_ID
CLEAN_MARKER = b"SH-2026-LIVE-TLS1"
PORT_CLEAN1, PORT_ID, PORT_NOKEY, PORT_H2_ID, PORT_H2_CLEAN, PORT_CLEAN2 = 44001, 44002, 44003, 44004, 44005, 44006
BLOCKED_MAX_TIME = 6     # seconds curl waits for an upload the appliance cuts

CONFIG_TLS = """
[tls]
key_socket = "${out_dir}/keys.sock"
key_socket_mode = "0600"
key_wait_ms = 3000
"""


def write_policy(path):
    with open(L.POLICY, encoding="utf-8") as f:
        text = f.read()
    text = text[:text.index("\n[[test]]")] + "\n"  # its cases name payload files next to it
    text = ESCROW.set_defaults(text, "optional", "block")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    L.sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=" + HOST,
          "-addext", "subjectAltName=DNS:%s,IP:%s" % (HOST, SERVER)])
    return cert, key


def curl_tls(d, cert, keylog, body_file, sport, max_time, *extra):
    """An HTTPS POST from the inside namespace writing its key log to `keylog`; returns
    (exit code, http code, body, seconds, stderr)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["SSLKEYLOGFILE"] = keylog
    t0 = time.monotonic()
    p = subprocess.run(L.nsx(L.NS_IN, "curl", "-sS", "--noproxy", "*", "-o", "-", "-w", "\n%{http_code}",
                             "--max-time", str(max_time), "--connect-timeout", "5", "--cacert", cert,
                             "--resolve", "%s:%d:%s" % (HOST, PORT, SERVER), "--local-port", str(sport),
                             "-H", "Expect:", "-H", "Content-Type: application/json",
                             "--data-binary", "@" + body_file) + list(extra) + ["https://%s:%d/upload" % (HOST, PORT)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=max_time + 30)
    body, _, code = p.stdout.rpartition(b"\n")
    return p.returncode, code.decode(), body, time.monotonic() - t0, p.stderr.decode(errors="replace")


ENV = L.ENV  # its cleanup (registered at exit) removes the namespaces and veths named above


class LiveTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("the live test must run as root (network namespaces, veths, AF_PACKET)")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        if not ("2026-01-01" <= today <= "2027-12-30"):
            raise AssertionError("EX-TRANSIT-2026 is not valid today (%s): update the test's dates" % today)
        d = cls.dir = ENV.dir = tempfile.mkdtemp(prefix="dc-livetls-%d-" % L.PID)
        cls.t_start = time.monotonic()
        L.build_network()
        policy = os.path.join(d, "policy.toml")
        write_policy(policy)
        L.sh([BIN, "policy", "check", policy])
        L.sh([BIN, "audit", "keygen", "--out", os.path.join(d, "audit")])
        with open(os.path.join(d, "hmac.key"), "w") as f:
            f.write("live-test-hmac-key-0123456789abcdef")
        cfg = os.path.join(d, "appliance.toml")
        with open(cfg, "w") as f:
            f.write(L.CONFIG.format(policy=policy, if_a=L.IF_A, if_b=L.IF_B) + CONFIG_TLS)
        cert, key = make_cert(d)

        srv_dir = cls.srv_dir = os.path.join(d, "server")
        os.mkdir(srv_dir)
        cls.srv_log = os.path.join(d, "server.log")
        with open(cls.srv_log, "wb") as log:
            srv = subprocess.Popen(L.nsx(L.NS_OUT, sys.executable, os.path.join(HERE, "tls_server.py"),
                                         "--dir", srv_dir, "--cert", cert, "--key", key,
                                         "--listen", "%s:%d" % (SERVER, PORT), "--max-seconds", "200"),
                                   stdout=log, stderr=subprocess.STDOUT, preexec_fn=L._die_with_parent)
        ENV.procs.append(srv)
        L.wait_for("the TLS server", lambda: os.path.exists(os.path.join(srv_dir, "ready")), 60, srv, cls.srv_log)

        cls.app_log = os.path.join(d, "appliance.log")
        cls.stats_path = os.path.join(d, "stats.json")
        cls.socket = os.path.join(d, "keys.sock")
        for attempt in range(3):  # af_packet fanout group collisions: see test_live_customs.py
            with open(cls.app_log, "wb") as log:
                app = subprocess.Popen([BIN, "run", "--config", cfg, "--out-dir", d, "--max-seconds", "170",
                                        "--stats-json", cls.stats_path],
                                       stdout=subprocess.DEVNULL, stderr=log, preexec_fn=L._die_with_parent)
            ENV.procs.insert(0, app)
            try:
                L.wait_for('"running" from the appliance', lambda: "running with" in L.tail(cls.app_log, 1 << 20),
                           60, app, cls.app_log)
                break
            except AssertionError:
                if app.poll() is None or "PACKET_FANOUT" not in L.tail(cls.app_log, 1 << 20) or attempt == 2:
                    raise
                shutil.rmtree(os.path.join(d, "audit"), ignore_errors=True)
        L.wait_for("the key socket", lambda: os.path.exists(cls.socket), 10, app, cls.app_log)
        cls.t_running = time.monotonic()

        # The exporter's side: curl writes its key log here, `keys push` follows it (started
        # before the file exists, as a sidecar would be). The no-key upload writes another file
        # nobody pushes.
        cls.keylog = os.path.join(d, "exporter-keys.log")
        cls.unpushed = os.path.join(d, "not-pushed-keys.log")
        cls.push_log = os.path.join(d, "keys-push.log")
        with open(cls.push_log, "wb") as log:
            push = subprocess.Popen([BIN, "keys", "push", "--socket", cls.socket, "--interval-ms", "20",
                                     cls.keylog], stdout=log, stderr=subprocess.STDOUT,
                                    preexec_fn=L._die_with_parent)
        ENV.procs.insert(0, push)

        clean = os.path.join(d, "clean.json")
        with open(clean, "wb") as f:
            f.write(b'{"shipment": "' + CLEAN_MARKER + b'", "pallets": 12, "port": "Tianjin", '
                    b'"status": "cleared"}')
        with_id = os.path.join(d, "id.json")
        with open(with_id, "wb") as f:
            f.write(b'{"customer": "Zhang San", "id_number": "' + ID + b'", "city": "Beijing"}')
        cls.clean_size = os.path.getsize(clean)
        h1, h2 = "--http1.1", "--http2"
        cls.clean1 = curl_tls(d, cert, cls.keylog, clean, PORT_CLEAN1, 20, h1)
        cls.id_post = curl_tls(d, cert, cls.keylog, with_id, PORT_ID, BLOCKED_MAX_TIME, h1)
        cls.nokey = curl_tls(d, cert, cls.unpushed, clean, PORT_NOKEY, BLOCKED_MAX_TIME, h1)
        cls.h2_id = curl_tls(d, cert, cls.keylog, with_id, PORT_H2_ID, BLOCKED_MAX_TIME, h2)
        cls.h2_clean = curl_tls(d, cert, cls.keylog, clean, PORT_H2_CLEAN, 20, h2)
        cls.clean2 = curl_tls(d, cert, cls.keylog, clean, PORT_CLEAN2, 20, h1)
        cls.t_clients = time.monotonic()

        push.send_signal(signal.SIGTERM)
        try:
            cls.push_rc = push.wait(15)
        except subprocess.TimeoutExpired:
            cls.push_rc = "no exit 15 s after SIGTERM"
        app.send_signal(signal.SIGINT)
        try:
            cls.app_rc = app.wait(60)
        except subprocess.TimeoutExpired:
            cls.app_rc = "no exit 60 s after SIGINT"
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(15)
        except subprocess.TimeoutExpired:
            pass
        cls.stats = None
        if os.path.exists(cls.stats_path):
            with open(cls.stats_path) as f:
                cls.stats = json.load(f)
        cls.log = os.path.join(d, "audit")
        cls.records = []
        for name in sorted(os.listdir(cls.log)) if os.path.isdir(cls.log) else []:
            if name.endswith(".jsonl"):
                with open(os.path.join(cls.log, name)) as f:
                    cls.records += [json.loads(l) for l in f if l.strip()]
        sys.stderr.write("live tls: set-up %.1fs, clients %.1fs (%s)\n" % (
            cls.t_running - cls.t_start, cls.t_clients - cls.t_running, ", ".join(
                "%s rc %d %.1fs" % (n, c[0], c[3]) for n, c in (
                    ("clean", cls.clean1), ("id", cls.id_post), ("no-key", cls.nokey), ("h2-id", cls.h2_id),
                    ("h2-clean", cls.h2_clean), ("clean", cls.clean2)))))

    @classmethod
    def tearDownClass(cls):
        ENV.cleanup()

    # ---------------------------------------------------------------- helpers
    def describe(self):
        return "\nappliance stderr:\n%s\nkeys push:\n%s\nserver log:\n%s" % (
            L.tail(self.app_log), L.tail(self.push_log), L.tail(self.srv_log))

    def plaintext(self, sport):
        """The decrypted bytes the server read from the connection with this client port."""
        path = os.path.join(self.srv_dir, "received-%d.bin" % sport)
        if not os.path.exists(path):
            return b""
        with open(path, "rb") as f:
            return f.read()

    def flow(self, sport):
        recs = [r for r in self.records if r.get("type") == "flow" and r.get("src_ip") == L.CLIENT
                and r.get("src_port") == sport]
        self.assertEqual(len(recs), 1, "exactly one flow record for source port %d: %s%s" % (
            sport, recs, self.describe()))
        return recs[0]

    def kinds(self, rec):
        return [r["kind"] for r in rec.get("reasons", [])]

    def line_hashes(self):
        with open(self.keylog, "rb") as f:
            return {hashlib.sha256(l.rstrip(b"\r\n")).hexdigest() for l in f if l.strip()}

    def secrets(self):
        with open(self.keylog) as f:
            return [l.split()[2] for l in f if re.match(r"^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$", l.strip())]

    # ---------------------------------------------------------------- tests
    def test_1_clean_uploads_pass_decrypted(self):
        for name, (rc, code, body, _, err), sport in (("first h1", self.clean1, PORT_CLEAN1),
                                                      ("h2", self.h2_clean, PORT_H2_CLEAN),
                                                      ("second h1", self.clean2, PORT_CLEAN2)):
            self.assertEqual((rc, code), (0, "200"), "%s clean POST: curl %s%s" % (name, err, self.describe()))
            self.assertEqual(body.strip(), str(self.clean_size).encode(), name)
            self.assertIn(CLEAN_MARKER, self.plaintext(sport), name)
            rec = self.flow(sport)
            self.assertEqual(rec["verdict"], "allow", rec)
            self.assertNotIn("opaque_payload", self.kinds(rec), rec)
            self.assertEqual(rec.get("payload_inspection"), "decrypted", rec)

    def test_2_id_uploads_are_cut(self):
        for name, (rc, code, _, secs, err), sport in (("h1", self.id_post, PORT_ID), ("h2", self.h2_id, PORT_H2_ID)):
            self.assertNotEqual((rc, code), (0, "200"), "%s ID upload succeeded: %s" % (name, err))
            self.assertNotIn(ID, self.plaintext(sport), "%s: the server's TLS layer delivered the ID" % name)
            rec = self.flow(sport)
            self.assertEqual(rec["verdict"], "block", rec)
            cats = [r.get("category") for r in rec["reasons"] if r["kind"] == "category_not_allowed"]
            self.assertEqual(cats, ["pi.identity"], rec)
            self.assertEqual(rec["values"][0]["masked"], "110105********002X", rec)
            self.assertEqual(rec.get("payload_inspection"), "decrypted", rec)
            # The evidence names the key line that unlocked the flow by its hash: one of the
            # lines curl wrote (SHA-256 of the line without its end), never the secret itself.
            self.assertIn(rec.get("tls_key_line_sha256"), self.line_hashes(), rec)
        # The clean uploads' plaintext is recorded: the check above is live.
        self.assertIn(CLEAN_MARKER, self.plaintext(PORT_CLEAN1))

    def test_3_flow_without_key_gets_the_opaque_action(self):
        rc, code, _, secs, err = self.nokey
        self.assertNotEqual((rc, code), (0, "200"), "the upload without escrowed keys succeeded: %s" % err)
        self.assertNotIn(CLEAN_MARKER, self.plaintext(PORT_NOKEY), "its body reached the server")
        rec = self.flow(PORT_NOKEY)
        self.assertEqual(rec["verdict"], "block", rec)
        self.assertIn("opaque_payload", self.kinds(rec), rec)
        self.assertNotIn("category_not_allowed", self.kinds(rec), rec)
        self.assertEqual(rec.get("payload_inspection"), "opaque", rec)
        self.assertIsNone(rec.get("tls_key_line_sha256"), rec)

    def test_4_keys_counted_and_never_logged(self):
        self.assertEqual(self.app_rc, 0, self.describe())
        self.assertIsNotNone(self.stats, "no --stats-json" + self.describe())
        keys = self.stats.get("keys", {})
        secrets = self.secrets()
        self.assertGreaterEqual(len(secrets), 5 * 5, "curl wrote the keys of five connections")
        self.assertGreaterEqual(keys.get("keys_received", 0), 5 * 4, self.stats)
        self.assertEqual(keys.get("keys_rejected", 0), 0, self.stats)
        self.assertEqual(self.stats["flows"]["created"], 6, self.stats)
        with open(self.app_log, "rb") as f:
            stderr = f.read()
        logs = [stderr]
        for name in os.listdir(self.log):
            if name.endswith(".jsonl"):
                with open(os.path.join(self.log, name), "rb") as f:
                    logs.append(f.read())
        for s in secrets:
            for text in logs:
                self.assertNotIn(s.encode(), text, "a secret of the key log reached a log")
        for text in logs[1:]:
            self.assertNotIn(ID, text, "raw value in the audit log")

    def test_5_audit_log_verifies(self):
        p = L.sh([BIN, "audit", "verify", self.log, "--pubkey", os.path.join(self.dir, "audit.pub")], check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        self.assertIn(self.push_rc, (0, -signal.SIGTERM), "keys push: %s\n%s" % (self.push_rc, L.tail(self.push_log)))


def main():
    missing = [t for t in ("ip", "curl", "ethtool", "openssl") if shutil.which(t) is None]
    if missing:
        print("SKIP: live test needs %s" % ", ".join(missing))
        return 77
    prog = unittest.main(argv=[sys.argv[0], "-v"], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
