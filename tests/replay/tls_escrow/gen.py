#!/usr/bin/env python3
"""tls_escrow: TLS uploads decrypted with the exporter's escrowed session keys (NSS key log).

Real TLS connections made in-process with OpenSSL by tests' dc_tls_capture (path in the
DC_TLS_CAPTURE environment variable, set by CMake), written as one pcap, plus their key logs.
Uploads from the domestic client to sg-analytics (may not receive pi.identity) under
examples/policy/ftz-demo.toml with `[defaults] tls_escrow = "optional"` (policy_escrow) or
"required" (policy_required). opaque_payload is "alert" there.

  53001  TLS 1.3 AES-128-GCM, HTTP/1.1 POST with the resident ID    -> block with keys
  53002  TLS 1.3 AES-256-GCM (SHA-384 key schedule), the ID         -> block
  53003  TLS 1.3 ChaCha20-Poly1305, the ID                          -> block
  53004  TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, the ID               -> block
  53005  TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305, the ID               -> block
  53006  TLS 1.3 clean request, KeyUpdate, then the ID              -> block (keys after update)
  53007  the request of 53001 in 7-byte TCP segments                -> block
  53008  records of 512 bytes, several per segment, ID at the end   -> block
  53009  HTTP/2 (ALPN h2), the ID in a DATA frame                   -> block
  53010  clean HTTP/1.1 upload                                      -> allow
  53011  clean HTTP/2 upload                                        -> allow
  53012  TLS 1.3 clean upload whose escrowed secrets are garbled    -> block tls_auth_failure

Without keys every flow is opaque: alert (opaque_payload) under tls_escrow = "optional", block
(tls_key_missing) under "required"; with escrow off the keys are not used (alert).
Run: gen.py OUTDIR (DC_TLS_CAPTURE must be set).
"""
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

T0_NS = R.T0_US * 1000
CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'


def h2_frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def hpack_literal(name, value):
    # Literal header field without indexing, new name, no Huffman (RFC 7541 §6.2.2).
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def h2_request(body):
    block = (b"\x83\x87" +  # :method POST, :scheme https (static table)
             hpack_literal(b":path", b"/upload") +
             hpack_literal(b":authority", b"collector.example.net") +
             hpack_literal(b"content-type", b"application/json") +
             hpack_literal(b"content-length", str(len(body)).encode()))
    return (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0, b"") +
            h2_frame(1, 4, 1, block) + h2_frame(0, 1, 1, body))


H2_RESPONSE = h2_frame(4, 0, 0, b"") + h2_frame(4, 1, 0, b"") + h2_frame(1, 5, 1, b"\x88")


def capture(out, port, client, *opts, server=R.HTTP_OK_EMPTY, after_update=None):
    tool = os.environ.get("DC_TLS_CAPTURE")
    if not tool:
        raise SystemExit("DC_TLS_CAPTURE is not set (the dc_tls_capture binary)")
    base = os.path.join(out, "c%d" % port)
    for name, data in (("client", client), ("server", server), ("after", after_update)):
        if data is not None:
            with open(base + "." + name, "wb") as f:
                f.write(data)
    argv = [tool, base + ".pcap", base + ".keys", "--client-ip", R.DOMESTIC_CLIENT,
            "--server-ip", R.SG_ANALYTICS, "--client-port", str(port), "--server-port",
            str(R.SG_PORT), "--start-ns", str(T0_NS + (port - 53000) * 10**9),
            "--client-file", base + ".client", "--server-file", base + ".server"] + list(opts)
    if after_update is not None:
        argv += ["--after-update-file", base + ".after"]
    subprocess.run(argv, check=True)
    return base


def garble(keys_path):
    """The same lines with every secret's last hex digit changed: authentic-looking, wrong."""
    lines = []
    for line in open(keys_path).read().splitlines():
        if line and not line.startswith("#"):
            label, rnd, secret = line.split(" ")
            last = "0" if secret[-1] != "0" else "1"
            line = " ".join((label, rnd, secret[:-1] + last))
        lines.append(line)
    return "\n".join(lines) + "\n"


def merge_pcaps(paths, out_path):
    # Classic pcap files with the same header: keep the first header, append every record.
    with open(out_path, "wb") as out:
        for i, p in enumerate(paths):
            data = open(p, "rb").read()
            out.write(data if i == 0 else data[24:])
    return out_path


def policy_variant(out, name, escrow):
    src = os.path.join(R.SOURCE_DIR, "examples", "policy", "ftz-demo.toml")
    text = open(src, encoding="utf-8").read()
    text = text.replace("\n[defaults]\n", '\n[defaults]\ntls_escrow = "%s"\n' % escrow, 1)
    text = text[:text.index("\n[[test]]")] + "\n"
    path = os.path.join(out, name + ".toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def generate(out):
    with_id = R.http_post(R.json_body(R.VALID_ID))
    clean = R.http_post(CLEAN)
    long_id = R.http_post(b'{"pad":"' + b"x" * 3000 + b'",' + R.json_body(R.VALID_ID)[1:])
    bases = [
        capture(out, 53001, with_id),
        capture(out, 53002, with_id, "--suite", "TLS_AES_256_GCM_SHA384"),
        capture(out, 53003, with_id, "--suite", "TLS_CHACHA20_POLY1305_SHA256"),
        capture(out, 53004, with_id, "--tls12", "--suite", "ECDHE-RSA-AES128-GCM-SHA256"),
        capture(out, 53005, with_id, "--tls12", "--suite", "ECDHE-RSA-CHACHA20-POLY1305"),
        capture(out, 53006, clean, "--key-update", after_update=with_id),
        capture(out, 53007, with_id, "--mss", "7"),
        capture(out, 53008, long_id, "--max-fragment", "512"),
        capture(out, 53009, h2_request(R.json_body(R.VALID_ID)), "--alpn", "h2",
                server=H2_RESPONSE),
        capture(out, 53010, clean),
        capture(out, 53011, h2_request(CLEAN), "--alpn", "h2", server=H2_RESPONSE),
        capture(out, 53012, clean),
    ]
    keys = "".join(open(b + ".keys").read() for b in bases[:-1]) + garble(bases[-1] + ".keys")
    keys_path = os.path.join(out, "all.keys")
    with open(keys_path, "w") as f:
        f.write(keys)
    return {"tls.pcap": merge_pcaps([b + ".pcap" for b in bases], os.path.join(out, "tls.pcap")),
            "all.keys": keys_path,
            "policy_escrow": policy_variant(out, "policy_escrow", "optional"),
            "policy_required": policy_variant(out, "policy_required", "required")}


if __name__ == "__main__":
    R.main_for(generate)
