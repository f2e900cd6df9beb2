#!/usr/bin/env python3
"""Bad input to every file-taking option: /dev/zero, a directory, a symlink to /dev/zero, an
empty file, and out-of-range values in appliance.toml. Each must end in a clear message naming
the file and exit 2, never a crash (SIGABRT/SIGSEGV), a hang or an unbounded read.

usage: test_bad_inputs.py DATACUSTOMS_BINARY SOURCE_DIR [unittest options]

Hermetic: everything is written to a temporary directory removed afterwards; no DPDK port is
ever started (every case fails before the ports come up).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN = None
SRC = None
TIMEOUT = 60  # seconds: an unbounded read of /dev/zero would hit it (and fail the case)


def run(args, cwd=None):
    p = subprocess.run([BIN] + args, cwd=cwd, capture_output=True, timeout=TIMEOUT,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class BadInputTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dc-bad-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.policy = os.path.join(SRC, "examples", "policy", "ftz-demo.toml")
        self.capture = os.path.join(SRC, "examples", "demo", "inside-rx.pcap")
        self.dir = os.path.join(self.tmp, "a-directory")
        os.mkdir(self.dir)
        self.link = os.path.join(self.tmp, "zero-link")
        os.symlink("/dev/zero", self.link)
        self.empty = os.path.join(self.tmp, "empty")
        open(self.empty, "w").close()
        rc, _, err = run(["audit", "keygen", "--out", os.path.join(self.tmp, "k")])
        self.assertEqual(rc, 0, err)
        self.pub = os.path.join(self.tmp, "k.pub")

    def refused(self, args, says, what=None):
        """Exit 2 (not a signal), and stderr contains `says` (a regex)."""
        rc, out, err = run(args, cwd=self.tmp)
        what = what or " ".join(args)
        self.assertEqual(rc, 2, f"{what}: exit {rc}, want 2\nstdout:\n{out[-2000:]}\nstderr:\n{err[-2000:]}")
        self.assertRegex(err, says, what)
        self.assertNotIn("terminate called", err, what)
        return err

    BAD = [("/dev/zero", r"not a regular file \(character device\)"),
           ("{dir}", r"not a regular file \(directory\)"),
           ("{link}", r"not a regular file \(character device\)")]

    def each_bad(self):
        for path, says in self.BAD:
            yield path.format(dir=self.dir, link=self.link), says

    # ---- the compliance policy, wherever it is taken --------------------------------------
    def test_policy_files(self):
        for bad, says in self.each_bad():
            for args in (["policy", "check", bad], ["policy", "test", bad],
                         ["policy", "explain", bad, "--from", "10.1.0.5", "--to", "192.0.2.1"],
                         ["scan", "--policy", bad, self.empty],
                         ["replay", "--policy", bad, self.capture]):
                with self.subTest(args=args):
                    self.refused(args, re.escape(bad) + ": " + says)

    def test_empty_policy_is_a_policy_error_not_a_crash(self):
        rc, out, err = run(["policy", "check", self.empty])
        self.assertEqual(rc, 1, "policy check of an empty file: errors found (exit 1)\n" + err)
        self.assertRegex(out + err, re.escape(self.empty) + r":\d+:\d+: error: ")

    # ---- samples and captures -------------------------------------------------------------
    def test_scan_input(self):
        for bad in ("/dev/zero", self.dir, self.link):
            with self.subTest(bad=bad):
                self.refused(["scan", bad], re.escape(bad) + ": not a regular file or pipe")

    def test_replay_captures(self):
        for bad in ("/dev/zero", self.dir, self.link, self.empty):
            with self.subTest(bad=bad):
                self.refused(["replay", "--policy", self.policy, bad], re.escape(bad))

    def test_replay_burst(self):
        for bad in ("0", "257", "-1", "32x", ""):
            with self.subTest(burst=bad):
                self.refused(["replay", "--policy", self.policy, "--burst", bad, self.capture],
                             re.escape("--burst needs a number from 1 to 256"))
        # The largest burst judges the demo capture as one packet at a time does.
        def verdicts(args):
            rc, out, err = run(["replay", "--policy", self.policy] + args + [self.capture])
            self.assertEqual(rc, 0, err)
            flows = [json.loads(line) for line in out.splitlines()]
            return sorted((f["community_id"], f["verdict"], json.dumps(f["reasons"]))
                          for f in flows)
        one = verdicts([])
        self.assertTrue(one)
        self.assertEqual(verdicts(["--burst", "256"]), one)

    # ---- audit tools ----------------------------------------------------------------------
    def test_audit_verify_keys_and_dirs(self):
        for bad, says in self.each_bad():
            with self.subTest(pubkey=bad):
                self.refused(["audit", "verify", self.dir, "--pubkey", bad],
                             re.escape(bad) + ": " + says)
        self.refused(["audit", "verify", self.empty, "--pubkey", self.pub], "not a directory")
        self.refused(["audit", "verify", self.dir, "--pubkey", self.pub], "no audit-")
        self.refused(["audit", "verify", self.dir, "--pubkey", self.empty], "not a PEM public key")
        self.refused(["audit", "report", "/dev/zero"], "not a directory")

    def test_audit_verify_witness(self):
        # The witness is read before the log: a bad one is refused even for an empty directory.
        huge = os.path.join(self.tmp, "huge-witness")
        with open(huge, "wb") as f:
            f.truncate(1 << 30)  # sparse: costs no disk
        link = os.path.join(self.tmp, "witness-link")
        os.symlink(self.empty, link)  # a symlink to a regular file is still refused
        cases = [("/dev/zero", r"not a regular file \(character device\)"),
                 (self.dir, r"not a regular file \(directory\)"),
                 (link, r"not a regular file \(symbolic link\)"),
                 (huge, r"larger than \d+ bytes"),
                 (os.path.join(self.tmp, "absent"), "cannot open")]
        for bad, says in cases:
            with self.subTest(witness=bad):
                self.refused(["audit", "verify", self.dir, "--pubkey", self.pub,
                              "--witness", "file:" + bad], re.escape(bad) + ": " + says)
        self.refused(["audit", "verify", self.dir, "--pubkey", self.pub, "--witness", "ftp:x"],
                     "expected file:PATH")

    # ---- appliance.toml and the files it names --------------------------------------------
    def config(self, replace):
        """examples/appliance.toml with `replace` {regex: replacement} applied, keys made."""
        with open(os.path.join(SRC, "examples", "appliance.toml")) as f:
            text = f.read()
        text = text.replace("${config_dir}/demo/", os.path.join(SRC, "examples", "demo") + "/")
        text = text.replace('"policy/ftz-demo.toml"', '"' + self.policy + '"')
        for pattern, repl in replace.items():
            text, n = re.subn(pattern, repl, text, flags=re.M)
            self.assertGreater(n, 0, pattern)
        keys = os.path.join(self.tmp, "out", "keys")
        os.makedirs(keys, exist_ok=True)
        if not os.path.exists(os.path.join(keys, "audit.key")):
            rc, _, err = run(["audit", "keygen", "--out", os.path.join(keys, "audit")])
            self.assertEqual(rc, 0, err)
            with open(os.path.join(keys, "hmac.key"), "w") as f:
                f.write("0123456789abcdef0123456789abcdef\n")
        path = os.path.join(self.tmp, "appliance.toml")
        with open(path, "w") as f:
            f.write(text)
        return ["run", "--config", path, "--out-dir", os.path.join(self.tmp, "out")]

    def test_config_file_itself(self):
        for bad, says in self.each_bad():
            with self.subTest(config=bad):
                self.refused(["run", "--config", bad], re.escape(bad) + ": " + says)

    def test_files_named_by_the_config(self):
        for key in ("signing_key", "hmac_key_file"):
            for bad, says in self.each_bad():
                with self.subTest(key=key, bad=bad):
                    args = self.config({r"^%s = .*$" % key: '%s = "%s"' % (key, bad)})
                    self.refused(args, re.escape(bad) + ": " + says)
        for bad, says in self.each_bad():
            with self.subTest(policy=bad):
                args = self.config({r"^policy = .*$": 'policy = "%s"' % bad})
                self.refused(args, re.escape(bad) + ": " + says)

    def test_witness_file_named_by_the_config(self):
        link = os.path.join(self.tmp, "witness-link")
        os.symlink(self.empty, link)
        for bad, says in [(self.dir, r"not a regular file \(directory\)"),
                          ("/dev/null", r"not a regular file \(device\)"),
                          (link, r"not a regular file \(symbolic link\)")]:
            with self.subTest(witness=bad):
                args = self.config({r"^evidence_packets_per_flow = 32$":
                                    'evidence_packets_per_flow = 32\n[audit.witness]\nfile = "%s"'
                                    % bad})
                self.refused(args, re.escape(bad) + ": " + says)
        args = self.config({r"^evidence_packets_per_flow = 32$":
                            'evidence_packets_per_flow = 32\n[audit.witness]\nredis = "nohost"\n'
                            'redis_timeout_ms = 5'})
        err = self.refused(args, r"appliance\.toml:\d+:\d+: error: 'redis' = \"nohost\"")
        self.assertRegex(err, r"'redis_timeout_ms' = 5 is out of range")
        inside = os.path.join(self.tmp, "out", "audit", "w.log")
        args = self.config({r"^evidence_packets_per_flow = 32$":
                            'evidence_packets_per_flow = 32\n[audit.witness]\nfile = "%s"' % inside,
                            r'^dir = "\$\{out_dir\}/audit"': 'dir = "%s"' % os.path.dirname(inside)})
        self.refused(args, "inside the audit log directory")

    def test_no_audit_trail_for_a_policy_that_requires_one(self):
        # ftz-demo.toml: [defaults.on_failure] audit_unavailable = "closed".
        args = self.config({r"^\[audit\]$": "[audit_removed]"})
        args_text = open(args[2]).read()
        args_text = args_text.replace("[audit_removed]", "").split("\n")
        # drop the [audit] keys that now sit under [inspect]
        kept = [l for l in args_text if not re.match(
            r"^(dir|signing_key|hmac_key_file|checkpoint_|max_file_mb|fsync_|ring_size|evidence_)", l)]
        with open(args[2], "w") as f:
            f.write("\n".join(kept))
        self.refused(args, r"requires an audit trail .* no \[audit\] table")

    def test_out_of_range_values(self):
        cases = {
            r"^flows = 4096": "flows = 16777216",  # used to abort at start-up (bad_alloc)
            r"^capacity = 65536": "capacity = 4294967296",
            r"^mbufs = 8191": "mbufs = 0",
            r"^burst = 32": "burst = 100000",
            r"^ring_size = 16384": "ring_size = 1000",
            r"^evidence_packets_per_flow = 32": "evidence_packets_per_flow = -1",
            r"^decode_arena_mb = 64": "decode_arena_mb = 4096",
            r"^decode_memory_mb = 16": "decode_memory_mb = 128",  # above decode_arena_mb
            r"^decode_max_ratio = 200": "decode_max_ratio = 1",
        }
        for pattern, repl in cases.items():
            with self.subTest(value=repl):
                args = self.config({pattern: repl})
                self.refused(args, r"appliance\.toml:\d+:\d+: error: ")


if __name__ == "__main__":
    BIN = os.path.abspath(sys.argv[1])
    SRC = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
