#!/usr/bin/env python3
"""Hot policy reload: SIGHUP makes a running `datacustoms run` load, check and compile its policy
file again and publish it without stopping; a broken file changes nothing. Both outcomes are
`policy_reload` audit records, and the log still verifies.
Usage: test_reload.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import hashlib
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



class ReloadTest(unittest.TestCase):
    def test_sighup_reloads_and_a_broken_policy_changes_nothing(self):
        d = tempfile.mkdtemp(prefix="dc-reload-")
        proc = None
        try:
            shutil.copytree(os.path.join(SRC, "examples", "policy"), os.path.join(d, "policy"))
            shutil.copytree(os.path.join(SRC, "examples", "demo"), os.path.join(d, "demo"))
            prepare_demo(BIN, SRC, d)
            pol = os.path.join(d, "policy", "ftz-demo.toml")
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                f.write(demo_config(pol, sections="[inspect]\nflows = 64"))
            proc = subprocess.Popen([BIN, "run", "--config", cfg, "--out-dir", d, "--max-seconds", "60"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            lines = queue.Queue()
            threading.Thread(target=lambda: [lines.put(l) for l in proc.stderr], daemon=True).start()

            def wait_for(text, seconds=30):
                deadline = time.time() + seconds
                seen = []
                while time.time() < deadline:
                    try:
                        line = lines.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    seen.append(line)
                    if text in line:
                        return line
                self.fail("no %r on stderr within %ds; saw:\n%s" % (text, seconds, "".join(seen)))

            wait_for("running with")
            with open(pol, encoding="utf-8") as f:
                original = f.read()
            revoked = original.replace('id = "sg-analytics"', 'id = "sg-analytics"\nstatus = "revoked"', 1)
            self.assertNotEqual(revoked, original)
            with open(pol, "w", encoding="utf-8") as f:
                f.write(revoked)
            new_sha = hashlib.sha256(revoked.encode()).hexdigest()
            proc.send_signal(signal.SIGHUP)
            line = wait_for("policy reloaded")
            self.assertIn(new_sha, line)
            self.assertIn("generation 2", line)

            with open(pol, "w", encoding="utf-8") as f:
                f.write(revoked + "\n[[zones]\n")  # a syntax error
            proc.send_signal(signal.SIGHUP)
            line = wait_for("policy reload failed")
            self.assertIn(new_sha, line, "the last good policy stays live")

            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0)
            records = []
            log = os.path.join(d, "audit")
            for name in sorted(os.listdir(log)):
                if name.endswith(".jsonl"):
                    with open(os.path.join(log, name)) as f:
                        records += [json.loads(l) for l in f if l.strip()]
            reloads = [r for r in records if r.get("type") == "policy_reload"]
            self.assertEqual([r["result"] for r in reloads], ["ok", "failed"])
            self.assertEqual(reloads[0]["policy_sha256"], new_sha)
            self.assertEqual(reloads[0]["previous_sha256"], hashlib.sha256(original.encode()).hexdigest())
            self.assertIn("error", reloads[1])
            v = subprocess.run([BIN, "audit", "verify", log, "--pubkey", os.path.join(d, "audit.pub")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(v.returncode, 0, v.stdout.decode() + v.stderr.decode())
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
