#!/usr/bin/env python3
"""Customs accounting reports from real data (docs/accounting.md "Reports").

usage: test_accounting_report.py DATACUSTOMS GEN_ACCOUNTING_LOG SOURCE_DIR

accounting/gen.py writes a policy (two exporters, one a CIIO; a capped basis; a counterparty that
requires a declaration), a signed declaration and a capture; dc_gen_accounting_log replays it
through the pipeline into a real LMDB store and a real signed audit log. Then:
- goldens: the accounting section of `audit report` (text, JSON) and `accounting show` (text,
  JSON); regenerate with DC_UPDATE_GOLDEN=1 after a deliberate change, and review the diff;
- the store and the log agree on every count they both have;
- what the fixture was built to show: the thresholds and mechanisms, the CIIO rule, the basis cap,
  declared against actual with the blocked flows, the declaration's state over time;
- without --policy: the records' own limits, the CIIO flag unknown.
Hermetic: one temporary directory, removed afterwards.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN, GEN, SRC = sys.argv[1:4]
GOLDEN = os.path.join(SRC, "golden")
UPDATE = os.environ.get("DC_UPDATE_GOLDEN") == "1"


def run(args, cwd, ok=(0,)):
    p = subprocess.run([BIN] + args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if p.returncode not in ok:
        raise AssertionError("exit %d: %s\n%s" % (p.returncode, args, p.stderr))
    return p.stdout


def section(text, first, stop):
    """The lines of `text` from the one starting with `first` up to the one starting with `stop`."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, l in enumerate(lines) if l.startswith(first))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(stop))
    return "".join(lines[start:end])


