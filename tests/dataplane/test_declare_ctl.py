#!/usr/bin/env python3
"""`datacustoms declare submit|revoke|list` against a real `datacustoms run` (net_pcap ports
replaying the demo traffic forever, own --file-prefix): an approver key from `declare keygen`,
a declaration signed with `declare sign`; submitting an unsigned one is refused with its error
and changes nothing; the signed one is accepted (stored in the declarations directory, a new
policy generation); `declare list` shows it active; `declare revoke` adds it to revoked.list and
reloads; list then shows it revoked. The policy_reload records of the audit log count the
reloads.
Usage: test_declare_ctl.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

BIN = sys.argv[1] if len(sys.argv) > 1 else "datacustoms"
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dplib import demo_config, prepare_demo  # noqa: E402

DECL = """id = "d-sg-2026"
exporter = "acme"
counterparty = "sg-analytics"
legal_basis = "EX-TRANSIT-2026"
categories = ["pi.contact"]
max_persons = 1000
max_bytes = 1000000000
valid_from = 2026-01-01
valid_until = 2099-12-31
purpose = "model results back to the processing customer"
approved_by = "officer"
"""


class DeclareCtlTest(unittest.TestCase):
    def cli(self, *args):
        return subprocess.run([BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=120, cwd=self.d)

    def remote(self, *args):
        return self.cli("declare", args[0], "--file-prefix", self.prefix, "--timeout", "60",
                        *args[1:])

    def wait_ready(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            r = self.cli("ctl", "--file-prefix", self.prefix, "status")
            if r.returncode == 0:
                return
            time.sleep(0.1)
        self.fail("the appliance never answered: " + r.stderr)

    def test_submit_list_revoke(self):
        self.d = tempfile.mkdtemp(prefix="h6d-declare-")
        self.prefix = "h6ddecl%d" % os.getpid()
        proc = None
        try:
            shutil.copytree(os.path.join(SRC, "examples", "policy"), os.path.join(self.d, "policy"))
            prepare_demo(BIN, SRC, self.d)
            r = self.cli("declare", "keygen", "officer")
            self.assertEqual(r.returncode, 0, r.stderr)
            pubkey = [l for l in r.stdout.splitlines() if l.startswith("public_key = ")][0]
            pol = os.path.join(self.d, "policy", "ftz-demo.toml")
            with open(pol) as f:
                text = f.read()
            text = text.replace('id = "sg-analytics"', 'id = "sg-analytics"\nrequire_declaration = true', 1)
            text += ('\n[declarations]\ndir = "declarations"\n\n[[approvers]]\nid = "officer"\n'
                     'name = "Compliance Officer"\n%s\n' % pubkey)
            with open(pol, "w") as f:
                f.write(text)
            os.makedirs(os.path.join(self.d, "policy", "declarations"))
            with open(os.path.join(self.d, "unsigned.toml"), "w") as f:
                f.write(DECL)
            with open(os.path.join(self.d, "d.toml"), "w") as f:
                f.write(DECL)
            r = self.cli("declare", "sign", "--key", "officer.key", "d.toml")
            self.assertEqual(r.returncode, 0, r.stderr)
            cfg = os.path.join(self.d, "appliance.toml")
            with open(cfg, "w") as f:
                f.write(demo_config(pol, eal=('"--file-prefix=%s"' % self.prefix,), infinite=True))
            proc = subprocess.Popen([BIN, "run", "--config", cfg, "--out-dir", self.d,
                                     "--max-seconds", "90"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.wait_ready()

            r = self.remote("submit", "unsigned.toml")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("declaration 'd-sg-2026' submit rejected", r.stderr)
            self.assertIn("unsigned.toml:1:1: error: unsigned", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.d, "policy", "declarations",
                                                         "d-sg-2026.toml")))

            r = self.remote("submit", "d.toml")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("declaration 'd-sg-2026' submit accepted (policy generation 2)", r.stdout)
            self.assertTrue(os.path.exists(os.path.join(self.d, "policy", "declarations",
                                                        "d-sg-2026.toml")))
            r = self.cli("declare", "list", "--policy", pol)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"d-sg-2026 +acme +sg-analytics +EX-TRANSIT-2026 .* active")

            r = self.remote("revoke", "d-sg-2026")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("declaration 'd-sg-2026' revoke accepted (policy generation 3)", r.stdout)
            with open(os.path.join(self.d, "policy", "declarations", "revoked.list")) as f:
                self.assertRegex(f.read(), r"^d-sg-2026  # revoked .* via the control socket\n")
            r = self.cli("declare", "list", "--policy", pol)
            self.assertRegex(r.stdout, r"d-sg-2026 .* revoked")
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
            shutil.rmtree(self.d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
