#!/usr/bin/env python3
"""`datacustoms accounting show`: rows per exporter / basis / counterparty / declaration read from
a real redis-server (started here on a free loopback port, no persistence, populated with
redis-cli in the site store's layout) and from an LMDB state directory; the policy's limits;
usage and store errors; and `config check` on [accounting].

usage: test_accounting.py DATACUSTOMS_BINARY SOURCE_DIR [unittest options]
Hermetic: temporary directories only, removed afterwards.
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

BIN = None
SRC = None
PREFIX = "dc:acct:"


def run(args, timeout=60):
    p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    def __init__(self, tmp):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.01)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def cli(self, *args):
        subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), check=True,
                       stdout=subprocess.DEVNULL)

    def add(self, scope, persons):
        """`persons` distinct 16-byte members in `scope`, as the Lua claim script leaves them."""
        members = ["p%015d" % i for i in persons]
        self.cli("SADD", PREFIX + "s:" + scope, *members)
        self.cli("SADD", PREFIX + "index", scope)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class AccountingShow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dc-accounting-")
        cls.redis = Redis(cls.tmp)
        r = cls.redis
        r.add("2026/e=acme/n", range(0, 120))
        r.add("2026/e=acme/s", range(0, 3))
        r.add("2026/e=acme/b=SCC-2025-0042/n", range(0, 100))
        r.add("2026/e=acme/b=SCC-2025-0042/s", range(0, 3))
        r.add("2026/e=acme/c=sg-analytics/b=SCC-2025-0042/n", range(0, 100))
        r.add("2026/e=acme/d=D-7/n", range(0, 20))
        r.add("2026/e=-/n", range(0, 5))
        r.add("2025/e=acme/n", range(0, 7))
        cls.addr = "127.0.0.1:%d" % r.port

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def show_json(self, *extra):
        rc, out, err = run(["accounting", "show", "--redis", self.addr, "--format", "json"]
                           + list(extra))
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def test_rows_and_counts_per_kind(self):
        doc = self.show_json("--year", "2026")
        self.assertTrue(doc["store"].startswith("redis:127.0.0.1:"))
        rows = {(r["exporter"], r["row"], r.get("basis", ""), r.get("counterparty", ""),
                 r.get("declaration", "")): (r["non_sensitive"], r["sensitive"])
                for r in doc["rows"]}
        self.assertEqual(rows, {
            ("-", "exporter", "", "", ""): (5, 0),
            ("acme", "exporter", "", "", ""): (120, 3),
            ("acme", "basis", "SCC-2025-0042", "", ""): (100, 3),
            ("acme", "counterparty", "SCC-2025-0042", "sg-analytics", ""): (100, 0),
            ("acme", "declaration", "", "", "D-7"): (20, 0),
        })
        self.assertEqual(len(self.show_json()["rows"]), 6)  # every year: 2025 too
        self.assertEqual(len(self.show_json("--year", "2024")["rows"]), 0)

    def test_policy_limits_and_mechanism(self):
        policy = os.path.join(SRC, "examples", "policy", "ftz-demo.toml")
        doc = self.show_json("--year", "2026", "--policy", policy)
        basis = [r for r in doc["rows"] if r["row"] == "basis"][0]
        self.assertEqual(basis["limit_non_sensitive"]["limit"], 999999)
        self.assertEqual(basis["limit_sensitive"]["limit"], 9999)
        self.assertIn("SCC-2025-0042", basis["limit_non_sensitive"]["source"])
        acme = [r for r in doc["rows"] if r["row"] == "exporter" and r["exporter"] == "acme"][0]
        self.assertEqual(acme["mechanism_needed_non_sensitive"], "exempt")
        self.assertEqual(acme["mechanism_needed_sensitive"], "standard_contract_or_certification")
        rc, out, err = run(["accounting", "show", "--redis", self.addr, "--policy", policy])
        self.assertEqual(rc, 0, err)
        self.assertIn("threshold and mechanism", out)
        line = [l for l in out.splitlines() if "SCC-2025-0042" in l and " basis " in l][0]
        self.assertIn("cap 999,999 (used 100, 0.0%)", line)
        self.assertIn("sensitive cap 9,999 (used 3, 0.0%)", line)
        acme = [l for l in out.splitlines() if " acme " in l and " exporter " in l][0]
        self.assertIn("standard contract or certification", acme)  # 3 sensitive persons

    def test_usage_and_store_errors(self):
        for args in (["show"], ["show", "--redis", self.addr, "--state-dir", self.tmp],
                     ["show", "--redis", self.addr, "--year", "26"],
                     ["show", "--redis", self.addr, "--format", "xml"], ["list"], []):
            rc, _, err = run(["accounting"] + args)
            self.assertEqual(rc, 2, args)
            self.assertIn("usage: datacustoms accounting show", err)
        rc, _, err = run(["accounting", "show", "--redis", "127.0.0.1:%d" % free_port()])
        self.assertEqual(rc, 2)
        self.assertIn("cannot connect", err)
        rc, _, err = run(["accounting", "show", "--redis", "nohostport"])
        self.assertEqual(rc, 2)
        self.assertIn("not host:port", err)
        rc, _, err = run(["accounting", "show", "--state-dir", os.path.join(self.tmp, "none")])
        self.assertEqual(rc, 2)
        self.assertIn("lmdb", err)

    def test_config_names_the_store(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        cfg = os.path.join(d, "appliance.toml")
        with open(cfg, "w") as f:
            f.write('pairs = [["a", "b"]]\n[accounting]\nredis = "%s"\n'
                    '[[ports]]\nname = "a"\ndevice = "net_null0"\nzone = "domestic"\n'
                    '[[ports]]\nname = "b"\ndevice = "net_null1"\nzone = "crossborder"\n'
                    % self.addr)
        rc, out, err = run(["accounting", "show", "--config", cfg, "--format", "json"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["rows"]), 6)


def mdb_text(data):
    """A key or value in mdb_load -T form: printable bytes as they are, others as \\xx."""
    return "".join(chr(b) if 32 <= b < 127 and b != 92 else "\\%02x" % b for b in data)


class AccountingShowLmdb(unittest.TestCase):
    def test_state_dir_is_read_without_writing(self):
        d = tempfile.mkdtemp(prefix="dc-accounting-lmdb-")
        try:
            counts = {"2026/e=acme/n": 120, "2026/e=acme/b=SCC-2025-0042/s": 4}
            # The store's layout (audit/person_store_lmdb.cpp): counts = scope -> uint64 (host
            # order, little-endian here), members = scope NUL digest -> empty.
            for db, rows in (("counts", [(k.encode(), v.to_bytes(8, "little"))
                                         for k, v in counts.items()]),
                             ("members", [(b"2026/e=acme/n\0" + bytes(16), b"")])):
                text = "".join("%s\n%s\n" % (mdb_text(k), mdb_text(v)) for k, v in rows)
                subprocess.run(["mdb_load", "-T", "-s", db, d], input=text.encode(), check=True)
            before = os.path.getmtime(os.path.join(d, "data.mdb"))
            rc, out, err = run(["accounting", "show", "--state-dir", d, "--format", "json"])
            self.assertEqual(rc, 0, err)
            doc = json.loads(out)
            self.assertEqual(doc["store"], "lmdb:" + d)
            rows = {(r["row"], r["non_sensitive"], r["sensitive"]) for r in doc["rows"]}
            self.assertEqual(rows, {("exporter", 120, 0), ("basis", 0, 4)})
            self.assertEqual(os.path.getmtime(os.path.join(d, "data.mdb")), before)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class AccountingConfig(unittest.TestCase):
    def test_config_check_reports_bad_accounting_keys(self):
        d = tempfile.mkdtemp(prefix="dc-accounting-cfg-")
        try:
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                f.write('pairs = [["a", "b"]]\n[accounting]\nredis = "nohost"\n'
                        'site_unavailable = "maybe"\nredis_timeout_ms = 5\nstate_dirr = "x"\n'
                        '[[ports]]\nname = "a"\ndevice = "net_null0"\nzone = "domestic"\n'
                        '[[ports]]\nname = "b"\ndevice = "net_null1"\nzone = "crossborder"\n')
            rc, out, err = run(["config", "check", cfg])
            text = out + err
            self.assertEqual(rc, 1, text)  # config check: 1 = problems found
            self.assertIn("'redis' = \"nohost\" is not host:port", text)
            self.assertIn("unknown site_unavailable \"maybe\"", text)
            self.assertIn("'redis_timeout_ms' = 5 is out of range", text)
            self.assertIn("unknown key 'state_dirr' in [accounting]", text)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    BIN = os.path.abspath(sys.argv[1])
    SRC = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
