#!/usr/bin/env python3
"""`datacustoms audit report` on a generated week-long log (tests/report/gen_report_log.cpp).

usage: test_report.py DATACUSTOMS GEN_REPORT_LOG SOURCE_DIR BUILD_DIR

- goldens: text, JSON and CSV of the whole log and of one day (golden/*); regenerate with
  DC_UPDATE_GOLDEN=1 after a deliberate change, and review the diff;
- the period filter and bad --since/--until values;
- a tampered log: the report's first line says so, exit 1;
- hostile strings (markup in SNI, Host, value paths) stay text in the HTML;
- the HTML report opened in headless Chromium: no console error, no network request (an HTTP
  server that every host name resolves to counts requests; a control page proves it would see
  one), a screenshot and a PDF in BUILD_DIR.
"""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

BIN, GEN, SRC, BUILD = sys.argv[1:5]
GOLDEN = os.path.join(SRC, "golden")
UPDATE = os.environ.get("DC_UPDATE_GOLDEN") == "1"


def run(args, cwd, ok=(0,)):
    p = subprocess.run([BIN, "audit", "report"] + args, cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    if p.returncode not in ok:
        raise AssertionError("exit %d: %s %s" % (p.returncode, args, p.stderr))
    return p


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dc-report-")
        subprocess.run([GEN, cls.tmp], check=True, capture_output=True, timeout=120)
        cls.pub = os.path.join(cls.tmp, "audit.pub")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def report(self, *extra, ok=(0,)):
        return run(["audit", "--pubkey", "audit.pub"] + list(extra), self.tmp, ok)


class Goldens(Base):
    def check_golden(self, name, text):
        path = os.path.join(GOLDEN, name)
        if UPDATE:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        with open(path) as f:
            want = f.read()
        self.assertEqual(text, want, "differs from %s (DC_UPDATE_GOLDEN=1 rewrites it)" % path)

    def test_goldens(self):
        for fmt, ext in (("text", "txt"), ("json", "json"), ("csv", "csv")):
            with self.subTest(fmt=fmt):
                self.check_golden("week." + ext, self.report("--format", fmt).stdout)
                self.check_golden("day-2026-05-20." + ext,
                                  self.report("--format", fmt, "--since", "2026-05-20",
                                              "--until", "2026-05-20").stdout)

    def test_content(self):
        j = json.loads(self.report("--format", "json").stdout)
        self.assertTrue(j["integrity"]["intact"], j["integrity"])
        self.assertEqual(j["total"]["flows"], 3000)
        self.assertGreater(len(j["by_counterparty"]), 4)
        self.assertIn("unattributed", j["by_exporter"])
        self.assertIn("scc-sg-2026 (SCC-SG-2026-014)", j["by_legal_basis"])
        self.assertEqual([g["event"] for g in j["policy_generations"]],
                         ["start", "reload", "reload failed", "start"])
        buckets = {b["id"]: b["bucket"] for b in j["bases_expiring"]}
        self.assertEqual(buckets.get("scc-sg-2026"), "within 30 days")
        self.assertEqual(buckets.get("cert-de-2025"), "within 90 days")
        self.assertNotIn("sa-us-2024", buckets)
        flagged = j["blocked_and_alerted"]
        self.assertEqual(len(flagged), j["total"]["block"] + j["total"]["alert"])
        with_evidence = [f for f in flagged if f["evidence"]]
        self.assertTrue(with_evidence)
        for f in with_evidence[:20]:
            self.assertTrue(os.path.isfile(os.path.join(self.tmp, "audit", f["evidence"])))
        # Exported bytes are the foreign-bound direction only.
        self.assertNotEqual(j["total"]["exported_bytes"], j["total"]["received_bytes"])
        # A blocked ID upload names no covering basis and says why the considered one did not.
        id_blocks = [f for f in flagged if any(r.startswith("personal_without_basis")
                                               for r in f["reasons"])]
        self.assertTrue(id_blocks)
        self.assertEqual(id_blocks[0]["legal_basis"], "(none)")
        self.assertIn("does_not_cover (pi.identity)", id_blocks[0]["bases_considered"][0])

    def test_period(self):
        whole = json.loads(self.report("--format", "json").stdout)
        day = json.loads(self.report("--format", "json", "--since", "2026-05-20T00:00:00Z",
                                     "--until", "2026-05-21T08:00:00+08:00").stdout)
        self.assertEqual(day["total"]["flows"], whole["by_day"]["2026-05-20"]["flows"])
        self.assertEqual(list(day["by_day"]), ["2026-05-20"])
        self.assertEqual(day["flows_outside_period"], 3000 - day["total"]["flows"])

    def test_bad_times(self):
        for args, says in ((["--since", "yesterday"], "--since 'yesterday' is not a date"),
                           (["--until", "2026-02-30"], "--until '2026-02-30' is not a date"),
                           (["--since", "2026-05-20T10:00:00"], "with a zone"),
                           (["--since", "2026-05-21", "--until", "2026-05-20"], "is not before"),
                           (["--format", "pdf"], "--format must be")):
            with self.subTest(args=args):
                p = self.report(*args, ok=(2,))
                self.assertIn(says, p.stderr)


class Tampered(Base):
    def test_first_line_says_so(self):
        log = sorted(f for f in os.listdir(os.path.join(self.tmp, "audit")) if f.endswith(".jsonl"))
        path = os.path.join(self.tmp, "audit", log[1])
        with open(path) as f:
            lines = f.readlines()
        for i, line in enumerate(lines):
            if '"verdict":"block"' in line:
                lines[i] = line.replace('"verdict":"block"', '"verdict":"allow"', 1)
                break
        with open(path, "w") as f:
            f.writelines(lines)
        for fmt in ("text", "csv", "html"):
            with self.subTest(fmt=fmt):
                p = self.report("--format", fmt, ok=(1,))
                first = p.stdout.splitlines()[0]
                self.assertIn("NOT INTACT", first)
                self.assertIn(log[1], first if fmt != "html" else p.stdout)
        j = json.loads(self.report("--format", "json", ok=(1,)).stdout)
        self.assertFalse(j["integrity"]["intact"])
        self.assertEqual(list(j)[0], "integrity")


class RequestCounter(http.server.BaseHTTPRequestHandler):
    seen = []

    # The browser's own services (network time, component updates) are not the page's fetches.
    BROWSER = re.compile(
        r"^(https?://)?[^/]*\.(google\.com|gstatic\.com|googleapis\.com)(:\d+)?(/|$)")

    def do_CONNECT(self):  # https through the proxy: the host is what counts
        self.do_GET()

    def do_GET(self):
        if not self.BROWSER.match(self.path):
            RequestCounter.seen.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


class Html(Base):
    def setUp(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RequestCounter)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        RequestCounter.seen = []

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def chromium(self, url, *extra):
        port = self.server.server_address[1]
        profile = tempfile.mkdtemp(prefix="dc-chromium-")
        try:
            p = subprocess.run(
                ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                 "--user-data-dir=" + profile, "--no-first-run", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps",
                 "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter", "--enable-logging=stderr", "--v=0",
                 # Every host name resolves to the counting server: a fetch cannot go unseen.
                 "--host-resolver-rules=MAP * 127.0.0.1:%d" % port,
                 "--proxy-server=http://127.0.0.1:%d" % port,
                 "--window-size=1200,2400"] + list(extra) + [url],
                capture_output=True, text=True, timeout=120)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        return p

    def console_errors(self, stderr):
        return [l for l in stderr.splitlines()
                if "CONSOLE" in l or "Refused to" in l or "Uncaught" in l]

    def test_control_page_is_seen(self):
        # Proves the test can fail: a page with one external image makes one request.
        page = os.path.join(self.tmp, "control.html")
        with open(page, "w") as f:
            f.write('<!DOCTYPE html><html><body><img src="http://assets.example/x.png"></body>'
                    "</html>")
        self.chromium("file://" + page, "--dump-dom")
        self.assertTrue(RequestCounter.seen, "the counting server saw no request")

    def test_renders_offline(self):
        html = os.path.join(BUILD, "report.html")
        self.report("--format", "html", "--out", html)
        with open(html) as f:
            text = f.read()
        self.assertTrue(text.splitlines()[0].startswith("<!-- log integrity: intact"))
        # Hostile strings from the log stay text.
        for raw in ("<script", "<iframe", "<img", "<style>@import"):
            self.assertTrue(raw not in text, "unescaped " + raw)
        for needle in ("&lt;script&gt;alert(&#39;sni&#39;)&lt;/script&gt;",
                       "&lt;/td&gt;&lt;style&gt;@import",
                       "<th scope=\"col\">", "<caption>", "@media print", "<svg",
                       "Zone to counterparty flows", "Timeline of blocks"):
            self.assertTrue(needle in text, "missing " + needle)
        # Relative links from BUILD to the log: the record and the evidence pcap resolve.
        links = re.findall(r'href="([^"#]+)"', text)
        self.assertTrue(links)
        for link in links[:40]:
            self.assertFalse(re.match(r"^[a-z]+:", link), link)
            self.assertTrue(os.path.exists(os.path.join(BUILD, link)), link)
        shot = os.path.join(BUILD, "report.png")
        pdf = os.path.join(BUILD, "report.pdf")
        for path in (shot, pdf):
            if os.path.exists(path):
                os.remove(path)
        dom = self.chromium("file://" + html, "--dump-dom")
        self.assertIn("Audit period report", dom.stdout)
        self.assertIn("Blocked and alerted flows", dom.stdout)
        errors = self.console_errors(dom.stderr)
        p1 = self.chromium("file://" + html, "--screenshot=" + shot)
        p2 = self.chromium("file://" + html, "--print-to-pdf=" + pdf, "--no-pdf-header-footer")
        errors += self.console_errors(p1.stderr) + self.console_errors(p2.stderr)
        self.assertEqual(errors, [])
        self.assertEqual(RequestCounter.seen, [], "the report fetched from the network")
        self.assertGreater(os.path.getsize(shot), 10000)
        with open(pdf, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
