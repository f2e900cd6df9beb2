#!/usr/bin/env python3
"""Dataplane test: runs the real worker loop (`datacustoms run`) on net_pcap virtual devices.

Each case writes captures with examples/demo/pktlib.py, an appliance.toml pointing two paired
net_pcap ports at them, runs the appliance until its input is idle, then checks the frames that
came out of each port (byte for byte, in order) and the final counters (--stats-json).
Usage: test_forwarding.py DATACUSTOMS_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

BIN = sys.argv[1] if len(sys.argv) > 1 else "datacustoms"
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(SRC, "examples", "demo"))
import pktlib as P  # noqa: E402

CONFIG = """
pairs = [["inside", "outside"]]
[eal]
args = ["--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--log-level=lib.eal:error"]
main_lcore = 0
workers = [1]
[flows]
capacity = {capacity}
[dataplane]
unknown_ethertype = "{unknown}"
allow_without_policy = {allow}
[[ports]]
name = "inside"
device = "net_pcap0,rx_pcap=${{config_dir}}/inside-rx.pcap,tx_pcap=${{out_dir}}/inside-tx.pcap"
zone = "domestic"
[[ports]]
name = "outside"
device = "net_pcap1,rx_pcap=${{config_dir}}/outside-rx.pcap,tx_pcap=${{out_dir}}/outside-tx.pcap"
zone = "crossborder"
"""


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise AssertionError("%s: not a pcap file (%d bytes)" % (path, len(data)))
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), "bad pcap magic %x" % magic
    frames, off = [], 24
    while off < len(data):
        _, _, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return frames


class Run:
    def __init__(self, inside, outside, capacity=1024, unknown="drop", allow=True, expect_rc=0):
        self.dir = tempfile.mkdtemp(prefix="dc-dp-")
        P.write_pcap(os.path.join(self.dir, "inside-rx.pcap"), inside)
        P.write_pcap(os.path.join(self.dir, "outside-rx.pcap"), outside)
        cfg = os.path.join(self.dir, "appliance.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(capacity=capacity, unknown=unknown, allow="true" if allow else "false"))
        stats = os.path.join(self.dir, "stats.json")
        self.proc = subprocess.run([BIN, "run", "--config", cfg, "--out-dir", self.dir, "--idle-exit-ms", "400",
                                    "--max-seconds", "60", "--stats-json", stats],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if self.proc.returncode != expect_rc:
            raise AssertionError("exit %d\nstdout:\n%s\nstderr:\n%s" % (
                self.proc.returncode, self.proc.stdout.decode(), self.proc.stderr.decode()))
        self.stats = None
        if os.path.exists(stats):
            with open(stats) as f:
                self.stats = json.load(f)
        self.inside_tx = read_pcap(os.path.join(self.dir, "inside-tx.pcap")) if expect_rc == 0 else []
        self.outside_tx = read_pcap(os.path.join(self.dir, "outside-tx.pcap")) if expect_rc == 0 else []

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def good_inside():
    frames = []
    c = P.TcpConversation("10.1.0.10", "203.0.113.10", 40001, 443)
    out_frames = []
    for from_client, f in c.handshake() + c.send(True, b"x" * 3000) + c.send(False, b"y" * 500) + c.close():
        (frames if from_client else out_frames).append(f)
    frames.append(P.udp4_frame("10.1.0.12", "203.0.113.53", 5353, 53, b"q" * 20))
    frames.append(P.ether() + P.ipv4("10.1.0.10", "203.0.113.10", 1, P.icmp_echo()))
    frames.append(P.tcp4_frame("10.1.0.13", "203.0.113.10", 40003, 443, 1, 0, P.SYN, vlans=[(P.ETH_VLAN, 100)]))
    frames.append(P.tcp4_frame("10.1.0.14", "203.0.113.10", 40004, 443, 1, 0, P.SYN,
                               vlans=[(P.ETH_QINQ, 10), (P.ETH_VLAN, 20)]))
    frames.append(P.tcp6_frame("2001:db8:1::10", "2001:db8:2::20", 40005, 443, 1, 0, P.SYN))
    return frames, out_frames


SYN_OK = P.tcp4_frame("10.1.0.10", "203.0.113.10", 40009, 443, 1, 0, P.SYN)
MALFORMED = {
    "truncated_ethernet": SYN_OK[:10],
    "truncated_ipv4": SYN_OK[:20],
    "bad_ipv4_ihl": P.ether() + bytes([0x43]) + SYN_OK[15:],
    "bad_ipv4_total_length": P.ether() + P.ipv4("10.1.0.10", "203.0.113.10", 6,
                                                P.tcp("10.1.0.10", "203.0.113.10", 1, 443, 1, 0, P.SYN),
                                                total_length=1400),
    "bad_ipv4_checksum": P.ether() + P.ipv4("10.1.0.10", "203.0.113.10", 6,
                                            P.tcp("10.1.0.10", "203.0.113.10", 2, 443, 1, 0, P.SYN),
                                            bad_checksum=True),
    "bad_tcp_data_offset": P.ether() + P.ipv4("10.1.0.10", "203.0.113.10", 6,
                                              P.tcp("10.1.0.10", "203.0.113.10", 3, 443, 1, 0, P.SYN,
                                                    data_offset=15)),
    "bad_udp_length": P.ether() + P.ipv4("10.1.0.10", "203.0.113.53", 17,
                                         struct.pack("!HHHH", 5353, 53, 200, 0) + b"abc"),
    "truncated_tcp": P.ether() + P.ipv4("10.1.0.10", "203.0.113.10", 6, b"\x00\x50\x01\xbb"),
    "unknown_ether_type": P.ether(ethertype=P.ETH_ARP) + bytes(28),
}


class DataplaneTest(unittest.TestCase):
    def test_bump_in_the_wire_forwards_valid_and_names_every_malformed_drop(self):
        inside, outside = good_inside()
        mixed = []
        bad = list(MALFORMED.values())
        for i, f in enumerate(inside):  # interleave malformed frames between the valid ones
            mixed.append(f)
            if i < len(bad):
                mixed.append(bad[i])
        mixed.extend(bad[len(inside):])
        r = Run(mixed, outside)
        try:
            self.assertEqual(r.outside_tx, inside, "valid frames must leave on the paired port, unchanged, in order")
            self.assertEqual(r.inside_tx, outside)
            drops = r.stats["drops"]
            for reason in MALFORMED:
                self.assertEqual(drops[reason], 1, "drop reason %s" % reason)
            self.assertEqual(r.stats["totals"]["dropped"], len(MALFORMED))
            self.assertEqual(r.stats["totals"]["forwarded"], len(inside) + len(outside))
            self.assertEqual(r.stats["ports"]["inside"]["rx_packets"], len(mixed))
            self.assertEqual(r.stats["ports"]["outside"]["tx_packets"], len(inside))
            # TCP conn, UDP, ICMP, VLAN SYN, QinQ SYN, IPv6 SYN: both directions of the TCP
            # connection are one flow.
            self.assertEqual(r.stats["flows"]["created"], 6)
            self.assertEqual(r.stats["flows"]["active"], 0)
            self.assertIn("== drops by reason ==", r.proc.stdout.decode())
        finally:
            r.cleanup()

    def test_without_policy_new_flows_fail_closed(self):
        inside, outside = good_inside()
        r = Run(inside, outside, allow=False)
        try:
            self.assertEqual(r.outside_tx, [])
            self.assertEqual(r.inside_tx, [])
            self.assertEqual(r.stats["drops"]["no_policy"], len(inside) + len(outside))
            self.assertEqual(r.stats["flows"]["created"], 0)
        finally:
            r.cleanup()

    def test_full_flow_table_drops_new_flows_and_keeps_existing(self):
        frames = [P.tcp4_frame("10.1.0.%d" % (i + 1), "203.0.113.10", 40000 + i, 443, 1, 0, P.SYN)
                  for i in range(20)]
        # A second packet of flow 0 must still pass once the table is full.
        frames.append(P.tcp4_frame("10.1.0.1", "203.0.113.10", 40000, 443, 2, 0, P.ACK))
        r = Run(frames, [], capacity=8)
        try:
            self.assertEqual(r.stats["flows"]["created"], 8)
            self.assertEqual(r.stats["flows"]["refused_table_full"], 12)
            self.assertEqual(r.stats["drops"]["flow_table_full"], 12)
            self.assertEqual(r.outside_tx, frames[:8] + [frames[-1]])
        finally:
            r.cleanup()

    def test_unknown_ethertype_forward_action(self):
        arp = MALFORMED["unknown_ether_type"]
        r = Run([arp], [], unknown="forward")
        try:
            self.assertEqual(r.outside_tx, [arp])
            self.assertEqual(r.stats["totals"]["unknown_ethertype_forwarded"], 1)
        finally:
            r.cleanup()

    def test_two_workers_each_own_their_queues_flows_and_counters(self):
        # net_pcap with two rx_pcap/tx_pcap files per port gives two queues; worker w polls queue
        # w of every port, so flows in capture pair w are handled by worker w. Two workers on
        # two CPUs plus the control thread: lcore 2 shares CPU 1 (--lcores mapping).
        d = tempfile.mkdtemp(prefix="dc-dp-")
        try:
            sets = []
            for w in range(2):
                inside, outside = [], []
                for i in range(5):
                    c = P.TcpConversation("10.1.%d.%d" % (w, i + 1), "203.0.113.10", 41000 + i, 443)
                    for from_client, f in c.handshake() + c.send(True, b"w%d" % w * 50) + c.close():
                        (inside if from_client else outside).append(f)
                P.write_pcap(os.path.join(d, "in%d.pcap" % w), inside)
                P.write_pcap(os.path.join(d, "out%d.pcap" % w), outside)
                sets.append((inside, outside))
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                f.write("""
pairs = [["inside", "outside"]]
[eal]
args = ["--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--log-level=lib.eal:error",
        "--lcores=0@0,1@1,2@1"]
