#!/usr/bin/env python3
"""Audit disk full: with the audit log on a full filesystem (a 64 KiB tmpfs filled up), the
appliance cannot write records, so no border-crossing flow may pass (failure condition
audit_unavailable, fail closed by default): the clean upload that passes on a healthy disk must
not come out, the drops are counted, and the failed close is reported (exit 1).
Needs root (mount). Usage: test_disk_full.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN = sys.argv[1] if len(sys.argv) > 1 else "datacustoms"
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(SRC, "tests", "dataplane"))
from test_forwarding import read_pcap  # noqa: E402
from dplib import demo_config, prepare_demo  # noqa: E402



class DiskFullTest(unittest.TestCase):
    def test_no_border_flow_passes_when_records_cannot_be_written(self):
        d = tempfile.mkdtemp(prefix="dc-diskfull-")
        mnt = os.path.join(d, "fs")
        os.mkdir(mnt)
        mounted = False
        try:
            if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
                              stderr=subprocess.DEVNULL).returncode != 0:
                self.skipTest("cannot mount a tmpfs (needs root)")
            mounted = True
            fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT)
            try:  # fill it up
                while os.write(fd, b"\0" * 4096) > 0:
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
            prepare_demo(BIN, SRC, d)
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                f.write(demo_config(os.path.join(SRC, "examples", "policy", "ftz-demo.toml"),
                                    audit_dir=os.path.join(mnt, "audit"), sections="[inspect]\nflows = 64"))
            stats = os.path.join(d, "stats.json")
            p = subprocess.run([BIN, "run", "--config", cfg, "--out-dir", d, "--idle-exit-ms", "400",
                                "--max-seconds", "60", "--stats-json", stats],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            err = p.stderr.decode()
            self.assertEqual(p.returncode, 1, err)
            self.assertIn("closing the audit log failed", err)
            with open(stats) as f:
                s = json.load(f)
            self.assertGreater(s["drops"]["audit_unavailable"], 0)
            out = read_pcap(os.path.join(d, "outside-tx.pcap"))
            self.assertFalse([f for f in out if b"SH-2026-0001" in f],
                             "the clean upload crossed the border without a record")
            self.assertFalse([f for f in out if len(f) > 60 and f[12:14] == b"\x08\x00" and f[47] & 0x18 == 0x18],
                             "no payload segment may cross")
        finally:
            if mounted:
                subprocess.run(["umount", mnt])
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    r = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    # A skip must show as skipped in ctest (SKIP_RETURN_CODE 77), not as passed.
    sys.exit(1 if not r.wasSuccessful() else 77 if r.skipped else 0)
