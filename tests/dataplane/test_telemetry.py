#!/usr/bin/env python3
"""DPDK telemetry: while `datacustoms run` forwards the demo traffic, the /datacustoms/* commands
on the telemetry socket report the live policy and the same counters the final table prints.
Usage: test_telemetry.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BIN = sys.argv[1] if len(sys.argv) > 1 else "datacustoms"
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
POLICY = os.path.join(SRC, "examples", "policy", "ftz-demo.toml")

# Telemetry needs EAL's runtime directory: a unique --file-prefix instead of --no-shconf.
CONFIG = """
pairs = [["inside", "outside"]]
[eal]
args = ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:error"]
main_lcore = 0
workers = [1]
[dataplane]
policy = "{policy}"
[[ports]]
name = "inside"
device = "net_pcap0,rx_pcap=${{out_dir}}/inside-rx.pcap,tx_pcap=${{out_dir}}/inside-tx.pcap"
zone = "domestic"
[[ports]]
name = "outside"
device = "net_pcap1,rx_pcap=${{out_dir}}/outside-rx.pcap,tx_pcap=${{out_dir}}/outside-tx.pcap"
zone = "crossborder"
"""


class TelemetryTest(unittest.TestCase):
    def test_commands_report_live_counters(self):
        d = tempfile.mkdtemp(prefix="dc-tel-")
        prefix = "dctel%d" % os.getpid()
        sock_path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
        proc = None
        try:
            subprocess.run([sys.executable, os.path.join(SRC, "examples", "demo", "gen_demo_captures.py"), d],
                           check=True, stdout=subprocess.DEVNULL)
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                f.write(CONFIG.format(prefix=prefix, policy=POLICY))
            stats = os.path.join(d, "stats.json")
            proc = subprocess.Popen([BIN, "run", "--config", cfg, "--out-dir", d, "--max-seconds", "30",
                                     "--stats-json", stats], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.time() + 20
            s = None
            while time.time() < deadline:
                if os.path.exists(sock_path):
                    try:
                        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                        s.connect(sock_path)
                        break
                    except OSError:
                        s = None
                time.sleep(0.05)
            self.assertIsNotNone(s, "telemetry socket never appeared")
            json.loads(s.recv(4096))

            def query(cmd):
                s.send(cmd.encode())
                return json.loads(s.recv(65536))[cmd]

            info = None
            while time.time() < deadline:  # attached once the workers run
                info = query("/datacustoms/info")
                if info:
                    break
                time.sleep(0.05)
            self.assertEqual(info["policy_id"], "ftz-demo")
            self.assertEqual(len(info["policy_sha256"]), 64)
            # Wait until the demo captures are through (37 frames), then compare with the end.
            while time.time() < deadline:
                ports = query("/datacustoms/ports")
                if ports["inside"]["rx_packets"] + ports["outside"]["rx_packets"] == 37:
                    break
                time.sleep(0.05)
            drops = query("/datacustoms/drops")
            verdicts = query("/datacustoms/verdicts")
            s.close()
            proc.send_signal(2)
            out, err = proc.communicate(timeout=30)
            self.assertEqual(proc.returncode, 0, err.decode())
            with open(stats) as f:
                final = json.load(f)
            self.assertEqual(ports["inside"]["zone"], "domestic")
            self.assertEqual(ports["inside"]["rx_packets"], final["ports"]["inside"]["rx_packets"])
            for reason, n in final["drops"].items():
                self.assertEqual(drops[reason], n, reason)
            self.assertEqual(verdicts["forwarded"], final["totals"]["forwarded"])
            self.assertEqual(verdicts["flows_created"], final["flows"]["created"])
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(d, ignore_errors=True)
            shutil.rmtree("/var/run/dpdk/%s" % prefix, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
