#!/usr/bin/env python3
"""Live IPv6: HTTP over IPv6 through `datacustoms run`, with neighbour discovery passed through.

Topology (as tests/live/test_live_customs.py, whose helpers it imports; names prefixed h4b-):

  netns h4b-in-<pid>                    root netns                    netns h4b-out-<pid>
  curl, fd10:1::21/128   c0 ==veth== h4b<pid>a [datacustoms] h4b<pid>b ==veth== s0  server
  route 2001:db8::/32 dev c0      net_af_packet0 (domestic)              2001:db8:51::20/128
  no static neighbours: ND        net_af_packet1 (crossborder)           route fd10:1::/48 dev s0

The pair is { ports = ["inside", "outside"], pass_nd = true }: neighbour solicitations and
advertisements cross without flows or audit records, so the hosts resolve each other and TCP over
IPv6 works. The policy is examples/policy/ftz-demo.toml with an IPv6 prefix for the domestic zone
(fd10:1::/48) and one for sg-analytics (2001:db8:51::/48, port 8443; it may not receive
pi.identity). Checks:
  1. a clean JSON POST over IPv6 gets HTTP 200;
  2. a POST carrying the resident ID 11010519491231002X stalls and the ID never reaches the server;
  3. the appliance counted ND frames as passed through (l2_pass_nd > 0), made flows only for the
     two TCP connections, and the audit log has their records (allow / block) and nothing for ND.
Needs root, `ip`, `curl` and `ethtool`; exits 77 (ctest: skipped) when one is missing.
Usage: test_live_ipv6.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_live_customs as L  # noqa: E402  (sh, nsx, wait_for, tail, read_pcap, OFFLOADS, ...)

BIN, SRC = L.BIN, L.SRC
PID = os.getpid()
NS_IN, NS_OUT = "h4b-in-%d" % PID, "h4b-out-%d" % PID
IF_A, IF_B = "h4b%da" % PID, "h4b%db" % PID
IF_C, IF_S = "c0", "s0"
MAC_C, MAC_S = "02:dc:00:00:06:21", "02:dc:00:00:06:20"
CLIENT, SERVER, PORT = "fd10:1::21", "2001:db8:51::20", 8443
PORT_CLEAN, PORT_ID = 42001, 42002

CONFIG = """
pairs = [{{ ports = ["inside", "outside"], pass_nd = true }}]
[eal]
args = ["--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--log-level=lib.eal:error"]
main_lcore = 0
workers = [1]
[flows]
capacity = 4096
[inspect]
flows = 256
[audit]
dir = "${{out_dir}}/audit"
signing_key = "${{out_dir}}/audit.key"
hmac_key_file = "${{out_dir}}/hmac.key"
ring_size = 1024
[dataplane]
policy = "{policy}"
unknown_ethertype = "drop"
[[ports]]
name = "inside"
device = "net_af_packet0,iface={if_a}"
zone = "domestic"
[[ports]]
name = "outside"
device = "net_af_packet1,iface={if_b}"
zone = "crossborder"
"""


class Env:
    def __init__(self):
        self.dir, self.procs, self.cleaned = None, [], False

    def cleanup(self):
        if self.cleaned:
            return
        self.cleaned = True
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        for ns in (NS_IN, NS_OUT):
            L.sh(["ip", "netns", "del", ns], check=False)
        for i in (IF_A, IF_B):
            if os.path.exists("/sys/class/net/" + i):
                L.sh(["ip", "link", "del", i], check=False)
        if self.dir and not os.environ.get("DC_LIVE_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


ENV = Env()
atexit.register(ENV.cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def write_policy(path):
    with open(L.POLICY, encoding="utf-8") as f:
        text = f.read()
    for old, new in (('prefixes = ["10.1.0.0/16"]', 'prefixes = ["10.1.0.0/16", "fd10:1::/48"]'),
                     ('{ prefixes = ["198.51.100.0/26"], ports = [443, 8443] },',
                      '{ prefixes = ["198.51.100.0/26"], ports = [443, 8443] },\n'
                      '  { prefixes = ["2001:db8:51::/48"], ports = [8443] },')):
        assert old in text, old
        text = text.replace(old, new, 1)
    text = text[:text.index("\n[[test]]")] + "\n"  # its cases name payload files next to it
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def build_network():
    for ns in (NS_IN, NS_OUT):
        L.sh(["ip", "netns", "add", ns])
        # IPv6 on, but no duplicate address detection (addresses usable at once) and no
        # autoconfiguration from router advertisements.
        L.sh(L.nsx(ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                   "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.default.accept_ra=0"))
        L.sh(["ip", "-n", ns, "link", "set", "lo", "up"])
    for root_if, ns, ns_if, mac in ((IF_A, NS_IN, IF_C, MAC_C), (IF_B, NS_OUT, IF_S, MAC_S)):
        L.sh(["ip", "link", "add", root_if, "type", "veth", "peer", "name", ns_if, "netns", ns])
        with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % root_if, "w") as f:
            f.write("1")  # the root side stays silent
        L.sh(["ethtool", "-K", root_if] + L.OFFLOADS)
        L.sh(["ip", "link", "set", root_if, "up"])
        L.sh(["ip", "-n", ns, "link", "set", ns_if, "address", mac])
        L.sh(L.nsx(ns, "ethtool", "-K", ns_if, *L.OFFLOADS))
        L.sh(["ip", "-n", ns, "link", "set", ns_if, "up"])
    L.sh(["ip", "-n", NS_IN, "-6", "addr", "add", CLIENT + "/128", "dev", IF_C, "nodad"])
    L.sh(["ip", "-n", NS_IN, "-6", "route", "add", "2001:db8::/32", "dev", IF_C])
    L.sh(["ip", "-n", NS_OUT, "-6", "addr", "add", SERVER + "/128", "dev", IF_S, "nodad"])
    L.sh(["ip", "-n", NS_OUT, "-6", "route", "add", "fd10:1::/48", "dev", IF_S])
    for ns, i in ((NS_IN, IF_C), (NS_OUT, IF_S)):
        L.wait_for("%s up" % i, lambda: b"LOWER_UP" in L.sh(["ip", "-n", ns, "link", "show", i]).stdout, 10)


def curl(*args, max_time):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    t0 = time.monotonic()
    p = subprocess.run(L.nsx(NS_IN, "curl", "-sS", "-6", "--noproxy", "*", "-o", "-", "-w", "\n%{http_code}",
                             "--max-time", str(max_time), "-H", "Expect:") + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=max_time + 20)
    body, _, code = p.stdout.rpartition(b"\n")
    return p.returncode, code.decode(), body, time.monotonic() - t0, p.stderr.decode(errors="replace")


class LiveIpv6Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("the live test must run as root (network namespaces, veths, AF_PACKET)")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        if not ("2026-01-01" <= today <= "2027-12-30"):
            raise AssertionError("EX-TRANSIT-2026 is not valid today (%s): update the test's dates" % today)
        d = cls.dir = ENV.dir = tempfile.mkdtemp(prefix="dc-live6-%d-" % PID)
        build_network()
        policy = os.path.join(d, "policy.toml")
        write_policy(policy)
        L.sh([BIN, "policy", "check", policy])
        L.sh([BIN, "audit", "keygen", "--out", os.path.join(d, "audit")])
        with open(os.path.join(d, "hmac.key"), "w") as f:
            f.write("live-test-hmac-key-0123456789abcdef")
        cfg = os.path.join(d, "appliance.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(policy=policy, if_a=IF_A, if_b=IF_B))

        srv_dir = cls.srv_dir = os.path.join(d, "server")
        os.mkdir(srv_dir)
        cls.srv_log = os.path.join(d, "server.log")
        with open(cls.srv_log, "wb") as log:
            srv = subprocess.Popen(L.nsx(NS_OUT, sys.executable, os.path.join(HERE, "live_server.py"),
                                         "--dir", srv_dir, "--listen", "[%s]:%d" % (SERVER, PORT),
                                         "--sniff", IF_S, "--max-seconds", "150"),
                                   stdout=log, stderr=subprocess.STDOUT, preexec_fn=L._die_with_parent)
        ENV.procs.append(srv)
        L.wait_for("the server", lambda: os.path.exists(os.path.join(srv_dir, "ready")), 15, srv, cls.srv_log)

        cls.app_log = os.path.join(d, "appliance.log")
        cls.stats_path = os.path.join(d, "stats.json")
        for attempt in range(3):  # af_packet fanout group collisions: see test_live_customs.py
            with open(cls.app_log, "wb") as log:
                app = subprocess.Popen([BIN, "run", "--config", cfg, "--out-dir", d, "--max-seconds", "120",
                                        "--stats-json", cls.stats_path],
                                       stdout=subprocess.DEVNULL, stderr=log, preexec_fn=L._die_with_parent)
            ENV.procs.insert(0, app)
            try:
                L.wait_for('"running" from the appliance', lambda: "running with" in L.tail(cls.app_log, 1 << 20),
                           60, app, cls.app_log)
                break
            except AssertionError:
                if app.poll() is None or "PACKET_FANOUT" not in L.tail(cls.app_log, 1 << 20) or attempt == 2:
                    raise
                shutil.rmtree(os.path.join(d, "audit"), ignore_errors=True)

        with open(os.path.join(d, "clean.json"), "wb") as f:
            f.write(b'{"shipment": "' + L.CLEAN_MARKER + b'", "pallets": 12, "port": "Tianjin"}')
        with open(os.path.join(d, "id.json"), "wb") as f:
            f.write(b'{"customer": "Zhang San", "id_number": "' + L.RESIDENT_ID + b'", "city": "Beijing"}')
        post = ["-H", "Content-Type: application/json", "--connect-timeout", "5"]
        url = "http://[%s]:%d/upload" % (SERVER, PORT)
        cls.clean = curl(*post, "--local-port", str(PORT_CLEAN), "--data-binary",
                         "@" + os.path.join(d, "clean.json"), url, max_time=15)
        cls.id_post = curl(*post, "--local-port", str(PORT_ID), "--data-binary",
                           "@" + os.path.join(d, "id.json"), url, max_time=4)

        app.send_signal(signal.SIGINT)
        try:
            cls.app_rc = app.wait(60)
        except subprocess.TimeoutExpired:
            cls.app_rc = "no exit 60 s after SIGINT"
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(15)
        except subprocess.TimeoutExpired:
            pass
        cls.stats = None
        if os.path.exists(cls.stats_path):
            with open(cls.stats_path) as f:
                cls.stats = json.load(f)
        cls.records = []
        log_dir = os.path.join(d, "audit")
        for name in sorted(os.listdir(log_dir)) if os.path.isdir(log_dir) else []:
            if name.endswith(".jsonl"):
                with open(os.path.join(log_dir, name)) as f:
                    cls.records += [json.loads(l) for l in f if l.strip()]

    @classmethod
    def tearDownClass(cls):
        ENV.cleanup()

    def describe(self):
        return "\nappliance stderr:\n%s\nserver log:\n%s" % (L.tail(self.app_log), L.tail(self.srv_log))

    def received(self):
        path = os.path.join(self.srv_dir, "received.bin")
        data = b""
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
        return data, L.read_pcap(os.path.join(self.srv_dir, "sniffed.pcap"))

    def flow(self, sport):
        recs = [r for r in self.records if r.get("type") == "flow" and r.get("src_port") == sport]
        self.assertEqual(len(recs), 1, "one flow record for source port %d: %s%s" % (sport, recs, self.describe()))
        return recs[0]

    def test_1_clean_upload_over_ipv6_passes(self):
        rc, code, body, _, err = self.clean
        self.assertEqual((rc, code), (0, "200"), "clean POST: curl %s%s" % (err, self.describe()))
        self.assertIn(L.CLEAN_MARKER, self.received()[0])

    def test_2_id_upload_never_arrives(self):
        rc, code, _, _, err = self.id_post
        self.assertNotEqual((rc, code), (0, "200"), "the ID upload succeeded: %s" % err)
        data, frames = self.received()
        self.assertNotIn(L.RESIDENT_ID, data, "the server's socket received the ID")
        self.assertFalse([f for f in frames if L.RESIDENT_ID in f], "a frame with the ID reached the server side")

    def test_3_nd_passed_through_and_counted(self):
        self.assertEqual(self.app_rc, 0, self.describe())
        self.assertIsNotNone(self.stats, "no --stats-json" + self.describe())
        totals = self.stats["totals"]
        self.assertGreater(totals.get("l2_pass_nd", 0), 0, self.stats)
        self.assertEqual(totals.get("l2_pass_arp", 0), 0, self.stats)
        self.assertEqual(self.stats["flows"]["created"], 2, "flows only for the two TCP connections: %s" % self.stats)

    def test_4_audit_records(self):
        clean, upload = self.flow(PORT_CLEAN), self.flow(PORT_ID)
        self.assertEqual((clean["src_ip"], clean["dest_ip"]), (CLIENT, SERVER))
        self.assertEqual(clean["verdict"], "allow", clean)
        self.assertEqual(upload["verdict"], "block", upload)
        kinds = [r["kind"] for r in upload["reasons"]]
        self.assertIn("category_not_allowed", kinds)
        self.assertFalse([r for r in self.records if r.get("proto") == "IPv6-ICMP"], "ND made audit records")


def main():
    missing = [t for t in ("ip", "curl", "ethtool") if shutil.which(t) is None]
    if missing:
        print("SKIP: live test needs %s (apt-get install iproute2 curl ethtool)" % ", ".join(missing))
        return 77
    prog = unittest.main(argv=[sys.argv[0], "-v"], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
