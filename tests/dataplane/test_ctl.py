#!/usr/bin/env python3
"""`datacustoms ctl` against a real `datacustoms run` (net_pcap ports replaying the demo traffic
forever, own --file-prefix): status, reload with a good policy (exit 0) and a bad one (exit 1,
every diagnostic printed, the rejected file's SHA-256 in the audit record), flows, counters;
the reload metrics; systemd notifications (READY/RELOADING/STOPPING, watchdog pings) through a
fake $NOTIFY_SOCKET; a bare metrics port bound to loopback with a warning, behind basic
authentication ([metrics] auth_file: curl without or with wrong credentials gets 401); verdicts by
counterparty and findings by category (label values from the policy's ids, "none", "other"; the
verdict sums between two `ctl counters` readings); and the metric names checked against
tests/data/metrics-names.txt.
Usage: test_ctl.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "datacustoms"
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dplib import demo_config, prepare_demo  # noqa: E402

NAMES = os.path.join(SRC, "tests", "data", "metrics-names.txt")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def load_names():
    """name -> (type, optional) from the committed list."""
    names = {}
    with open(NAMES) as f:
        for line in f:
            line = line.split("#", 1)
            optional = len(line) > 1 and "optional" in line[1]
            parts = line[0].split()
            if parts:
                names[parts[0]] = (parts[1], optional)
    return names


class Notifications:
    """A fake systemd notification socket: collects the datagrams sd_notify sends."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                continue
            except OSError:
                return

    def seen(self, text):
        return any(text in m for m in self.messages)


