#!/usr/bin/env python3
"""Live end to end: real TCP clients and a real server talk THROUGH `datacustoms run`.

Topology (one L2 segment through the appliance, which is a transparent bump in the wire):

  netns dcl-in-<pid>                    root netns                     netns dcl-out-<pid>
  curl, 10.1.0.21/32   c0 ==veth== dcl<pid>a  [datacustoms]  dcl<pid>b ==veth== s0   server
  route 198.51.100.0/24 dev c0     net_af_packet0 (domestic)                198.51.100.20/32
  static neighbours (no ARP)       net_af_packet1 (crossborder)             198.51.100.99/32
                                                                         route 10.1.0.0/16 dev s0

Judged by examples/policy/ftz-demo.toml: 198.51.100.20:8443 is sg-analytics (may receive
pi.contact, not pi.identity); port 8080 and address 198.51.100.99 are not whitelisted.
Checks:
  1. a clean JSON POST to sg-analytics gets HTTP 200 (before and after the blocked upload);
  2. a POST carrying the resident ID number 11010519491231002X stalls (curl times out: the segment
     is dropped, no reset) and the ID never reaches the server side (neither the server's sockets
     nor its interface);
  3. GETs to a non-whitelisted port and address fail, and their SYNs never reach the server side;
  4. the appliance stops cleanly on SIGINT (exit 0); its counters show the policy drops; the audit
     log has the right flow records (block + category_not_allowed/whitelisted for the ID upload,
     allow for the clean ones) and `audit verify` passes.
Needs root, `ip`, `curl` and `ethtool`; exits 77 (ctest: skipped) when one of the tools is missing.
Usage: test_live_customs.py DATACUSTOMS_BINARY SOURCE_DIR
Set DC_LIVE_KEEP=1 to keep the temporary directory (logs, captures, audit log) for inspection.
"""
import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "datacustoms"
SRC = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
POLICY = os.path.join(SRC, "examples", "policy", "ftz-demo.toml")
RESIDENT_ID = b"11010519491231002X"
CLEAN_MARKER = b"SH-2026-LIVE-0001"

PID = os.getpid()
NS_IN, NS_OUT = "dcl-in-%d" % PID, "dcl-out-%d" % PID
IF_A, IF_B = "dcl%da" % PID, "dcl%db" % PID          # root-side veth ends (<= 15 chars)
IF_C, IF_S = "c0", "s0"                                # namespace-side ends (names are per-netns)
MAC_C, MAC_S = "02:dc:00:00:00:21", "02:dc:00:00:00:20"
CLIENT = "10.1.0.21"
SERVER, SERVER_UNLISTED = "198.51.100.20", "198.51.100.99"
STALE_AFTER_S = 600                                    # > the ctest TIMEOUT
OFFLOADS = ["tx", "off", "tso", "off", "gso", "off", "gro", "off"]

# Client source ports: one per connection, so each audit record is matched exactly.
PORT_CLEAN1, PORT_ID, PORT_GET_PORT, PORT_GET_ADDR, PORT_CLEAN2 = 41001, 41002, 41003, 41004, 41005

CONFIG = """
pairs = [["inside", "outside"]]
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
checkpoint_every_records = 3
ring_size = 1024
evidence_packets_per_flow = 32
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

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG: if the test is killed (ctest timeout), its children stop too.
    _libc.prctl(1, signal.SIGTERM, 0, 0, 0)


def sh(args, check=True, timeout=30, **kw):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(args), p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
    return p


def nsx(ns, *args):
    return ["ip", "netns", "exec", ns] + list(args)


def wait_for(what, pred, timeout, proc=None, log=None):
    """Polls pred() until true; fails at the deadline or when proc exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError("%s: process exited (%s) first\n%s" % (what, proc.returncode, tail(log)))
        time.sleep(0.05)
    raise AssertionError("timed out after %ss waiting for %s\n%s" % (timeout, what, tail(log)))


