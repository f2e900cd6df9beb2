#!/usr/bin/env python3
"""Golden outputs of `datacustoms config check` for the broken (and one sound) appliance.toml
files in tests/cli/config_check/cases/: the exit code, stdout and stderr of each must match
its .expected file. Paths are printed relative to the working directory, so the outputs are
stable (absolute ones inside messages of other modules lose the temporary directory's prefix);
the CPU list of this machine is replaced by "N". `run` is checked to stop on the same
problems (exit 2, every problem listed, nothing started).

usage: test_config_check.py DATACUSTOMS SOURCE_DIR [--update]   (--update rewrites the goldens)
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
FIXTURES = os.path.join(SRC, "tests", "cli", "config_check")
CASES = sorted(f[:-5] for f in os.listdir(os.path.join(FIXTURES, "cases")) if f.endswith(".toml"))


def normalise(text, root=None):
    if root:
        text = text.replace(root + "/", "")
    # Where DPDK's drivers are and how to add one depend on the build (DC_DPDK_STATIC:
    # linked in, or Debian's plugin directory): one neutral form for both.
    text = re.sub(r" in (/[^ ]*/pmds-[0-9.]+|this binary \(DPDK linked statically\)) \(",
                  " in DRIVERS (", text)
    text = re.sub(r"install its plugin: apt install librte-([a-z0-9-]+?)-?[0-9]+$",
                  lambda m: "add driver " + m.group(1), text, flags=re.M)
    text = re.sub(r"rebuild datacustoms with it: cmake -DDC_DPDK_DRIVERS=\"\.\.\.;([a-z0-9_]+)\".*$",
                  lambda m: "add driver " + m.group(1).replace("_", "-"), text, flags=re.M)
    text = re.sub(r"CPUs: [0-9,-]+\)", "CPUs: N)", text)
    return re.sub(r"among the CPUs [0-9,-]+,", "among the CPUs N,", text)


class ConfigCheckGolden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A copy: the keys are made here (never committed) and modes set (git keeps none).
        cls.tmp = tempfile.mkdtemp(prefix="dc-config-check-")
        cls.dir = os.path.join(cls.tmp, "t")
        shutil.copytree(FIXTURES, cls.dir)
        common = os.path.join(cls.dir, "common")
        subprocess.run([BIN, "audit", "keygen", "--out", os.path.join(common, "audit")],
                       check=True, stdout=subprocess.DEVNULL)
        for name in ("hmac.key", "short-hmac.key", "plain.htpasswd", "metrics.htpasswd"):
            os.chmod(os.path.join(common, name), 0o600)
        shutil.copy(os.path.join(common, "hmac.key"), os.path.join(common, "open-hmac.key"))
        os.chmod(os.path.join(common, "open-hmac.key"), 0o644)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, case, *extra):
        cfg = os.path.join("cases", case + ".toml")
        p = subprocess.run([BIN, "config", "check", cfg, "--out-dir", "out", *extra],
                           cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        return (p.returncode, normalise(p.stdout.decode(), self.dir),
                normalise(p.stderr.decode(), self.dir))

    def test_golden_outputs(self):
        self.assertGreaterEqual(len([c for c in CASES if not c.startswith("00-")]), 15)
        for case in CASES:
            with self.subTest(case=case):
                rc, out, err = self.check(case)
                got = "exit %d\n--- stdout\n%s--- stderr\n%s" % (rc, out, err)
                golden = os.path.join(FIXTURES, "cases", case + ".expected")
                if UPDATE:
                    with open(golden, "w") as f:
                        f.write(got)
                    continue
                with open(golden) as f:
                    self.assertEqual(got, f.read(), "%s: output differs from %s" % (case, golden))

    def test_strict_counts_warnings(self):
        self.assertEqual(self.check("09-key-mode-open")[0], 0)
        self.assertEqual(self.check("09-key-mode-open", "--strict")[0], 1)

    def test_usage(self):
        p = subprocess.run([BIN, "config", "check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage: datacustoms config check FILE", p.stderr.decode())
        p = subprocess.run([BIN, "config", "check", "no-such.toml"], cwd=self.dir,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no-such.toml", p.stderr.decode())
        p = subprocess.run([BIN, "config", "check", "a.toml", "--bogus"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 2)

    def test_run_stops_on_the_same_problems(self):
        # `run` checks first: every problem at once, exit 2, nothing started.
        cfg = os.path.join("cases", "20-everything-at-once.toml")
        p = subprocess.run([BIN, "run", "--config", cfg, "--out-dir", "out-run"], cwd=self.dir,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 2, err)
        _, _, check_err = self.check("20-everything-at-once")
        for line in check_err.splitlines():
            if ": error: " in line:
                self.assertIn(line, normalise(err, self.dir))
        self.assertIn("nothing started", err)
        self.assertNotIn("running with", err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "out-run", "audit")))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
