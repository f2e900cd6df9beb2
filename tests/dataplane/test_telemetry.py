#!/usr/bin/env python3
"""Live counters: while `datacustoms run` forwards the demo traffic, the /datacustoms/* commands
on the DPDK telemetry socket and the Prometheus endpoint (GET /metrics) report the live policy
and the same counters the final table prints.
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
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "datacustoms"
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
POLICY = os.path.join(SRC, "examples", "policy", "ftz-demo.toml")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dplib import demo_config, prepare_demo  # noqa: E402



class TelemetryTest(unittest.TestCase):
    def test_commands_report_live_counters(self):
        d = tempfile.mkdtemp(prefix="dc-tel-")
        prefix = "dctel%d" % os.getpid()
        sock_path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
        proc = None
        try:
            prepare_demo(BIN, SRC, d, keys=True)
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                probe = socket.socket()
                probe.bind(("127.0.0.1", 0))  # a free port for the metrics endpoint
                metrics_port = probe.getsockname()[1]
                probe.close()
                # Telemetry needs EAL's runtime directory: a unique --file-prefix, not --no-shconf.
                f.write(demo_config(POLICY, eal=('"--file-prefix=%s"' % prefix,),
                                    sections='[metrics]\nlisten = "127.0.0.1:%d"' % metrics_port))
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
            # ...and decided: border payload may wait for its flow_open record to be fsynced.
            while time.time() < deadline:
                verdicts = query("/datacustoms/verdicts")
                if verdicts["forwarded"] + verdicts["dropped"] == 37:
                    break
                time.sleep(0.05)
            drops = query("/datacustoms/drops")
            verdicts = query("/datacustoms/verdicts")
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port, timeout=10) as resp:
                self.assertEqual(resp.status, 200)
                self.assertIn("text/plain", resp.headers["Content-Type"])
                metrics = resp.read().decode()
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
            # Prometheus text format: the same numbers.
            samples = {}
            for line in metrics.splitlines():
                if line and not line.startswith("#"):
                    name, value = line.rsplit(" ", 1)
                    samples[name] = int(value)
            self.assertEqual(samples['datacustoms_dropped_packets_total{reason="spoofed_source"}'],
                             final["drops"]["spoofed_source"])
            self.assertEqual(samples['datacustoms_port_rx_packets_total{port="inside",zone="domestic"}'],
                             final["ports"]["inside"]["rx_packets"])
            self.assertEqual(samples["datacustoms_forwarded_packets_total"], final["totals"]["forwarded"])
            self.assertIn('datacustoms_policy_info{id="ftz-demo"', metrics)
            self.assertIn("# TYPE datacustoms_dropped_packets_total counter", metrics)
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(d, ignore_errors=True)
            shutil.rmtree("/var/run/dpdk/%s" % prefix, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