class CtlTest(unittest.TestCase):
    def ctl(self, *args):
        return subprocess.run([BIN, "ctl", "--file-prefix", self.prefix, "--timeout", "60"] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)

    USER, PASSWORD = "prometheus", "h6b scrape secret"

    def metrics(self):
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % self.port, headers={
            "Authorization": "Basic " + base64.b64encode(
                ("%s:%s" % (self.USER, self.PASSWORD)).encode()).decode()})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
            return r.read().decode()

    def curl_status(self, *args):
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args,
                            "http://127.0.0.1:%d/metrics" % self.port],
                           stdout=subprocess.PIPE, text=True, timeout=30)
        return r.stdout

    def verdicts(self):
        """allow/alert/block from `ctl counters` (its "verdicts, totals, flows" table)."""
        out = self.ctl("counters").stdout
        return {k: int(re.search(r"^%s +(\d+)$" % k, out, re.M).group(1))
                for k in ("allow", "alert", "block")}

    def check_labelled(self, text, policy_text, before, after):
        cps = set(re.findall(r'^id = "([^"]+)"', policy_text.split("[[counterparties]]", 1)[1], re.M))
        cats = set(re.findall(r'\[\[categories\]\]\s*\nid = "([^"]+)"', policy_text))
        self.assertIn("eu-hq", cps)
        self.assertIn("pi.identity", cats)
        rows = re.findall(r'^datacustoms_flow_verdicts_total\{verdict="(\w+)",counterparty="([^"]*)"\} (\d+)$',
                          text, re.M)
        self.assertEqual(len(rows), 3 * (len(cps) + 2), text)
        sums = {"allow": 0, "alert": 0, "block": 0}
        for verdict, cp, n in rows:
            self.assertIn(cp, cps | {"none", "other"})
            sums[verdict] += int(n)
        for k in sums:  # counters only grow: the scrape lies between the two readings
            self.assertLessEqual(before[k], sums[k], (k, before, sums))
            self.assertLessEqual(sums[k], after[k], (k, sums, after))
        self.assertGreater(sum(sums.values()), 0, text)
        found = re.findall(r'^datacustoms_category_findings_total\{category="([^"]*)"\} (\d+)$', text, re.M)
        self.assertEqual({c for c, _ in found}, cats | {"none", "other"})
        self.assertGreater(sum(int(n) for c, n in found if c in cats), 0, text)
        self.assertNotIn('datacustoms_flow_verdicts_total{verdict="allow"} ', text)

    def wait_ctl(self, *args):
        deadline = time.time() + 30
        while time.time() < deadline:
            r = self.ctl(*args)
            if r.returncode == 0:
                return r
            time.sleep(0.1)
        self.fail("ctl %s never answered: %s" % (" ".join(args), r.stderr))

    def test_ctl_commands(self):
        d = tempfile.mkdtemp(prefix="h5g-ctl-")
        self.prefix = "h5gctl%d" % os.getpid()
        self.port = free_port()
        proc = None
        notify = Notifications(os.path.join(d, "notify.sock"))
        try:
            shutil.copytree(os.path.join(SRC, "examples", "policy"), os.path.join(d, "policy"))
            prepare_demo(BIN, SRC, d)
            pol = os.path.join(d, "policy", "ftz-demo.toml")
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                # A bare port: loopback only, with a warning.
                f.write(demo_config(pol, eal=('"--file-prefix=%s"' % self.prefix,), infinite=True,
                                    sections='[metrics]\nlisten = "%d"\nauth_file = "metrics.htpasswd"'
                                    % self.port))
            # htpasswd-style: user:crypt-hash (SHA-512 crypt from openssl).
            hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=self.PASSWORD,
                                    stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
            with open(os.path.join(d, "metrics.htpasswd"), "w") as f:
                f.write("# the Prometheus server\n%s:%s\n" % (self.USER, hashed))
            os.chmod(os.path.join(d, "metrics.htpasswd"), 0o600)
            env = dict(os.environ, NOTIFY_SOCKET=notify.sock.getsockname(), WATCHDOG_USEC="400000")
            env.pop("WATCHDOG_PID", None)
            env.pop("JOURNAL_STREAM", None)
            proc = subprocess.Popen([BIN, "run", "--config", cfg, "--out-dir", d, "--max-seconds", "90",
                                     "--log-level", "debug"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

            status = self.wait_ctl("status")
            self.assertIn("ftz-demo", status.stdout)
            self.assertIn("(generation 1)", status.stdout)
            self.assertIn("audit     writer ok", status.stdout)
            self.assertRegex(status.stdout, r"ports +inside zone=domestic driver=net_pcap")
            js = json.loads(self.wait_ctl("--json", "status").stdout)
            self.assertEqual(js["generation"], 1)
            self.assertEqual(js["workers"], 1)
            self.assertEqual(len(js["policy_sha256"]), 64)
            self.assertTrue(notify.seen("READY=1"), notify.messages)

            # A good policy: exit 0, generation 2.
            with open(pol, encoding="utf-8") as f:
                original = f.read()
            good = original.replace('id = "sg-analytics"', 'id = "sg-analytics"\nstatus = "revoked"', 1)
            self.assertNotEqual(good, original)
            with open(pol, "w", encoding="utf-8") as f:
                f.write(good)
            r = self.ctl("reload")
            self.assertEqual(r.returncode, 0, r.stderr)
            good_sha = hashlib.sha256(good.encode()).hexdigest()
            self.assertIn("policy reloaded: ftz-demo", r.stdout)
            self.assertIn(good_sha, r.stdout)
            self.assertIn("(generation 2)", r.stdout)
            self.assertTrue(notify.seen("RELOADING=1"), notify.messages)
            self.assertTrue(any("MONOTONIC_USEC=" in m for m in notify.messages))

            # A bad one: two errors, exit 1, both printed, the live policy unchanged.
            bad = good.replace('action = "', 'action = "dorp', 1) + "\n[frobnicate]\nx = 1\n"
            with open(pol, "w", encoding="utf-8") as f:
                f.write(bad)
            bad_sha = hashlib.sha256(bad.encode()).hexdigest()
            r = self.ctl("reload")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("policy reload rejected", r.stderr)
            errors = [l for l in r.stderr.splitlines() if ": error: " in l]
            self.assertGreaterEqual(len(errors), 2, r.stderr)
            self.assertTrue(all(l.startswith(pol + ":") for l in errors), errors)
            self.assertIn("sha256 " + bad_sha, r.stderr)
            self.assertIn("live policy unchanged: ftz-demo", r.stderr)
            self.assertIn(good_sha, r.stderr)
            rj = self.ctl("--json", "reload")
            self.assertEqual(rj.returncode, 1)
            self.assertEqual(json.loads(rj.stdout)["result"], "rejected")

            # Flows: the demo's flows stay live (replayed forever, long TCP timeouts).
            deadline = time.time() + 20
            while time.time() < deadline:
                fl = self.ctl("flows", "--top", "3")
                rows = [l for l in fl.stdout.splitlines()[1:] if l.strip()]
                if fl.returncode == 0 and rows:
                    break
                time.sleep(0.2)
            self.assertEqual(fl.returncode, 0, fl.stderr)
            self.assertTrue(1 <= len(rows) <= 3, fl.stdout)
            self.assertRegex(rows[0], r"^1 +\S+:\d+ -> \S+:\d+ +\d+ +\d+ +\d+ +(allow|alert|block|pending)")
            fj = json.loads(self.ctl("--json", "flows", "--top", "5").stdout)
            sizes = [fj[k]["bytes"] for k in sorted(fj, key=int)]
            self.assertEqual(sizes, sorted(sizes, reverse=True))

            c = self.ctl("counters")
            self.assertEqual(c.returncode, 0, c.stderr)
            self.assertRegex(c.stdout, r"\ninside +domestic +\d+")
            self.assertIn("flows_expired", c.stdout)

            # Metrics: basic authentication first.
            self.assertEqual(self.curl_status(), "401")
            self.assertEqual(self.curl_status("-u", self.USER + ":wrong"), "401")
            self.assertEqual(self.curl_status("-u", "nobody:" + self.PASSWORD), "401")
            self.assertEqual(self.curl_status("-u", self.USER + ":" + self.PASSWORD), "200")
            # Verdicts by counterparty and findings by category, between two counter readings.
            before = self.verdicts()
            text = self.metrics()
            self.check_labelled(text, good, before, self.verdicts())
            # Reload results, generation, names from the committed list.
            self.assertIn('datacustoms_policy_reloads_total{result="ok"} 1', text)
            self.assertIn('datacustoms_policy_reloads_total{result="rejected"} 2', text)
            self.assertIn("datacustoms_policy_generation 2", text)
            self.assertIn('datacustoms_build_info{version="', text)
            self.assertNotIn("datacustoms_drops_total", text)
            self.assertRegex(text, r'datacustoms_dropped_packets_total\{reason="spoofed_source"\} \d+')
            self.assertRegex(text, r'datacustoms_legal_basis_expiry_timestamp_seconds\{basis="[^"]+"\} \d+')
            exported = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
            names = load_names()
            for name, kind in exported.items():
                self.assertIn(name, names, "metric %s is not in tests/data/metrics-names.txt" % name)
                self.assertEqual(names[name][0], kind, name)
                self.assertRegex(name, r"^datacustoms_[a-z0-9_]+$")
                if kind == "counter":
                    self.assertTrue(name.endswith("_total"), name)
            for name, (kind, optional) in names.items():
                if not optional:
                    self.assertIn(name, exported, "listed metric %s not exported" % name)

            # Watchdog pings came (every 200 ms while the workers pass quiescent states).
            self.assertTrue(notify.seen("WATCHDOG=1"), notify.messages)

            proc.send_signal(2)
            out, err = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, err)
            self.assertTrue(notify.seen("STOPPING=1"), notify.messages)
            self.assertIn("no address: bound to 127.0.0.1:%d" % self.port, err)
            self.assertIn("/metrics (basic authentication)", err)
            self.assertRegex(err, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (notice|info|warning|error|debug) ")
            # The audit records of the rejected reloads carry every diagnostic and the file's hash.
            records = []
            log = os.path.join(d, "audit")
            for name in sorted(os.listdir(log)):
                if name.endswith(".jsonl"):
                    with open(os.path.join(log, name)) as f:
                        records += [json.loads(l) for l in f if l.strip()]
            reloads = [x for x in records if x.get("type") == "policy_reload"]
            self.assertEqual([x["result"] for x in reloads], ["ok", "failed", "failed"])
            self.assertEqual(reloads[0]["file_sha256"], good_sha)
            self.assertEqual(reloads[1]["file_sha256"], bad_sha)
            self.assertEqual(reloads[1]["previous_sha256"], good_sha)
            self.assertEqual(len([x for x in reloads[1]["diagnostics"] if ": error: " in x]), len(errors))
        finally:
            notify.stop = True
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            notify.sock.close()
            shutil.rmtree(d, ignore_errors=True)
            shutil.rmtree("/var/run/dpdk/%s" % self.prefix, ignore_errors=True)

    def test_ctl_without_appliance(self):
        r = subprocess.run([BIN, "ctl", "--file-prefix", "h5g-none-%d" % os.getpid(), "status"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 3)
        self.assertIn("no telemetry socket", r.stderr)
        r = subprocess.run([BIN, "ctl", "frobnicate"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