def tail(path, n=4000):
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return f.read()[-n:].decode(errors="replace")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_stale(ns_re=r"^(dcl-(?:in|out)-(\d+))\b", link_re=r"^\d+: (dcl(\d+)[ab])[@:]",
                 tmp_re=r"^dc-live-(\d+)-"):
    """Namespaces, veths and temp dirs of earlier runs killed before their cleanup (ctest's timeout
    kills with SIGKILL): recognised by a test's names (each pattern's groups: the name, then the
    PID), removed only when that PID is gone and the thing is older than any run can last (a run in
    another PID namespace is never touched). The other live tests pass their own patterns."""
    def stale(pid, path):
        try:
            return not pid_alive(pid) and time.time() - os.stat(path).st_mtime > STALE_AFTER_S
        except OSError:
            return False
    out = sh(["ip", "netns", "list"], check=False).stdout.decode()
    for line in out.splitlines():
        m = re.match(ns_re, line)
        if m and stale(int(m.group(2)), "/run/netns/" + m.group(1)):
            sh(["ip", "netns", "del", m.group(1)], check=False)
    out = sh(["ip", "-o", "link", "show"], check=False).stdout.decode()
    for m in re.finditer(link_re, out, re.M):
        # Normally gone with its netns peer; left over only when a set-up failed half-way.
        if stale(int(m.group(2)), "/sys/class/net/" + m.group(1)):
            sh(["ip", "link", "del", m.group(1)], check=False)
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp) if tmp_re else ():
        m = re.match(tmp_re, name)
        if m and stale(int(m.group(1)), os.path.join(tmp, name)):
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        off += 16
        frames.append(data[off:off + incl])
        off += incl
    return frames


def tcp_of(frame):
    """(src_ip, dst_ip, sport, dport, flags, payload) of an untagged Ethernet/IPv4/TCP frame, else None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    t = 14 + ihl
    if len(frame) < t + 20:
        return None
    sport, dport = struct.unpack_from("!HH", frame, t)
    doff = (frame[t + 12] >> 4) * 4
    src = ".".join(str(b) for b in frame[26:30])
    dst = ".".join(str(b) for b in frame[30:34])
    return src, dst, sport, dport, frame[t + 13], frame[t + doff:14 + total]


class Env:
    """Everything a live run created, torn down by cleanup() whatever happened: its processes
    (stop_signal, then SIGKILL after stop_wait_s), its namespaces, the veths left outside them
    (when a move into a namespace failed), its mounts and its work directory (kept with
    DC_LIVE_KEEP). The other live tests use it with their own names."""

    stop_signal = signal.SIGINT
    stop_wait_s = 15

    def __init__(self, namespaces=None, links=None):
        # None: this module's NS_IN/NS_OUT and IF_A/IF_B as they are at cleanup (the TLS and
        # decoding tests import this module and rename them before building their network).
        self.namespaces = namespaces
        self.links = links
        self.dir = None
        self.procs = []
        self.mounts = []
        self.cleaned = False

    def cleanup(self):
        if self.cleaned:
            return
        self.cleaned = True
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(self.stop_signal)
                try:
                    p.wait(self.stop_wait_s)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        for ns in self.namespaces if self.namespaces is not None else (NS_IN, NS_OUT):
            sh(["ip", "netns", "del", ns], check=False)
        for i in self.links if self.links is not None else (IF_A, IF_B):
            if os.path.exists("/sys/class/net/" + i):
                sh(["ip", "link", "del", i], check=False)
        for m in self.mounts:
            sh(["umount", "-l", m], check=False)
        if self.dir:
            if os.environ.get("DC_LIVE_KEEP"):
                sys.stderr.write("DC_LIVE_KEEP: kept %s\n" % self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)


ENV = Env()
atexit.register(ENV.cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # runs atexit cleanup


def build_network():
    for ns in (NS_IN, NS_OUT):
        sh(["ip", "netns", "add", ns])
        sh(nsx(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"))
        sh(["ip", "-n", ns, "link", "set", "lo", "up"])
    for root_if, ns, ns_if, mac in ((IF_A, NS_IN, IF_C, MAC_C), (IF_B, NS_OUT, IF_S, MAC_S)):
        sh(["ip", "link", "add", root_if, "type", "veth", "peer", "name", ns_if, "netns", ns])
        with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % root_if, "w") as f:
            f.write("1")           # the root side stays silent: no link-local address, no RS/MLD
        sh(["ethtool", "-K", root_if] + OFFLOADS)
        sh(["ip", "link", "set", root_if, "up"])
        sh(nsx(ns, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % ns_if))
        sh(["ip", "-n", ns, "link", "set", ns_if, "address", mac])
        sh(nsx(ns, "ethtool", "-K", ns_if, *OFFLOADS))
        sh(["ip", "-n", ns, "link", "set", ns_if, "up"])
    # Client: a /32 and an on-link route to the foreign prefix; the server likewise. Static
    # neighbours: no ARP needed, so the appliance keeps unknown_ethertype = "drop".
    sh(["ip", "-n", NS_IN, "addr", "add", CLIENT + "/32", "dev", IF_C])
    sh(["ip", "-n", NS_IN, "route", "add", "198.51.100.0/24", "dev", IF_C])
    for a in (SERVER, SERVER_UNLISTED):
        sh(["ip", "-n", NS_IN, "neigh", "replace", a, "lladdr", MAC_S, "nud", "permanent", "dev", IF_C])
        sh(["ip", "-n", NS_OUT, "addr", "add", a + "/32", "dev", IF_S])
    sh(["ip", "-n", NS_OUT, "route", "add", "10.1.0.0/16", "dev", IF_S])
    sh(["ip", "-n", NS_OUT, "neigh", "replace", CLIENT, "lladdr", MAC_C, "nud", "permanent", "dev", IF_S])
    # Both ends must be up (carrier) before traffic: poll instead of sleeping.
    for ns, i in ((NS_IN, IF_C), (NS_OUT, IF_S)):
        wait_for("%s up" % i, lambda: b"LOWER_UP" in sh(["ip", "-n", ns, "link", "show", i]).stdout, 10)


def curl(*args, max_time):
    """curl in the inside namespace; returns (exit code, http code, body, seconds)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    t0 = time.monotonic()
    p = subprocess.run(nsx(NS_IN, "curl", "-sS", "--noproxy", "*", "-o", "-", "-w", "\n%{http_code}",
                           "--max-time", str(max_time), "-H", "Expect:") + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=max_time + 20)
    secs = time.monotonic() - t0
    body, _, code = p.stdout.rpartition(b"\n")
    return p.returncode, code.decode(), body, secs, p.stderr.decode(errors="replace")


class LiveCustomsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("the live test must run as root (network namespaces, veths, AF_PACKET)")
        # The demo policy's sg-analytics basis (EX-TRANSIT-2026) must be valid today: the live
        # appliance judges with the wall clock.
        today = time.strftime("%Y-%m-%d", time.gmtime())
        if not ("2026-01-01" <= today <= "2027-12-30"):
            raise AssertionError("EX-TRANSIT-2026 in %s is not valid today (%s): update the test's dates"
                                 % (POLICY, today))
        remove_stale()
        cls.dir = ENV.dir = tempfile.mkdtemp(prefix="dc-live-%d-" % PID)
        d = cls.dir
        cls.t_start = time.monotonic()
        build_network()

        # Keys and configuration (as in tests/dataplane/test_policy_audit.py).
        sh([BIN, "audit", "keygen", "--out", os.path.join(d, "audit")])
        with open(os.path.join(d, "hmac.key"), "w") as f:
            f.write("live-test-hmac-key-0123456789abcdef")
        cfg = os.path.join(d, "appliance.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(policy=POLICY, if_a=IF_A, if_b=IF_B))

        # The server (and its sniffer) in the outside namespace.
        srv_dir = cls.srv_dir = os.path.join(d, "server")
        os.mkdir(srv_dir)
        cls.srv_log = os.path.join(d, "server.log")
        with open(cls.srv_log, "wb") as log:
            srv = subprocess.Popen(nsx(NS_OUT, sys.executable, os.path.join(HERE, "live_server.py"), "--dir", srv_dir,
                                       "--listen", SERVER + ":8443", "--listen", SERVER + ":8080",
                                       "--listen", SERVER_UNLISTED + ":8443", "--sniff", IF_S,
                                       "--max-seconds", "200"),
                                   stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        ENV.procs.append(srv)
        wait_for("the server", lambda: os.path.exists(os.path.join(srv_dir, "ready")), 15, srv, cls.srv_log)

        # Controls: the server answers locally on every port the test later expects to fail, and
        # without the appliance nothing connects the two namespaces.
        for url in ("http://%s:8080/" % SERVER, "http://%s:8443/" % SERVER_UNLISTED):
            p = sh(nsx(NS_OUT, "curl", "-sS", "--noproxy", "*", "--max-time", "5", url))
            assert p.stdout == b"ok\n", p.stdout
        cls.pre_rc = curl("--connect-timeout", "1", "--local-port", "41000", "http://%s:8443/" % SERVER,
                          max_time=2)[0]

        # The appliance. DPDK 22.11's af_packet PMD names its PACKET_FANOUT group (pid ^ ifindex)
        # & 0xffff; fanout groups are per netns, so another af_packet process whose group id collides
        # makes the probe fail (EINVAL): then start again (a new pid, a new group id), at most 3 times.
        cls.app_log = os.path.join(d, "appliance.log")
        cls.stats_path = os.path.join(d, "stats.json")
        for attempt in range(3):
            with open(cls.app_log, "wb") as log:
                app = cls.app = subprocess.Popen(
                    [BIN, "run", "--config", cfg, "--out-dir", d, "--max-seconds", "150",
                     "--stats-json", cls.stats_path],
                    stdout=subprocess.DEVNULL, stderr=log, preexec_fn=_die_with_parent)
            ENV.procs.insert(0, app)
            try:
                wait_for('"running" from the appliance', lambda: "running with" in tail(cls.app_log, 1 << 20),
                         60, app, cls.app_log)
                break
            except AssertionError:
                if app.poll() is None or "PACKET_FANOUT" not in tail(cls.app_log, 1 << 20) or attempt == 2:
                    raise
                sys.stderr.write("live: af_packet fanout group collision, starting the appliance again\n")
                shutil.rmtree(os.path.join(d, "audit"), ignore_errors=True)
        cls.t_running = time.monotonic()

        # The clients.
        with open(os.path.join(d, "clean.json"), "wb") as f:
            f.write(b'{"shipment": "' + CLEAN_MARKER + b'", "pallets": 12, "port": "Tianjin", '
                    b'"status": "cleared"}')
        with open(os.path.join(d, "id.json"), "wb") as f:
            f.write(b'{"customer": "Zhang San", "id_number": "' + RESIDENT_ID + b'", "city": "Beijing"}')
        post = ["-H", "Content-Type: application/json", "--connect-timeout", "5"]
        url = "http://%s:8443/upload" % SERVER
        cls.clean1 = curl(*post, "--local-port", str(PORT_CLEAN1), "--data-binary", "@" + os.path.join(d, "clean.json"),
                          url, max_time=15)
        cls.id_post = curl(*post, "--local-port", str(PORT_ID), "--data-binary", "@" + os.path.join(d, "id.json"),
                           url, max_time=4)
        cls.get_port = curl("--connect-timeout", "3", "--local-port", str(PORT_GET_PORT),
                            "http://%s:8080/" % SERVER, max_time=3)
        cls.get_addr = curl("--connect-timeout", "3", "--local-port", str(PORT_GET_ADDR),
                            "http://%s:8443/" % SERVER_UNLISTED, max_time=3)
        cls.clean2 = curl(*post, "--local-port", str(PORT_CLEAN2), "--data-binary", "@" + os.path.join(d, "clean.json"),
                          url, max_time=15)
        cls.t_clients = time.monotonic()

        # Stop: SIGINT, exit 0, counters and audit log written.
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
        cls.log = os.path.join(d, "audit")
        cls.records = []
        if os.path.isdir(cls.log):
            for name in sorted(os.listdir(cls.log)):
                if name.endswith(".jsonl"):
                    with open(os.path.join(cls.log, name)) as f:
                        cls.records += [json.loads(l) for l in f if l.strip()]
        sys.stderr.write("live: network+server+appliance %.1fs, clients %.1fs (%s)\n" % (
            cls.t_running - cls.t_start, cls.t_clients - cls.t_running, ", ".join(
                "%s rc %d %.1fs" % (n, c[0], c[3]) for n, c in (
                    ("clean", cls.clean1), ("id", cls.id_post), ("get-port", cls.get_port),
                    ("get-addr", cls.get_addr), ("clean", cls.clean2)))))

    @classmethod
    def tearDownClass(cls):
        ENV.cleanup()

    # ---------------------------------------------------------------- helpers
    def describe(self):
        return "\nappliance stderr:\n%s\nserver log:\n%s" % (tail(self.app_log), tail(self.srv_log))

    def flow(self, sport):
        recs = [r for r in self.records if r.get("type") == "flow" and r.get("src_ip") == CLIENT
                and r.get("src_port") == sport]
        self.assertEqual(len(recs), 1, "exactly one flow record for source port %d: %s%s" % (
            sport, recs, self.describe()))
        return recs[0]

    def server_side(self):
        with open(os.path.join(self.srv_dir, "requests.jsonl")) as f:
            requests = [json.loads(l) for l in f if l.strip()]
        received = b""
        if os.path.exists(os.path.join(self.srv_dir, "received.bin")):
            with open(os.path.join(self.srv_dir, "received.bin"), "rb") as f:
                received = f.read()
        frames = read_pcap(os.path.join(self.srv_dir, "sniffed.pcap"))
        return requests, received, frames

    # ---------------------------------------------------------------- tests
    def test_1_nothing_connects_the_namespaces_without_the_appliance(self):
        self.assertNotEqual(self.pre_rc, 0, "client reached the server with no appliance running")

    def test_2_clean_upload_passes(self):
        for name, (rc, code, body, secs, err) in (("first", self.clean1), ("second", self.clean2)):
            self.assertEqual((rc, code), (0, "200"), "%s clean POST: curl %s%s" % (name, err, self.describe()))
            self.assertEqual(body.strip(), str(os.path.getsize(os.path.join(self.dir, "clean.json"))).encode())

    def test_3_id_upload_stalls_and_never_arrives(self):
        rc, code, _, secs, err = self.id_post
        self.assertEqual(rc, 28, "the ID upload must time out (segment dropped, no answer): curl %d %s %s" % (
            rc, code, err))
        self.assertEqual(code, "000")
        self.assertGreaterEqual(secs, 3.5, "it stalled until --max-time, it was not refused")
        requests, received, frames = self.server_side()
        self.assertNotIn(RESIDENT_ID, received, "the server's socket received the ID")
        self.assertFalse([f for f in frames if RESIDENT_ID in f], "a frame with the ID reached the server side")
        # The capture and socket records are live: the clean uploads are in them.
        self.assertIn(CLEAN_MARKER, received)
        self.assertTrue([f for f in frames if CLEAN_MARKER in f])
        posts = [r for r in requests if r["method"] == "POST"]
        self.assertEqual(len(posts), 2, requests)
        self.assertEqual({r["peer"] for r in posts}, {"%s:%d" % (CLIENT, PORT_CLEAN1), "%s:%d" % (CLIENT, PORT_CLEAN2)})
        # The handshake of the ID upload did pass (whitelisted endpoint): only its payload was stopped.
        syns = [t for t in map(tcp_of, frames) if t and t[2] == PORT_ID and t[4] & 0x02]
        self.assertTrue(syns, "the ID upload's SYN reached the server (admission allowed it)")
        payload = [t for t in map(tcp_of, frames) if t and t[2] == PORT_ID and t[5]]
        self.assertFalse(payload, "no payload byte of the ID upload reached the server side")

    def test_4_unlisted_port_and_address_fail(self):
        for name, (rc, code, _, _, err) in (("port 8080", self.get_port), (SERVER_UNLISTED, self.get_addr)):
            self.assertEqual(rc, 28, "GET to %s must fail by timeout: curl %d %s %s" % (name, rc, code, err))
        requests, _, frames = self.server_side()
        self.assertFalse([r for r in requests if r["peer"].startswith(CLIENT + ":") and r["method"] == "GET"],
                         requests)
        reached = [t for t in map(tcp_of, frames) if t and t[2] in (PORT_GET_PORT, PORT_GET_ADDR)]
        self.assertFalse(reached, "no packet of the unlisted connections reached the server side")

    def test_5_clean_stop_and_counters(self):
        self.assertEqual(self.app_rc, 0, self.describe())
        self.assertIsNotNone(self.stats, "no --stats-json written" + self.describe())
        s = self.stats
        # The wire carries only the test's five connections (IPv6 off, static neighbours, no ARP).
        self.assertEqual(s["flows"]["created"], 5, s)
        self.assertEqual(s["verdicts"]["allow"], 2, s)
        self.assertEqual(s["verdicts"]["block"], 3, s)
        self.assertGreaterEqual(s["drops"].get("not_whitelisted", 0), 2, s)
        self.assertGreater(s["drops"].get("policy_block", 0), 0, s)
        self.assertEqual(s["drops"].get("spoofed_source", 0), 0, s)
        self.assertEqual(s["drops"].get("unknown_ether_type", 0), 0, "non-IP noise on the wire: %s" % s)

    def test_6_audit_records(self):
        upload = self.flow(PORT_ID)
        self.assertEqual(upload["verdict"], "block")
        self.assertEqual(upload["dest_ip"], SERVER)
        self.assertEqual(upload["dest_port"], 8443)
        self.assertEqual([r["kind"] for r in upload["reasons"]], ["category_not_allowed", "whitelisted"], upload)
        self.assertEqual(upload["reasons"][0]["category"], "pi.identity")
        self.assertEqual(upload["counterparty"], "sg-analytics")
        self.assertEqual(upload["values"][0]["masked"], "110105********002X")
        self.assertIsNotNone(upload["evidence"])
        for port in (PORT_CLEAN1, PORT_CLEAN2):
            clean = self.flow(port)
            self.assertEqual(clean["verdict"], "allow", clean)
            self.assertEqual(clean["counterparty"], "sg-analytics")
            self.assertGreater(clean["flow"]["bytes_toserver"], 0)
            self.assertGreater(clean["flow"]["bytes_toclient"], 0)
        for port in (PORT_GET_PORT, PORT_GET_ADDR):
            self.assertEqual(self.flow(port)["verdict"], "block")
        for name in os.listdir(self.log):
            if name.endswith(".jsonl"):
                with open(os.path.join(self.log, name), "rb") as f:
                    self.assertNotIn(RESIDENT_ID, f.read(), "raw value in the audit log")

    def test_7_audit_log_verifies(self):
        p = sh([BIN, "audit", "verify", self.log, "--pubkey", os.path.join(self.dir, "audit.pub")], check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())

    def test_8_replaying_the_live_evidence_agrees_with_the_log(self):
        # Real kernel-made segments, judged offline by the same engine: same verdicts.
        ev_dir = os.path.join(self.log, "evidence")
        caps = sorted(os.path.join(ev_dir, n) for n in os.listdir(ev_dir))
        blocked = [r for r in self.records if r.get("type") == "flow" and r["verdict"] == "block" and r["evidence"]]
        self.assertEqual(len(caps), len(blocked))
        self.assertGreaterEqual(len(blocked), 3)
        p = sh([BIN, "replay", "--policy", POLICY, "--audit", self.log] + caps, check=False)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 0, p.stdout.decode() + err)
        self.assertIn("compared %d flows" % len(blocked), err)
        self.assertIn("0 difference(s)", err)


def main():
    missing = [t for t in ("ip", "curl", "ethtool") if shutil.which(t) is None]
    if missing:
        print("SKIP: live test needs %s (apt-get install iproute2 curl ethtool)" % ", ".join(missing))
        return 77
    prog = unittest.main(argv=[sys.argv[0], "-v"], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
