#!/usr/bin/env python3
"""Live decoding: curl uploads through `datacustoms run` whose resident ID is visible only after
decoding, and a clean gzip'd upload that must pass.

Same topology, policy and helpers as test_live_customs.py (imported, not copied), with this
test's own namespaces and veths (prefix h4d-). Uploads to sg-analytics (198.51.100.20:8443, may
not receive pi.identity):
  1. a clean JSON body sent with `Content-Encoding: gzip`: HTTP 200, the server reads it;
  2. a JSON body with the ID, gzip'd (`Content-Encoding: gzip`): stalls, the ID never reaches
     the server (neither its sockets nor its interface, after gunzipping what arrived), the flow
     record is block/category_not_allowed with the value's path `http.request.body > gzip`;
  3. a multipart/form-data upload (`curl -F`) of an XLSX workbook whose sharedStrings.xml holds
     the ID (deflated inside the ZIP, so the raw bytes never show it): blocked; the reason kinds
     are printed (the ZIP/OOXML decoder decides what they are);
  4. nothing the server's sockets read shows the ID, even decompressed / unzipped;
  5. the audit log verifies, and replaying its evidence gives the same verdicts.
Needs root, `ip`, `curl`, `ethtool`; exits 77 (skipped) when a tool is missing.
Usage: test_live_decoding.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import gzip
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_live_customs as L  # noqa: E402  (its helpers; its own tests are not collected)

# This test's own names, so it never collides with another live test.
L.NS_IN, L.NS_OUT = "h4d-in-%d" % L.PID, "h4d-out-%d" % L.PID
L.IF_A, L.IF_B = "h4d%da" % L.PID, "h4d%db" % L.PID

PORT_CLEAN_GZ, PORT_GZ_ID, PORT_XLSX, PORT_CLEAN_GZ2 = 43101, 43102, 43103, 43104
CLEAN_MARKER = b"SH-2026-LIVE-GZIP"
ID = L.RESIDENT_ID


def xlsx_with(value):
    """A minimal OOXML workbook: one sheet whose first cell is `value` (shared string)."""
    parts = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "xl/workbook.xml":
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main"><sheets><sheet name="people" sheetId="1"/></sheets></workbook>',
        "xl/worksheets/sheet1.xml":
            '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v>'
            '</c></row></sheetData></worksheet>',
        "xl/sharedStrings.xml":
            '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            'main" count="2" uniqueCount="2"><si><t>Zhang San</t></si><si><t>' + value +
            '</t></si></sst>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 3, 2, 0, 0, 0)), text, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def payload_of(frames, sport):
    """The client -> server TCP payload of one connection that reached the server side, in
    sequence order (duplicates from retransmissions dropped)."""
    segs = {}
    for f in frames:
        t = L.tcp_of(f)
        if t and t[2] == sport and t[5]:
            seq = int.from_bytes(f[14 + (f[14] & 0x0F) * 4 + 4:14 + (f[14] & 0x0F) * 4 + 8], "big")
            segs[seq] = t[5]
    return b"".join(segs[k] for k in sorted(segs))


def decoded_views(data):
    """What a receiver could make of bytes that arrived: the bytes, every gzip member in them
    (inflated as far as it goes) and every ZIP member readable from them."""
    views = [data]
    i = data.find(b"\x1f\x8b")
    while i >= 0:
        try:
            views.append(zlib.decompressobj(31).decompress(data[i:]))
        except zlib.error:
            pass
        i = data.find(b"\x1f\x8b", i + 1)
    j = data.find(b"PK\x03\x04")
    if j >= 0:
        try:
            with zipfile.ZipFile(io.BytesIO(data[j:])) as z:
                views += [z.read(n) for n in z.namelist()]
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError):
            # An incomplete archive: inflate what arrived of each member's data.
            k = j
            while k >= 0:
                name_len, extra_len = struct.unpack_from("<HH", data, k + 26)
                try:
                    views.append(zlib.decompressobj(-15).decompress(
                        data[k + 30 + name_len + extra_len:]))
                except zlib.error:
                    pass
                k = data.find(b"PK\x03\x04", k + 4)
    return views


class LiveDecodingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("the live test must run as root")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        if not ("2026-01-01" <= today <= "2027-12-30"):
            raise AssertionError("EX-TRANSIT-2026 is not valid today (%s)" % today)
        cls.dir = L.ENV.dir = tempfile.mkdtemp(prefix="h4d-live-%d-" % L.PID)
        d = cls.dir
        L.build_network()
        L.sh([L.BIN, "audit", "keygen", "--out", os.path.join(d, "audit")])
        with open(os.path.join(d, "hmac.key"), "w") as f:
            f.write("live-decoding-hmac-key-0123456789ab")
        cfg = os.path.join(d, "appliance.toml")
        with open(cfg, "w") as f:
            f.write(L.CONFIG.format(policy=L.POLICY, if_a=L.IF_A, if_b=L.IF_B))
        cls.start_server()
        cls.start_appliance(cfg)
        cls.run_clients()
        cls.stop_and_collect()

    @classmethod
    def start_server(cls):
        cls.srv_dir = os.path.join(cls.dir, "server")
        os.mkdir(cls.srv_dir)
        cls.srv_log = os.path.join(cls.dir, "server.log")
        with open(cls.srv_log, "wb") as log:
            cls.srv = subprocess.Popen(
                L.nsx(L.NS_OUT, sys.executable, os.path.join(HERE, "live_server.py"), "--dir",
                      cls.srv_dir, "--listen", L.SERVER + ":8443", "--sniff", L.IF_S,
                      "--max-seconds", "200"),
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=L._die_with_parent)
        L.ENV.procs.append(cls.srv)
        L.wait_for("the server", lambda: os.path.exists(os.path.join(cls.srv_dir, "ready")), 15,
                   cls.srv, cls.srv_log)

    @classmethod
    def start_appliance(cls, cfg):
        cls.app_log = os.path.join(cls.dir, "appliance.log")
        for attempt in range(3):  # af_packet fanout group collisions: see test_live_customs.py
            with open(cls.app_log, "wb") as log:
                cls.app = subprocess.Popen(
                    [L.BIN, "run", "--config", cfg, "--out-dir", cls.dir, "--max-seconds", "150"],
                    stdout=subprocess.DEVNULL, stderr=log, preexec_fn=L._die_with_parent)
            L.ENV.procs.insert(0, cls.app)
            try:
                L.wait_for('"running" from the appliance',
                           lambda: "running with" in L.tail(cls.app_log, 1 << 20), 60, cls.app,
                           cls.app_log)
                return
            except AssertionError:
                if (cls.app.poll() is None or "PACKET_FANOUT" not in L.tail(cls.app_log, 1 << 20)
                        or attempt == 2):
                    raise
                shutil.rmtree(os.path.join(cls.dir, "audit"), ignore_errors=True)

    @classmethod
    def run_clients(cls):
        d = cls.dir
        clean = b'{"shipment": "' + CLEAN_MARKER + b'", "pallets": 12, "status": "cleared"}'
        with_id = b'{"customer": "Zhang San", "id_number": "' + ID + b'", "city": "Beijing"}'
        cls.files = {}
        for name, data in (("clean.json.gz", gzip.compress(clean, mtime=0)),
                           ("id.json.gz", gzip.compress(with_id, mtime=0)),
                           ("people.xlsx", xlsx_with(ID.decode()))):
            assert ID not in data, "%s must not show the ID in its raw bytes" % name
            cls.files[name] = os.path.join(d, name)
            with open(cls.files[name], "wb") as f:
                f.write(data)
        url = "http://%s:8443/upload" % L.SERVER
        gz = ["-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip",
              "--connect-timeout", "5"]
        cls.clean = L.curl(*gz, "--local-port", str(PORT_CLEAN_GZ), "--data-binary",
                           "@" + cls.files["clean.json.gz"], url, max_time=15)
        cls.gz_id = L.curl(*gz, "--local-port", str(PORT_GZ_ID), "--data-binary",
                           "@" + cls.files["id.json.gz"], url, max_time=4)
        cls.xlsx = L.curl("--connect-timeout", "5", "--local-port", str(PORT_XLSX), "-F", "batch=7",
                          "-F", "file=@%s;type=application/vnd.openxmlformats-officedocument."
                          "spreadsheetml.sheet" % cls.files["people.xlsx"], url, max_time=4)
        cls.clean2 = L.curl(*gz, "--local-port", str(PORT_CLEAN_GZ2), "--data-binary",
                            "@" + cls.files["clean.json.gz"], url, max_time=15)

    @classmethod
    def stop_and_collect(cls):
        cls.app.send_signal(signal.SIGINT)
        try:
            cls.app_rc = cls.app.wait(60)
        except subprocess.TimeoutExpired:
            cls.app_rc = "no exit 60 s after SIGINT"
        cls.srv.send_signal(signal.SIGTERM)
        try:
            cls.srv.wait(15)
        except subprocess.TimeoutExpired:
            pass
        cls.log = os.path.join(cls.dir, "audit")
        cls.records = []
        if os.path.isdir(cls.log):
            for name in sorted(os.listdir(cls.log)):
                if name.endswith(".jsonl"):
                    with open(os.path.join(cls.log, name)) as f:
                        cls.records += [json.loads(x) for x in f if x.strip()]
        xlsx = [r for r in cls.records if r.get("type") == "flow" and r.get("src_port") == PORT_XLSX]
        sys.stderr.write("live decoding: XLSX upload verdict %s, reasons %s, values %s\n" % (
            xlsx[0]["verdict"] if xlsx else "?",
            [(r["kind"], r.get("category") or r.get("detail")) for r in xlsx[0]["reasons"]]
            if xlsx else "?", xlsx[0]["values"] if xlsx else "?"))

    @classmethod
    def tearDownClass(cls):
        L.ENV.cleanup()

    def describe(self):
        return "\nappliance stderr:\n%s\nserver log:\n%s" % (L.tail(self.app_log), L.tail(self.srv_log))

    def flow(self, sport):
        recs = [r for r in self.records if r.get("type") == "flow" and r.get("src_ip") == L.CLIENT
                and r.get("src_port") == sport]
        self.assertEqual(len(recs), 1, "one flow record for port %d: %s%s" % (sport, recs, self.describe()))
        return recs[0]

    def server_side(self):
        with open(os.path.join(self.srv_dir, "requests.jsonl")) as f:
            requests = [json.loads(x) for x in f if x.strip()]
        frames = L.read_pcap(os.path.join(self.srv_dir, "sniffed.pcap"))
        return requests, frames

    def assert_never_arrived(self, sport):
        requests, frames = self.server_side()
        self.assertFalse([r for r in requests if r["peer"] == "%s:%d" % (L.CLIENT, sport)],
                         "the server handled the request from port %d" % sport)
        arrived = payload_of(frames, sport)
        for view in decoded_views(arrived):
            self.assertNotIn(ID, view, "the ID reached the server side (port %d)" % sport)

    def test_1_clean_gzip_upload_passes(self):
        for name, (rc, code, body, _, err) in (("first", self.clean), ("second", self.clean2)):
            self.assertEqual((rc, code), (0, "200"), "%s: curl %s%s" % (name, err, self.describe()))
            self.assertEqual(body.strip(), str(os.path.getsize(self.files["clean.json.gz"])).encode())
        requests, frames = self.server_side()
        self.assertIn(CLEAN_MARKER, b"".join(decoded_views(payload_of(frames, PORT_CLEAN_GZ))))
        for port in (PORT_CLEAN_GZ, PORT_CLEAN_GZ2):
            rec = self.flow(port)
            self.assertEqual(rec["verdict"], "allow", rec)
            self.assertEqual([r["kind"] for r in rec["reasons"]], ["whitelisted"], rec)

    def test_2_gzip_id_upload_never_arrives(self):
        rc, code, _, _, err = self.gz_id
        self.assertEqual((rc, code), (28, "000"), "the gzip'd ID upload must stall: %s" % err)
        self.assert_never_arrived(PORT_GZ_ID)
        rec = self.flow(PORT_GZ_ID)
        self.assertEqual(rec["verdict"], "block", rec)
        self.assertEqual([(r["kind"], r.get("category")) for r in rec["reasons"]],
                         [("category_not_allowed", "pi.identity"), ("whitelisted", None)], rec)
        self.assertEqual(rec["values"][0]["masked"], "110105********002X")
        self.assertEqual(rec["values"][0]["path"], "http.request.body > gzip", rec)

    def build_sees_into_xlsx(self):
        """Whether this build's decoding layer finds the ID in the XLSX upload at all (`scan
        --http` over the request as curl sends it): the ZIP/OOXML decoder is a separate part of
        the decoding layer; without it the workbook's deflated XML is opaque bytes."""
        with open(self.files["people.xlsx"], "rb") as f:
            xlsx = f.read()
        body = (b"--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.xlsx\"\r\n"
                b"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                b"\r\n\r\n" + xlsx + b"\r\n--b0--\r\n")
        req = (b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=b0"
               b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        p = subprocess.run([L.BIN, "scan", "--http", "-"], input=req, stdout=subprocess.PIPE,
                           timeout=30)
        return p.stdout.strip() != b""

    def test_3_xlsx_id_upload_never_arrives(self):
        rec = self.flow(PORT_XLSX)
        self.assertTrue(self.build_sees_into_xlsx(), "scan --http finds the ID in the workbook")
        rc, code, _, _, err = self.xlsx
        self.assertNotEqual(code, "200", "the XLSX upload with the ID was answered: %s" % err)
        self.assert_never_arrived(PORT_XLSX)
        self.assertEqual(rec["verdict"], "block", rec)
        paths = [v.get("path", "") for v in rec.get("values", [])]
        self.assertTrue(any("zip:people.xlsx > xl/sharedStrings.xml" in p for p in paths), paths)
        paths = [v.get("path", "") for v in rec.get("values", [])]
        self.assertTrue(any("zip:people.xlsx > xl/sharedStrings.xml" in p for p in paths), paths)

    def test_4_server_sockets_never_saw_the_id(self):
        # All connections' bytes as the server read them (received.bin is shared by all).
        with open(os.path.join(self.srv_dir, "received.bin"), "rb") as f:
            received = f.read()
        self.assertIn(CLEAN_MARKER, b"".join(decoded_views(received)), "the record is live")
        for view in decoded_views(received):
            self.assertNotIn(ID, view, "the server's sockets received the ID")

    def test_5_audit_log_verifies_and_replay_agrees(self):
        self.assertEqual(self.app_rc, 0, self.describe())
        p = L.sh([L.BIN, "audit", "verify", self.log, "--pubkey", os.path.join(self.dir, "audit.pub")],
                 check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        ev_dir = os.path.join(self.log, "evidence")
        caps = sorted(os.path.join(ev_dir, n) for n in os.listdir(ev_dir))
        blocked = [r for r in self.records if r.get("type") == "flow" and r["verdict"] == "block"
                   and r["evidence"]]
        self.assertGreaterEqual(len(blocked), 1)  # the gzip upload; the XLSX one too once decoded
        p = L.sh([L.BIN, "replay", "--policy", L.POLICY, "--audit", self.log] + caps, check=False)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 0, p.stdout.decode() + err)
        self.assertIn("compared %d flows" % len(blocked), err)
        self.assertIn("0 difference(s)", err)
        for name in os.listdir(self.log):
            if name.endswith(".jsonl"):
                with open(os.path.join(self.log, name), "rb") as f:
                    self.assertNotIn(ID, f.read(), "raw value in the audit log")


def main():
    missing = [t for t in ("ip", "curl", "ethtool") if shutil.which(t) is None]
    if missing:
        print("SKIP: live test needs %s" % ", ".join(missing))
        return 77
    prog = unittest.main(argv=[sys.argv[0], "-v"], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
