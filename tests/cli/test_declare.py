#!/usr/bin/env python3
"""`datacustoms declare keygen|sign|verify|list` against the fixtures in tests/cli/declarations/:
the keys are made and the declarations signed when the test runs (each file's first lines say
with which key, `# sign: li|wang|none`, and what to change after signing, `# then: OLD => NEW`),
then `declare verify` of each file and `declare list` of the directory must match the goldens
declarations/verify.expected and declarations/list.expected (exit code, stdout, stderr). The
reference time is fixed (--at), never the wall clock.

usage: test_declare.py DATACUSTOMS SOURCE_DIR [--update]   (--update rewrites the goldens)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
UPDATE = "--update" in sys.argv
FIXTURES = os.path.join(SRC, "tests", "cli", "declarations")
AT = "2026-06-15T10:00:00+08:00"


def run(args, cwd):
    p = subprocess.run([BIN] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class DeclareCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dc-declare-")
        cls.dir = os.path.join(cls.tmp, "t")
        shutil.copytree(FIXTURES, cls.dir)
        os.makedirs(os.path.join(cls.dir, "keys"))
        cls.keygen = {}
        for who in ("li", "wang"):
            cls.keygen[who] = run(["declare", "keygen", os.path.join("keys", who)], cls.dir)
        decls = os.path.join(cls.dir, "declarations")
        cls.names = sorted(f for f in os.listdir(decls) if f.endswith(".toml"))
        for name in cls.names:
            path = os.path.join(decls, name)
            with open(path) as f:
                text = f.read()
            key = re.search(r"^# sign: (\w+)", text, re.M).group(1)
            if key != "none":
                rc, out, err = run(["declare", "sign", "--key", os.path.join("keys", key + ".key"),
                                    os.path.join("declarations", name)], cls.dir)
                assert rc == 0, (name, out, err)
            then = re.search(r"^# then: (.+) => (.+)$", text, re.M)
            if then:
                with open(path) as f:
                    signed = f.read()
                assert then.group(1) in signed, name
                with open(path, "w") as f:
                    f.write(signed.replace(then.group(1), then.group(2)))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def golden(self, name, got):
        path = os.path.join(FIXTURES, name)
        if UPDATE:
            with open(path, "w") as f:
                f.write(got)
            return
        with open(path) as f:
            self.assertEqual(got, f.read(), "output differs from " + path)

    def test_keygen_prints_the_policy_line(self):
        for who, (rc, out, err) in self.keygen.items():
            self.assertEqual(rc, 0, err)
            self.assertRegex(out, r'(?m)^public_key = "[A-Za-z0-9+/]{43}="$')
            mode = os.stat(os.path.join(self.dir, "keys", who + ".key")).st_mode & 0o777
            self.assertEqual(mode, 0o600)
        # Never over an existing key.
        rc, _, err = run(["declare", "keygen", os.path.join("keys", "li")], self.dir)
        self.assertEqual(rc, 2, err)

    def test_sign_replaces_the_signature_line(self):
        path = os.path.join(self.dir, "declarations", "01-ok.toml")
        with open(path) as f:
            before = f.read()
        self.assertEqual(before.count("signature = "), 1)
        rc, out, err = run(["declare", "sign", "--key", "keys/li.key", path], self.dir)
        self.assertEqual(rc, 0, err)
        with open(path) as f:
            after = f.read()
        self.assertEqual(after.count("signature = "), 1)
        self.assertEqual(after, before, "Ed25519 is deterministic: the same signature again")

    def test_verify_goldens(self):
        got = ""
        for name in self.names:
            rc, out, err = run(["declare", "verify", "--policy", "policy.toml", "--at", AT,
                                os.path.join("declarations", name)], self.dir)
            got += "== %s\nexit %d\n--- stdout\n%s--- stderr\n%s" % (name, rc, out, err)
        self.golden("verify.expected", got)

    def test_list_golden(self):
        rc, out, err = run(["declare", "list", "--policy", "policy.toml", "--at", AT], self.dir)
        self.golden("list.expected", "exit %d\n--- stdout\n%s--- stderr\n%s" % (rc, out, err))

    def test_policy_check_reports_invalid_declarations_as_warnings(self):
        rc, out, err = run(["policy", "check", "policy.toml", "--at", AT], self.dir)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("declaration not in force: ./declarations/02-unsigned.toml:1:1: error: "
                      "unsigned", out + err)

    def test_usage(self):
        for args in (["declare"], ["declare", "frobnicate"], ["declare", "verify", "x.toml"],
                     ["declare", "sign", "x.toml"], ["declare", "list"]):
            self.assertEqual(run(args, self.dir)[0], 2, args)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + [a for a in sys.argv[3:] if a != "--update"])
