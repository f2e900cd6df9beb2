"""Shared set-up of the dataplane tests: the demo traffic, audit keys and an appliance.toml with
two paired net_pcap ports (inside = domestic, outside = crossborder) over ${out_dir}."""
import os
import subprocess
import sys


def prepare_demo(binary, src, d, keys=True):
    """Writes the demo captures into `d` and, with `keys`, an audit key pair (d/audit.key,
    d/audit.pub) and an HMAC key (d/hmac.key)."""
    subprocess.run([sys.executable, os.path.join(src, "examples", "demo", "gen_demo_captures.py"), d],
                   check=True, stdout=subprocess.DEVNULL)
    if keys:
        subprocess.run([binary, "audit", "keygen", "--out", os.path.join(d, "audit")], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(d, "hmac.key"), "w") as f:
            f.write("dataplane-test-hmac-key-0123456789")


def demo_config(policy, audit_dir="${out_dir}/audit", audit_extra="", eal=('"--no-shconf"',),
                sections="", infinite=False):
    """appliance.toml text. `audit_dir` None: no [audit]; `audit_extra`: more [audit] keys.
    `eal`: extra EAL arguments (TOML strings). `sections`: more TOML tables. `infinite`: the
    ports replay their captures forever (net_pcap infinite_rx) and drop what is sent."""
    audit = ""
    if audit_dir is not None:
        audit = ('[audit]\ndir = "%s"\nsigning_key = "${out_dir}/audit.key"\n'
                 'hmac_key_file = "${out_dir}/hmac.key"\n%s\n' % (audit_dir, audit_extra))
    return """pairs = [["inside", "outside"]]
[eal]
args = ["--no-huge", "--no-pci", "-m", "256", "--log-level=lib.eal:error", %s]
main_lcore = 0
workers = [1]
%s
%s
[dataplane]
policy = "%s"
[[ports]]
name = "inside"
device = "net_pcap0,rx_pcap=${out_dir}/inside-rx.pcap,%s"
zone = "domestic"
[[ports]]
name = "outside"
device = "net_pcap1,rx_pcap=${out_dir}/outside-rx.pcap,%s"
zone = "crossborder"
""" % (", ".join(eal), sections, audit, policy,
       "infinite_rx=1" if infinite else "tx_pcap=${out_dir}/inside-tx.pcap",
       "infinite_rx=1" if infinite else "tx_pcap=${out_dir}/outside-tx.pcap")
