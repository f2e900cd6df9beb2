#!/usr/bin/env python3
"""[accounting] enabled by a policy reload, without a restart (docs/accounting.md "Enabling and
disabling by a reload"): a `datacustoms run` (net_pcap ports replaying the demo traffic forever)
starts with a policy without [accounting] and an appliance.toml with an [accounting] key_file and
state_dir; a SIGHUP with [accounting] added starts the ledger on its LMDB store before the new
generation is published (the store is created then); a reload that removes it keeps the ledger
open and says so; a changed store in appliance.toml is a warning (restart).
Without a key_file the reload that enables [accounting] is rejected and the old policy stays.
Usage: test_accounting_reload.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = sys.argv[1] if len(sys.argv) > 1 else "datacustoms"
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dplib import demo_config, prepare_demo  # noqa: E402

ACCOUNTING = "\n[accounting]\nenabled = true\n"


class Appliance:
    """`datacustoms run` with its stderr lines in a queue."""

    def __init__(self, test, cfg, d):
        self.test = test
        self.proc = subprocess.Popen([BIN, "run", "--config", cfg, "--out-dir", d,
                                      "--max-seconds", "90"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(l) for l in self.proc.stderr],
                         daemon=True).start()
        self.seen = []

    def wait_for(self, text, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        self.test.fail("no %r on stderr within %ds; saw:\n%s" % (text, seconds, "".join(self.seen)))

    def reload(self, expect):
        self.proc.send_signal(signal.SIGHUP)
        return self.wait_for(expect)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=60)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class AccountingReloadTest(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="h8a-acct-reload-")
        shutil.copytree(os.path.join(SRC, "examples", "policy"), os.path.join(self.d, "policy"))
        prepare_demo(BIN, SRC, self.d)
        self.pol = os.path.join(self.d, "policy", "ftz-demo.toml")
        with open(self.pol, encoding="utf-8") as f:
            self.original = f.read()
        self.assertNotIn("[accounting]", self.original)
        self.key = os.path.join(self.d, "acct.key")
        r = subprocess.run([BIN, "accounting", "keygen", self.key], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.state = os.path.join(self.d, "acct-state")
        self.app = None

    def tearDown(self):
        if self.app:
            self.app.kill()
        shutil.rmtree(self.d, ignore_errors=True)

    def config(self, accounting_table):
        cfg = os.path.join(self.d, "appliance.toml")
        with open(cfg, "w") as f:
            f.write(demo_config(self.pol, infinite=True,
                                sections="[inspect]\nflows = 64\n" + accounting_table))
        return cfg

    def write_policy(self, text):
        with open(self.pol, "w", encoding="utf-8") as f:
            f.write(text)

    def show(self):
        r = subprocess.run([BIN, "accounting", "show", "--state-dir", self.state, "--format",
                            "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        return doc

    def test_reload_enables_then_removes_accounting(self):
        table = '[accounting]\nkey_file = "%s"\nstate_dir = "%s"\n' % (self.key, self.state)
        cfg = self.config(table)
        self.app = Appliance(self, cfg, self.d)
        self.app.wait_for("ledger starts when a policy enables [accounting]")
        self.app.wait_for("running with")
        self.assertFalse(os.path.exists(self.state), "no store before [accounting]")
        self.write_policy(self.original + ACCOUNTING)
        self.app.reload("customs accounting enabled by the reload")
        self.app.wait_for("policy reloaded")
        # The ledger opened its store when the reload came (the replayed demo flows were all
        # admitted under the first generation, so none of them is counted: no claim is made).
        self.assertTrue(os.path.exists(os.path.join(self.state, "data.mdb")))
        self.assertEqual(self.show()["store"], "lmdb:" + self.state)
        # appliance.toml names another store: a warning, the ledger keeps its store.
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace(self.state, self.state + "-new"))
        self.write_policy(self.original)  # and [accounting] removed
        self.app.reload("the reloaded policy has no [accounting]")
        self.app.wait_for("store settings changed; the ledger keeps lmdb:" + self.state)
        self.app.wait_for("policy reloaded")
        self.assertEqual(self.app.stop(), 0)
        self.assertFalse(os.path.exists(self.state + "-new"))

    def test_reload_without_a_key_file_is_rejected(self):
        cfg = self.config("")
        self.app = Appliance(self, cfg, self.d)
        self.app.wait_for("running with")
        self.write_policy(self.original + ACCOUNTING)
        line = self.app.reload("policy reload failed")
        self.assertIn("started without [accounting] key_file", line)
        self.assertEqual(self.app.stop(), 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