main_lcore = 0
workers = [1, 2]
[dataplane]
allow_without_policy = true
[[ports]]
name = "inside"
device = "net_pcap0,rx_pcap=${out_dir}/in0.pcap,rx_pcap=${out_dir}/in1.pcap,tx_pcap=${out_dir}/itx0.pcap,tx_pcap=${out_dir}/itx1.pcap"
zone = "domestic"
[[ports]]
name = "outside"
device = "net_pcap1,rx_pcap=${out_dir}/out0.pcap,rx_pcap=${out_dir}/out1.pcap,tx_pcap=${out_dir}/otx0.pcap,tx_pcap=${out_dir}/otx1.pcap"
zone = "crossborder"
""")
            stats = os.path.join(d, "stats.json")
            p = subprocess.run([BIN, "run", "--config", cfg, "--out-dir", d, "--idle-exit-ms", "400",
                                "--max-seconds", "60", "--stats-json", stats],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertIn("running with 2 worker(s)", p.stderr.decode())
            with open(stats) as f:
                s = json.load(f)
            self.assertEqual(len(s["workers"]), 2)
            for w in range(2):
                inside, outside = sets[w]
                self.assertEqual(s["workers"][w]["rx_packets"], len(inside) + len(outside))
                self.assertEqual(s["workers"][w]["flows_created"], 5)
                self.assertEqual(read_pcap(os.path.join(d, "otx%d.pcap" % w)), inside)
                self.assertEqual(read_pcap(os.path.join(d, "itx%d.pcap" % w)), outside)
            self.assertEqual(s["totals"]["dropped"], 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_bad_configuration_is_reported_with_location_and_nothing_starts(self):
        d = tempfile.mkdtemp(prefix="dc-dp-")
        try:
            cfg = os.path.join(d, "appliance.toml")
            with open(cfg, "w") as f:
                f.write('pairs = [["a", "zz"]]\n[memory]\nmbufs = -3\nburts = 4\n[[ports]]\nname = "a"\n'
                        'device = "net_null0"\nzone = "domestic"\n')
            p = subprocess.run([BIN, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            err = p.stderr.decode()
            self.assertEqual(p.returncode, 2, err)
            self.assertIn(cfg + ":1:16: error: unknown port 'zz' in pair", err)
            self.assertIn(cfg + ":3:9: error: 'mbufs' = -3 is out of range", err)
            self.assertIn(cfg + ":4:1: error: unknown key 'burts' in [memory]", err)
            self.assertIn("nothing started", err)
            lines = [l for l in err.splitlines() if ": error: " in l]
            self.assertEqual(len(lines), 4, err)  # every problem at once, in file order
            self.assertEqual(lines, sorted(lines, key=lambda l: [int(x) for x in l[len(cfg) + 1:].split(":")[:2]]))
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
