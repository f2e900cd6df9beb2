#!/usr/bin/env python3
"""User-facing contract of the `datacustoms` binary (exit codes, messages, masking, key files).

usage: test_cli.py DATACUSTOMS_BINARY SOURCE_DIR [unittest options]

Exit codes (appliance/command.hpp): 0 ok, 1 a check/test/verify found problems, 2 usage or
configuration error. Hermetic: every file is written to a temporary directory that is removed
afterwards; dates are fixed with --today / --at so the wall clock never changes a result.
"""
import gzip
import hashlib
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import unittest

BIN = None
SRC = None

# A resident ID with a valid GB 11643 check digit, and a lookalike whose check digit is wrong.
VALID_ID = "11010519491231002X"
LOOKALIKE_ID = "110105194912310021"
TODAY = "2026-06-15"
AT = "2026-06-15T00:00:00+08:00"  # the reference time of tests/policy/bad/*.expected


def run(args, cwd=None, stdin=None, timeout=120):
    p = subprocess.run([BIN] + args, cwd=cwd, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dc-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.demo_policy = os.path.join(SRC, "examples", "policy", "ftz-demo.toml")
        self.bad_dir = os.path.join(SRC, "tests", "policy", "bad")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(self.path(name), mode) as f:
            f.write(data)
        return self.path(name)

    def assertExit(self, result, code, what):
        rc, out, err = result
        self.assertEqual(rc, code, f"{what}: exit {rc}, want {code}\nstdout:\n{out}\nstderr:\n{err}")

    # ---- top level ------------------------------------------------------------------------
    def test_no_command(self):
        r = run([], cwd=self.tmp)
        self.assertExit(r, 2, "no command")
        self.assertIn("usage: datacustoms <command>", r[2])
        self.assertEqual(r[1], "")

    def test_unknown_command(self):
        r = run(["frobnicate"], cwd=self.tmp)
        self.assertExit(r, 2, "unknown command")
        self.assertIn("unknown command 'frobnicate'", r[2])
        self.assertEqual(r[1], "")

    def test_help(self):
        r = run(["--help"], cwd=self.tmp)
        self.assertExit(r, 0, "--help")
        self.assertIn("usage: datacustoms <command>", r[1])
        for cmd in ("audit", "keys", "policy", "replay", "run", "scan"):
            self.assertRegex(r[1], r"(?m)^  %s\s" % cmd)

    # ---- run ------------------------------------------------------------------------------
    def test_run_missing_config(self):
        missing = self.path("no-such.toml")
        r = run(["run", "--config", missing], cwd=self.tmp)
        self.assertExit(r, 2, "run with a missing config")
        self.assertIn(missing, r[2])

    def test_run_config_errors_are_located(self):
        cfg = self.write(
            "appliance.toml",
            'pairs = [["inside", "outside"]]\n'
            "[eal]\n"
            "args = []\n"
            "bogus = 1\n"
            "[memory]\n"
            'mbufs = "many"\n',
        )
        r = run(["run", "--config", cfg, "--out-dir", self.path("out")], cwd=self.tmp)
        self.assertExit(r, 2, "run with a bad config")
        err = r[2]
        self.assertRegex(err, r"(?m)^%s:4:1: error: unknown key 'bogus'" % re.escape(cfg))
        self.assertRegex(err, r"(?m)^%s:6:9: error: 'mbufs' must be an integer" % re.escape(cfg))
        self.assertIn("nothing started", err)
        self.assertNotIn("running with", err)
        # Nothing started: no capture files were written.
        out = self.path("out")
        self.assertFalse(os.path.isdir(out) and os.listdir(out), "run wrote output files")

    def test_run_pair_table_options_are_checked(self):
        # A pair may be a table with pass-through options; their errors are located too.
        cfg = self.write(
            "appliance.toml",
            'pairs = [{ ports = ["inside", "outside"], pass_nd = "yes", pass_lldp = true }]\n'
            "[[ports]]\n"
            'name = "inside"\n'
            'device = "net_null0"\n'
            'zone = "domestic"\n'
            "[[ports]]\n"
            'name = "outside"\n'
            'device = "net_null1"\n'
            'zone = "crossborder"\n',
        )
        r = run(["run", "--config", cfg, "--out-dir", self.path("out")], cwd=self.tmp)
        self.assertExit(r, 2, "run with bad pair options")
        err = r[2]
        self.assertRegex(err, r"(?m)^%s:1:.*pass_nd must be true or false" % re.escape(cfg))
        self.assertRegex(err, r"(?m)^%s:1:.*unknown key 'pass_lldp'" % re.escape(cfg))
        self.assertNotIn("not in any pair", err)  # the table's ports were read
        self.assertNotIn("running with", err)

    # ---- policy ---------------------------------------------------------------------------
    def test_policy_check_demo_prints_file_sha256(self):
        r = run(["policy", "check", self.demo_policy, "--at", AT], cwd=self.tmp)
        self.assertExit(r, 0, "policy check ftz-demo")
        with open(self.demo_policy, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        self.assertRegex(r[1], r"(?m)\bsha256 %s$" % digest)
        self.assertRegex(r[1], r"(?m)^ok: \d+ warning\(s\)$")

    def test_policy_check_bad_policies_exact_diagnostics(self):
        cases = sorted(f[:-5] for f in os.listdir(self.bad_dir) if f.endswith(".toml"))
        self.assertTrue(cases, "no cases in tests/policy/bad")
        for case in cases:
            with self.subTest(case=case):
                with open(os.path.join(self.bad_dir, case + ".expected")) as f:
                    expected = f.read().splitlines()
                want_errors = any(": error: " in line for line in expected)
                # Run in the case's folder with the bare file name: the golden files say
                # "<case>.toml:line:col: ...".
                r = run(["policy", "check", case + ".toml", "--at", AT], cwd=self.bad_dir)
                self.assertExit(r, 1 if want_errors else 0, "policy check " + case)
                lines = r[2].splitlines()
                if want_errors:
                    # The diagnostics, then one summary line.
                    self.assertRegex(lines[-1], r"^\d+ error\(s\), \d+ warning\(s\)$")
                    lines = lines[:-1]
                    self.assertEqual(r[1], "", "a failed check prints no summary on stdout")
                self.assertEqual(lines, expected)
                for line in lines:
                    self.assertRegex(line, r"^%s\.toml:\d+:\d+: (error|warning|note): "
                                     % re.escape(case))

    def test_policy_check_unreadable_file(self):
        r = run(["policy", "check", self.path("absent.toml")], cwd=self.tmp)
        self.assertExit(r, 2, "policy check of a missing file")

    def test_policy_test_demo(self):
        r = run(["policy", "test", self.demo_policy], cwd=self.tmp)
        self.assertExit(r, 0, "policy test ftz-demo")
        m = re.search(r"(?m)^(\d+)/(\d+) passed, policy sha256 ([0-9a-f]{64})$", r[1])
        self.assertIsNotNone(m, r[1])
        self.assertEqual(m.group(1), m.group(2))
        self.assertNotIn("FAIL", r[1])

    def test_policy_test_capture_case_can_fail(self):
        # The demo policy's capture case, with the wrong expectation: the packet engine's verdict
        # (block) must be reported as a failure with expected vs actual.
        demo_dir = os.path.dirname(self.demo_policy)
        text = open(self.demo_policy, encoding="utf-8").read()
        marker = 'name = "capture: an upload with a resident ID to sg-analytics is blocked"'
        self.assertIn(marker, text)
        head, tail = text.split(marker, 1)
        tail = tail.replace('expect = "block"', 'expect = "allow"', 1)
        bad = os.path.join(demo_dir, ".capture-fail-%d.toml" % os.getpid())
        try:
            with open(bad, "w", encoding="utf-8") as f:
                f.write(head + marker + tail)
            r = run(["policy", "test", bad], cwd=self.tmp)
            self.assertExit(r, 1, "policy test with a wrong capture expectation")
            self.assertIn("FAIL capture: an upload with a resident ID", r[1])
            self.assertRegex(r[1], r"actual:\s+block")
        finally:
            os.unlink(bad)

    # ---- scan -----------------------------------------------------------------------------
    def scan_sample(self):
        return self.write(
            "sample.txt",
            "customer: Zhang San\n"
            f"身份证号: {VALID_ID}\n"
            f"order number {LOOKALIKE_ID} shipped\n",
        )

    def check_one_masked_finding(self, r, with_policy):
        self.assertExit(r, 0, "scan")
        rc, out, err = r
        for raw in (VALID_ID, LOOKALIKE_ID, VALID_ID[6:14]):
            self.assertNotIn(raw, out, "raw value on stdout")
            self.assertNotIn(raw, err, "raw value on stderr")
        findings = [json.loads(line) for line in out.splitlines() if line.strip()]
        self.assertEqual(len(findings), 1, out)
        f = findings[0]
        self.assertEqual(f["detector"], "cn_resident_id")
        self.assertEqual(f["masked"], VALID_ID[:6] + "*" * 8 + VALID_ID[14:])
        self.assertEqual(f["length"], len(VALID_ID))
        self.assertIn(f["confidence"], ("possible", "likely", "very_likely"))
        if with_policy:
            self.assertEqual(f["category"], "pi.identity")
            self.assertEqual(f["categories"], ["pi.identity"])
        else:
            self.assertIsNone(f["category"])
            self.assertNotIn("categories", f)

    def test_scan_builtins(self):
        sample = self.scan_sample()
        self.check_one_masked_finding(run(["scan", "--today", TODAY, sample], cwd=self.tmp), False)

    def test_scan_stdin(self):
        with open(self.scan_sample(), "rb") as f:
            data = f.read()
        r = run(["scan", "--today", TODAY, "-"], cwd=self.tmp, stdin=data)
        self.check_one_masked_finding(r, False)

    def test_scan_with_policy(self):
        sample = self.scan_sample()
        r = run(["scan", "--policy", self.demo_policy, "--today", TODAY, sample], cwd=self.tmp)
        self.check_one_masked_finding(r, True)

    def test_scan_with_bad_policy(self):
        bad = os.path.join(self.bad_dir, "unknown_keys.toml")
        r = run(["scan", "--policy", bad, self.scan_sample()], cwd=self.tmp)
        self.assertExit(r, 2, "scan with a bad policy")
        self.assertEqual(r[1], "")
        self.assertRegex(r[2], r"(?m)^%s:11:1: error: unknown key 'prefixs'" % re.escape(bad))
        self.assertNotIn(VALID_ID, r[2])

    def test_scan_with_missing_policy(self):
        r = run(["scan", "--policy", self.path("absent.toml"), self.scan_sample()], cwd=self.tmp)
        self.assertExit(r, 2, "scan with a missing policy")
        self.assertIn("absent.toml", r[2])

    def test_scan_http_shows_decoding_paths(self):
        # A resident ID hidden by chunking + gzip + JSON \u escapes, and percent-encoded in a
        # query string: only --http finds them, each with its decoding path; the repeated
        # Content-Length is reported as an anomaly. stdin, so the streaming path is used.
        doc = "".join("\\u%04x" % ord(c) for c in VALID_ID)
        body = gzip.compress(('{"user":"li","doc":"' + doc + '"}').encode())
        chunks = b"".join(b"%x\r\n" % len(body[i:i + 7]) + body[i:i + 7] + b"\r\n"
                          for i in range(0, len(body), 7)) + b"0\r\n\r\n"
        query = "".join("%%%02X" % ord(c) for c in VALID_ID).encode()
        req = (b"POST /api HTTP/1.1\r\nContent-Type: application/json\r\n"
               b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks +
               b"GET /q?id=" + query + b" HTTP/1.1\r\nContent-Length: 1\r\n"
               b"Content-Length: 1\r\n\r\nA")
        r = run(["scan", "--today", TODAY, "-"], cwd=self.tmp, stdin=req)
        self.assertExit(r, 0, "scan without --http")
        self.assertEqual(r[1], "", "the raw bytes show no ID")
        r = run(["scan", "--http", "--today", TODAY, "-"], cwd=self.tmp, stdin=req)
        self.assertExit(r, 0, "scan --http")
        self.assertNotIn(VALID_ID, r[1])
        lines = [json.loads(line) for line in r[1].splitlines() if line.strip()]
        paths = sorted(f["path"] for f in lines if f.get("detector") == "cn_resident_id")
        self.assertEqual(paths, ["http.request.body > gzip > json", "http.request.target"])
        self.assertIn({"http_anomaly": "repeated_framing_header"}, lines)

    def test_scan_http_walks_a_raw_xlsx(self):
        # A raw XLSX (deflated, the ID split over two rich-text runs) is walked as an archive.
        import zipfile
        sst = ("<sst><si><r><t>" + VALID_ID[:7] + "</t></r><r><rPr><b/></rPr><t>" +
               VALID_ID[7:] + "</t></r></si></sst>")
        xlsx = self.path("people.xlsx")
        with zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("xl/workbook.xml", "<workbook/>")
            z.writestr("xl/sharedStrings.xml", sst)
        r = run(["scan", "--today", TODAY, xlsx], cwd=self.tmp)
        self.assertExit(r, 0, "scan of an xlsx without --http")
        self.assertEqual(r[1], "", "the raw bytes show no ID")
        r = run(["scan", "--http", "--today", TODAY, xlsx], cwd=self.tmp)
        self.assertExit(r, 0, "scan --http of an xlsx")
        lines = [json.loads(line) for line in r[1].splitlines() if line.strip()]
        paths = [f["path"] for f in lines if f.get("detector") == "cn_resident_id"]
        self.assertEqual(paths, ["file > zip:people.xlsx > xl/sharedStrings.xml > xml-text"])
    def test_scan_http_reads_h2c(self):
        # An h2c client stream (connection preface, SETTINGS, HEADERS with HPACK literals, two
        # DATA frames of a gzip'd JSON body): --http decodes it per HTTP/2 stream.
        def frame(ftype, flags, stream, payload):
            return struct.pack(">BHBBI", len(payload) >> 16, len(payload) & 0xFFFF, ftype,
                               flags, stream) + payload

        def lit(name, value):  # RFC 7541 §6.2.2: literal without indexing, new name
            return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value

        body = gzip.compress(('{"doc":"' + VALID_ID + '"}').encode())
        block = b"".join(lit(n, v) for n, v in [
            (b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"partner.example"),
            (b":path", b"/api"), (b"content-type", b"application/json"),
            (b"content-encoding", b"gzip")])
        h2c = (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") +
               frame(1, 4, 1, block) + frame(0, 0, 1, body[:9]) + frame(0, 1, 1, body[9:]))
        r = run(["scan", "--http", "--today", TODAY, "-"], cwd=self.tmp, stdin=h2c)
        self.assertExit(r, 0, "scan --http (h2c)")
        lines = [json.loads(line) for line in r[1].splitlines() if line.strip()]
        paths = sorted(f["path"] for f in lines if f.get("detector") == "cn_resident_id")
        # The JSON has no escape: its view equals the gzip layer and is not scanned again.
        self.assertEqual(paths, ["h2.stream[1].request.body > gzip"])
        self.assertFalse([f for f in lines if "http_anomaly" in f or "decode_condition" in f])

    def test_scan_unknown_detector(self):
        r = run(["scan", "--detector", "no_such_detector", self.scan_sample()], cwd=self.tmp)
        self.assertExit(r, 2, "scan --detector unknown")

    # ---- audit ----------------------------------------------------------------------------
    def test_audit_keygen(self):
        prefix = self.path("keys/appliance")  # keys/ does not exist yet: keygen creates it
        r = run(["audit", "keygen", "--out", prefix], cwd=self.tmp)
        self.assertExit(r, 0, "audit keygen")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(prefix)).st_mode), 0o700)
        key, pub = prefix + ".key", prefix + ".pub"
        self.assertTrue(os.path.isfile(key) and os.path.isfile(pub))
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        with open(key, "rb") as f:
            key_bytes = f.read()
        with open(pub, "rb") as f:
            pub_bytes = f.read()
        self.assertIn(b"PRIVATE KEY", key_bytes)
        self.assertNotIn(key_bytes.decode(), r[1] + r[2], "private key printed")
        # Never overwrites.
        r2 = run(["audit", "keygen", "--out", prefix], cwd=self.tmp)
        self.assertExit(r2, 2, "audit keygen over existing keys")
        self.assertIn("overwrite", r2[2])
        with open(key, "rb") as f:
            self.assertEqual(f.read(), key_bytes)
        with open(pub, "rb") as f:
            self.assertEqual(f.read(), pub_bytes)

    def test_audit_verify_missing_dir(self):
        prefix = self.path("k")
        self.assertExit(run(["audit", "keygen", "--out", prefix], cwd=self.tmp), 0, "keygen")
        missing = self.path("no-audit-dir")
        r = run(["audit", "verify", missing, "--pubkey", prefix + ".pub"], cwd=self.tmp)
        self.assertExit(r, 2, "audit verify of a missing dir")
        self.assertIn(missing, r[2])

    # ---- replay ---------------------------------------------------------------------------
    def test_replay_without_captures(self):
        r = run(["replay", "--policy", self.demo_policy], cwd=self.tmp)
        self.assertExit(r, 2, "replay without captures")
        self.assertIn("CAPTURE", r[2])

    def test_replay_corrupt_captures(self):
        header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # pcap, Ethernet
        cases = {
            "garbage.pcap": b"this is not a capture file at all",
            # A record that claims 60 bytes but the file ends after 20.
            "truncated.pcap": header + struct.pack("<IIII", 1, 0, 60, 60) + b"\0" * 20,
        }
        for name, data in cases.items():
            with self.subTest(capture=name):
                cap = self.write(name, data)
                r = run(["replay", "--policy", self.demo_policy, cap], cwd=self.tmp)
                self.assertExit(r, 2, "replay of " + name)
                self.assertIn(cap, r[2])

    def test_replay_timing_line(self):
        # The benchmark's input (tests/bench/run): one JSON line on stderr with the replay loop's
        # CPU seconds and their user-space part, which can never exceed the whole.
        cap = os.path.join(SRC, "examples", "demo", "outside-rx.pcap")
        r = run(["replay", "--quiet", "--timing", "--policy", self.demo_policy, cap], cwd=self.tmp)
        self.assertExit(r, 0, "replay --timing")
        lines = [json.loads(l) for l in r[2].splitlines() if l.startswith('{"replay_timing"')]
        self.assertEqual(len(lines), 1, r[2])
        t = lines[0]["replay_timing"]
        self.assertGreater(t["packets"], 0)
        for key in ("rig_cpu_s", "run_cpu_s", "run_user_s"):
            self.assertIsInstance(t[key], float, key)
            self.assertGreaterEqual(t[key], 0.0, key)
        # Two clocks of different resolution (getrusage: microseconds): a tick of slack.
        self.assertLessEqual(t["run_user_s"], t["run_cpu_s"] + 0.01)


def main():
    global BIN, SRC
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    BIN = os.path.abspath(sys.argv[1])
    SRC = os.path.abspath(sys.argv[2])
    prog = unittest.main(argv=[sys.argv[0]] + sys.argv[3:], exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
