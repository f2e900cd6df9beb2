#!/usr/bin/env python3
"""Runs one tests/replay/<case>/: generates its captures, replays them, checks expected.json.

usage: run_case.py CASE_DIR DATACUSTOMS SOURCE_DIR [--keep DIR] [--burst N] [-v]

--burst N replays every run with `datacustoms replay --burst N` (packets judged in bursts of N, as
a live worker receives them): the same expectations must hold.

CASE_DIR holds gen.py (generate(outdir) -> {capture name: path}), expected.json and README.md.
expected.json:
  { "runs": [ {
      "name": "...",
      "policy": "@SRC/examples/policy/ftz-demo.toml" | "policy.toml" (relative to CASE_DIR)
                | "@GEN/name" (a file generate() returned under that name),
      "captures": ["x.pcap", ...],           # names returned by generate(); replayed together
      "args": ["--fcs", "strip"],            # extra `datacustoms replay` options ("{name}" as below)
      "exit_code": 0,                        # or "exit_nonzero": true
      "stderr_contains": ["{x.pcap}", ...],  # "{name}" is replaced by that capture's path
      "flow_count": N,                       # exact number of flow lines on stdout
      "repeat": N,                           # replay N times, stdout must be byte-identical
      "same_stdout_as": "other run name",    # stdout byte-identical to another run's
      "flows": [ {
          "name": "...",
          "match": {"src_port": 41001},      # a list value expands into one test per element
          "absent": true,                     # no flow may match (instead of exactly one)
          "verdict": "block" | "verdict_not": "allow",
          "reasons": ["kind:id", ...],        # the flow's complete reason list, in order
          "reasons_include": [...],           # ordered subsequence of the reasons
          "reasons_exclude": ["kind", ...],   # kinds that must not appear
          "fields": {"categories": [...]},    # exact values of other JSON fields
          "expected_failure": "BUG: ..."      # the engine is known to get this wrong
      } ] } ] }
A reason matches "kind:id" when its kind is kind and id is its category, counterparty, basis,
detector (as in `policy test` expect_reasons) or detail (http_anomaly / content_uninspected); "kind" alone matches any reason of that kind.
Every expectation is one unittest test; a known engine bug is an expectedFailure, so the case
still passes while the bug exists and fails ("unexpected success") once it is fixed.
"""
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tempfile
import unittest


