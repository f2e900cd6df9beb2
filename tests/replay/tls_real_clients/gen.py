#!/usr/bin/env python3
"""tls_real_clients: real TLS captures (curl / openssl s_client <-> a Python OpenSSL server, recorded
through a veth by tests/data/tls/record.py, committed with their NSS key logs) replayed with and
without the escrowed keys. Run: gen.py OUTDIR.

Writes into OUTDIR: every tests/data/tls/*.pcap (names as committed), and
  all.keylog            the key logs of every capture, concatenated (what `keys push` would send)
  garbled.keylog        the same lines, each secret with its first hex digit changed: the syntax
                        is valid, every record fails authentication
  partial.keylog        the key logs of the *_h1_id captures only: the other flows have no key
  escrow.toml           examples/policy/ftz-demo.toml with [defaults] tls_escrow = "optional"
                        (TLS flows wait for escrowed keys; the demo's opaque_payload is "alert")
  escrow_block.toml     the same with opaque_payload = "block"
  escrow_required.toml  the same with tls_escrow = "required" (no keys: tls_key_missing)
                        (all three without the demo's [[test]] cases)

  61001 TLS1.3 AES-128-GCM  HTTP/1.1 ID      61007 TLS1.2 AES-256-GCM  HTTP/2   ID
  61002 TLS1.3 AES-256-GCM  HTTP/1.1 ID      61008 TLS1.3 AES-128-GCM  HTTP/1.1 clean, 20 KB
  61003 TLS1.3 ChaCha20     HTTP/1.1 ID      61009 TLS1.3 ChaCha20     HTTP/2   clean
  61004 TLS1.2 AES-128-GCM  HTTP/1.1 ID      61010 TLS1.3 AES-128-GCM  HTTP/1.1 ID after a KeyUpdate
  61005 TLS1.2 ChaCha20     HTTP/1.1 ID      61011 TLS1.3 AES-256-GCM  HTTP/1.1 ID at 20 KB
  61006 TLS1.3 AES-128-GCM  HTTP/2   ID      61012 TLS1.2 AES-128-GCM  HTTP/2   ID at 20 KB
"""
import glob
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATA = os.path.join(SRC, "tests", "data", "tls")
SECRET = re.compile(r"^([A-Z_0-9]+) ([0-9a-fA-F]{64}) ([0-9a-fA-F]+)\s*$")


def garble(line):
    m = SECRET.match(line)
    if not m:
        return line
    secret = m.group(3)
    flipped = ("1" if secret[0] != "1" else "2") + secret[1:]
    return "%s %s %s\n" % (m.group(1), m.group(2), flipped)


def set_defaults(policy, escrow, opaque):
    """The policy text with [defaults] tls_escrow = escrow (and opaque_payload = opaque)."""
    for key, value in (("tls_escrow", escrow), ("opaque_payload", opaque)):
        if value is None:
            continue
        line = re.compile(r'^%s\s*=\s*"[a-z]+"' % key, re.M)
        if line.search(policy):
            policy = line.sub('%s = "%s"' % (key, value), policy, count=1)
        else:
            assert "\n[defaults]\n" in policy
            policy = policy.replace("\n[defaults]\n", '\n[defaults]\n%s = "%s"\n' % (key, value), 1)
    return policy


def generate(out):
    files = {}
    for pcap in sorted(glob.glob(os.path.join(DATA, "*.pcap"))):
        name = os.path.basename(pcap)
        files[name] = os.path.join(out, name)
        shutil.copy(pcap, files[name])
    keylogs = sorted(glob.glob(os.path.join(DATA, "*.keylog")))
    lines = []
    for k in keylogs:
        with open(k) as f:
            lines += [l if l.endswith("\n") else l + "\n" for l in f]
    partial = []
    for k in keylogs:
        if k.endswith("_h1_id.keylog"):
            with open(k) as f:
                partial += f.readlines()
    for name, text in (("all.keylog", "".join(lines)), ("garbled.keylog", "".join(garble(l) for l in lines)),
                       ("partial.keylog", "".join(partial))):
        files[name] = os.path.join(out, name)
        with open(files[name], "w") as f:
            f.write(text)
    with open(os.path.join(SRC, "examples", "policy", "ftz-demo.toml"), encoding="utf-8") as f:
        demo = f.read()
    demo = demo[:demo.index("\n[[test]]")] + "\n"
    for name, escrow, opaque in (("escrow.toml", "optional", None), ("escrow_block.toml", "optional", "block"),
                                 ("escrow_required.toml", "required", None)):
        files[name] = os.path.join(out, name)
        with open(files[name], "w", encoding="utf-8") as f:
            f.write(set_defaults(demo, escrow, opaque))
    return files


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for k, v in generate(out).items():
        print(k, v)