class AccountingReports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dc-acct-report-")
        cls.fx = os.path.join(cls.tmp, "fixture")
        os.makedirs(cls.fx)
        subprocess.run([sys.executable, os.path.join(SRC, "accounting", "gen.py"), cls.fx],
                       check=True, capture_output=True, timeout=60)
        cls.out = os.path.join(cls.tmp, "out")
        g = subprocess.run([GEN, "policy.toml", "accounting.pcap", cls.out], cwd=cls.fx,
                           capture_output=True, text=True, timeout=120)
        if g.returncode != 0:
            raise AssertionError("dc_gen_accounting_log: %s%s" % (g.stdout, g.stderr))
        cls.report_args = ["audit", "report", os.path.join(cls.out, "audit"), "--pubkey",
                           os.path.join(cls.out, "audit.pub")]
        cls.show_args = ["accounting", "show", "--state-dir", os.path.join(cls.out, "state")]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def report(self, *extra):
        return run(self.report_args + list(extra), self.fx)

    def show(self, *extra):
        return run(self.show_args + list(extra), self.fx)

    def report_json(self, *extra):
        return json.loads(self.report("--format", "json", "--policy", "policy.toml",
                                      *extra))["accounting"]

    def show_json(self, *extra):
        doc = json.loads(self.show("--format", "json", "--policy", "policy.toml", *extra))
        doc["store"] = doc["store"].replace(self.out, "OUT")
        return doc

    def check_golden(self, name, text):
        path = os.path.join(GOLDEN, name)
        if UPDATE:
            with open(path, "w") as f:
                f.write(text)
        with open(path) as f:
            self.assertEqual(text, f.read(), "golden %s differs (DC_UPDATE_GOLDEN=1 to update)"
                             % name)

    def test_goldens(self):
        text = self.report("--policy", "policy.toml")
        self.assertTrue(text.startswith("log integrity: intact"), text.splitlines()[0])
        self.check_golden("accounting-report.txt",
                          section(text, "== customs accounting", "== policy generations"))
        self.check_golden("accounting-report.json",
                          json.dumps(self.report_json(), indent=2) + "\n")
        self.check_golden("accounting-show.txt",
                          self.show("--policy", "policy.toml", "--at", "2026-03-03"))
        self.check_golden("accounting-show.json",
                          json.dumps(self.show_json("--at", "2026-03-03"), indent=2) + "\n")

    def rows(self, doc_rows):
        return {(r["year"], r["exporter"], r["row"], r.get("basis", ""),
                 r.get("counterparty", ""), r.get("declaration", "")): r for r in doc_rows}

    def test_store_and_log_agree(self):
        store = self.rows(self.show_json()["rows"])
        log = self.rows(self.report_json()["rows"])
        self.assertTrue(store)
        for key, r in store.items():
            self.assertIn(key, log)
            got = (log[key]["non_sensitive"], log[key]["sensitive"])
            want = (r["non_sensitive"], r["sensitive"])
            # The log never states more than the store; a flow blocked before its persons'
            # answer came (61005) names its scopes with no count, so they may lag.
            self.assertLessEqual(got[0], want[0], key)
            self.assertLessEqual(got[1], want[1], key)
            if key[2] in ("exporter", "basis"):
                self.assertEqual(got, want, key)

    def test_thresholds_and_mechanisms(self):
        rows = self.rows(self.report_json()["rows"])
        acme = rows[(2026, "acme", "exporter", "", "", "")]
        # non-sensitive: persons 1, 2, 3, 5 and the card holder of 61006 (4 and 6 were refused);
        # sensitive: 61006's two persons (a flow exporting pi.finance) and the card of 61005
        self.assertEqual((acme["non_sensitive"], acme["sensitive"]), (5, 3))
        self.assertEqual(acme["threshold"]["ciio"], False)
        # sensitive persons: any one needs a contract (no de-minimis for sensitive PI)
        self.assertEqual(acme["threshold"]["mechanism"], "standard_contract_or_certification")
        self.assertEqual(acme["threshold"]["contract_from"], {"non_sensitive": 100000,
                                                              "sensitive": 1})
        self.assertEqual(acme["threshold"]["security_assessment_from"],
                         {"non_sensitive": 1000000, "sensitive": 10000})
        self.assertGreater(acme["bytes"], 0)
        grid = rows[(2026, "gridco", "exporter", "", "", "")]
        self.assertEqual(grid["threshold"]["ciio"], True)
        self.assertEqual(grid["threshold"]["mechanism"], "security_assessment")
        self.assertIn("CIIO: security assessment always", grid["threshold"]["text"])
        basis = rows[(2026, "acme", "basis", "SCC-1", "", "")]
        self.assertEqual(basis["threshold"]["cap_non_sensitive"],
                         {"cap": 5, "used": 5, "percent": "100.0%"})
        self.assertIn("cap 5 (used 5, 100.0%)", basis["threshold"]["text"])
        # bytes go by the record's legal_basis: 61001, 61002, 61006 and the clean 61009 (no
        # person); 61007, blocked (volume_cap), has no covering basis and counts for acme only
        self.assertEqual(rows[(2026, "acme", "counterparty", "SCC-1", "eu-hq", "")]["flows"], 4)
        self.assertEqual(acme["flows"], 8)

    def test_declared_against_actual(self):
        decl = {d["id"]: d for d in self.report_json()["declarations"]}["d-partner"]
        self.assertEqual(decl["state"], "active")
        self.assertEqual(decl["declared"]["categories"], ["pi.identity", "pi.contact"])
        self.assertEqual(decl["declared"]["max_persons"], 1)
        self.assertEqual(decl["declared"]["max_bytes"], 100000)
        self.assertEqual(decl["actual"]["persons"], [{"year": 2026, "non_sensitive": 1,
                                                      "sensitive": 0}])
        self.assertIn("pi.finance", decl["actual"]["beyond_declared"])
        reasons = sorted(b["reason"] for b in decl["actual"]["blocked"])
        self.assertEqual(reasons, ["declaration_exceeded", "undeclared_category:pi.finance"])
        self.assertEqual(decl["actual"]["flows"], 3)
        # its state over time, from the store side
        for at, state in (("2025-12-01", "pending"), ("2026-06-01", "active"),
                          ("2027-02-01", "expired")):
            d = self.show_json("--at", at)["declarations"][0]
            self.assertEqual((d["id"], d["state"]), ("d-partner", state), at)

    def test_durable_bytes_and_unanswered_scopes(self):
        # The store holds each declaration's durable bytes (the replay gave the unused budget
        # back at its end): what crossed under d-partner, within max_bytes; both commands show it.
        state = os.path.join(self.out, "state")
        show = {d["id"]: d for d in self.show_json()["declarations"]}["d-partner"]
        stored = show["actual"]["store_bytes"]
        self.assertGreater(stored, 0)
        self.assertLessEqual(stored, 100000)
        self.assertIn("durable (the store)", self.show("--policy", "policy.toml"))
        rep = {d["id"]: d for d in self.report_json("--accounting-state", state)
               ["declarations"]}["d-partner"]
        self.assertEqual(rep["actual"]["store_bytes"], stored)
        self.assertNotIn("store_bytes", {d["id"]: d for d in self.report_json()["declarations"]}
                         ["d-partner"]["actual"])
        # 61005 was blocked before its card holder's answer came: its record still names the
        # scopes it was claimed in, with no count.
        recs = []
        audit = os.path.join(self.out, "audit")
        for name in sorted(os.listdir(audit)):
            if name.endswith(".jsonl"):
                with open(os.path.join(audit, name)) as f:
                    recs += [json.loads(l) for l in f if l.strip()]
        pending = [r for r in recs if r.get("type") == "flow" and r.get("accounting")
                   and any(sc["count"] is None for sc in r["accounting"]["scopes"])]
        self.assertTrue(pending, "no record with a scope whose answer did not come")
        for r in pending:
            self.assertTrue(all(sc["scope"].startswith("2026/e=acme/")
                                for sc in r["accounting"]["scopes"]), r["accounting"])

    def test_without_policy(self):
        text = self.report()
        acct = section(text, "== customs accounting", "== policy generations")
        self.assertIn("CIIO not known (no policy)", acct)
        self.assertIn("declared side unknown: give --policy FILE", acct)
        # the records' own limits still give the basis cap
        line = [l for l in acct.splitlines() if " basis " in l and "SCC-1" in l][0]
        self.assertIn("cap 5 (used 5, 100.0%)", line)
        show = self.show()
        self.assertIn("CIIO not known", show)
        self.assertNotIn("declarations", show)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[4:], verbosity=2)