def load_gen(case_dir):
    spec = importlib.util.spec_from_file_location("gen_" + os.path.basename(case_dir),
                                                  os.path.join(case_dir, "gen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def reason_str(r):
    ids = [r[k] for k in ("category", "counterparty", "basis", "detector") if k in r]
    return r["kind"] + (":" + ids[0] if ids else "")


def reason_matches(r, want):
    kind, _, ident = want.partition(":")
    if r.get("kind") != kind:
        return False
    return not ident or ident in [r.get(k) for k in
                                  ("category", "counterparty", "basis", "detector", "detail")]


def is_subsequence(reasons, wanted):
    it = iter(reasons)
    return all(any(reason_matches(r, w) for r in it) for w in wanted)


def expand(match):
    keys = list(match)
    values = [v if isinstance(v, list) else [v] for v in match.values()]
    for combo in itertools.product(*values):
        yield dict(zip(keys, combo))


class Replay:
    """Runs the replays of a case once, lazily, and keeps the results for the tests."""

    def __init__(self, case_dir, binary, source_dir, workdir):
        self.case_dir, self.binary, self.source_dir, self.workdir = case_dir, binary, source_dir, workdir
        self.expected = json.load(open(os.path.join(case_dir, "expected.json")))
        self.captures = load_gen(case_dir).generate(workdir)
        self.results = {}
        self.known_bugs = {}  # test name -> expected_failure text
        self.extra_args = []  # for every replay (--burst)

    def policy_path(self, run):
        p = run["policy"]
        if p.startswith("@SRC/"):
            return os.path.join(self.source_dir, p[len("@SRC/"):])
        if p.startswith("@GEN/"):
            return self.captures[p[len("@GEN/"):]]
        return os.path.join(self.case_dir, p)

    def argv(self, run):
        return [self.binary, "replay", "--policy", self.policy_path(run)] + \
               [self.subst(a) for a in run.get("args", [])] + self.extra_args + \
               [self.captures[c] for c in run["captures"]]

    def run(self, run):
        name = run["name"]
        if name not in self.results:
            outs = []
            for _ in range(run.get("repeat", 1)):
                p = subprocess.run(self.argv(run), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=120)
                outs.append(p)
            flows = []
            for line in outs[0].stdout.decode().splitlines():
                if line.strip():
                    flows.append(json.loads(line))
            self.results[name] = (outs, flows)
        return self.results[name]

    def subst(self, s):
        for k, v in self.captures.items():
            s = s.replace("{" + k + "}", v)
        return s


def make_tests(replay):
    class Case(unittest.TestCase):
        maxDiff = None

    def add(name, fn, expected_failure=None):
        if expected_failure:
            fn = unittest.expectedFailure(fn)
        name = "test_" + "".join(ch if ch.isalnum() else "_" for ch in name)
        while hasattr(Case, name):
            name += "_"
        setattr(Case, name, fn)
        if expected_failure:
            replay.known_bugs[name] = expected_failure

    for run in replay.expected["runs"]:
        rn = run["name"]

        def t_exit(self, run=run):
            outs, _ = replay.run(run)
            p = outs[0]
            msg = "argv: %s\nstderr:\n%s" % (" ".join(replay.argv(run)), p.stderr.decode())
            if run.get("exit_nonzero"):
                self.assertNotEqual(p.returncode, 0, msg)
            else:
                self.assertEqual(p.returncode, run.get("exit_code", 0), msg)
            for s in run.get("stderr_contains", []):
                self.assertIn(replay.subst(s), p.stderr.decode(), msg)
        add(rn + "_exit_status", t_exit)

        if "flow_count" in run:
            def t_count(self, run=run):
                _, flows = replay.run(run)
                self.assertEqual(len(flows), run["flow_count"],
                                 "\n".join(json.dumps(f) for f in flows))
            add(rn + "_flow_count", t_count)

        if run.get("repeat", 1) > 1:
            def t_repeat(self, run=run):
                outs, _ = replay.run(run)
                self.assertTrue(outs[0].stdout, "no output to compare")
                for p in outs[1:]:
                    self.assertEqual(p.stdout, outs[0].stdout, "stdout differs between replays")
            add(rn + "_byte_identical_repeats", t_repeat)

        if "same_stdout_as" in run:
            def t_same(self, run=run):
                other = next(r for r in replay.expected["runs"] if r["name"] == run["same_stdout_as"])
                a, _ = replay.run(run)
                b, _ = replay.run(other)
                self.assertTrue(b[0].stdout, "no output to compare")
                self.assertEqual(a[0].stdout.decode(), b[0].stdout.decode())
            add(rn + "_same_stdout_as_" + run["same_stdout_as"], t_same)

        for exp in run.get("flows", []):
            for m in expand(exp["match"]):
                def t_flow(self, run=run, exp=exp, m=m):
                    _, flows = replay.run(run)
                    hits = [f for f in flows if all(f.get(k) == v for k, v in m.items())]
                    if exp.get("absent"):
                        self.assertEqual(hits, [], "no flow may match %s" % m)
                        return
                    if len(hits) != 1:  # the message lists every flow: built only on failure
                        self.fail("flows matching %s: %d\nall flows:\n%s" % (
                            m, len(hits), "\n".join(json.dumps(f) for f in flows)))
                    f = hits[0]
                    got = [reason_str(r) for r in f.get("reasons", [])]
                    ctx = "flow %s: verdict %s reasons %s\n%s" % (m, f.get("verdict"), got, json.dumps(f))
                    if "verdict" in exp:
                        self.assertEqual(f.get("verdict"), exp["verdict"], ctx)
                    if "verdict_not" in exp:
                        self.assertNotEqual(f.get("verdict"), exp["verdict_not"], ctx)
                    if "reasons" in exp:
                        self.assertEqual(len(got), len(exp["reasons"]), ctx)
                        for r, w in zip(f["reasons"], exp["reasons"]):
                            self.assertTrue(reason_matches(r, w), "want %s\n%s" % (exp["reasons"], ctx))
                    if "reasons_include" in exp:
                        self.assertTrue(is_subsequence(f.get("reasons", []), exp["reasons_include"]),
                                        "want %s in order\n%s" % (exp["reasons_include"], ctx))
                    for k in exp.get("reasons_exclude", []):
                        self.assertFalse(any(reason_matches(r, k) for r in f.get("reasons", [])),
                                         "unwanted %s\n%s" % (k, ctx))
                    for k, v in exp.get("fields", {}).items():
                        self.assertEqual(f.get(k), v, "field %s\n%s" % (k, ctx))
                label = exp.get("name", "flow") + "_" + "_".join("%s_%s" % kv for kv in m.items())
                add(rn + "_" + label, t_flow, exp.get("expected_failure"))
    return Case


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = args[i + 1]
        del args[i:i + 2]
    burst = None
    if "--burst" in args:
        i = args.index("--burst")
        burst = args[i + 1]
        del args[i:i + 2]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    case_dir, binary, source_dir = (os.path.abspath(a) for a in args)
    with tempfile.TemporaryDirectory(prefix="dc-replay-") as tmp:
        work = keep or tmp
        os.makedirs(work, exist_ok=True)
        replay = Replay(case_dir, binary, source_dir, work)
        if burst is not None:
            replay.extra_args = ["--burst", burst]
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(make_tests(replay))
        res = unittest.TextTestRunner(verbosity=2 if verbose else 1, stream=sys.stdout).run(suite)
        for name in (getattr(t, "_testMethodName", "") for t, _ in res.expectedFailures):
            print("expected failure %s: %s" % (name, replay.known_bugs.get(name, "")))
        for t in res.unexpectedSuccesses:
            name = getattr(t, "_testMethodName", "")
            print("UNEXPECTED SUCCESS %s: the engine no longer shows \"%s\" - remove the "
                  "expected_failure marker" % (name, replay.known_bugs.get(name, "")))
        return 0 if res.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
