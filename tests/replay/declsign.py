"""Signed declarations for the generated cases (tests/replay/declarations, declaration_persons,
tests/report/accounting): the canonical form of docs/policy-reference.md "Declarations" (a second
implementation of it), signed with python3-cryptography; the declaration file as the cases write
it; the approver's public key file; loading a sibling case's gen.py."""
import base64
import importlib.util
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: F401

REPLAY = os.path.dirname(os.path.abspath(__file__))


def load_case(case, name=None):
    """tests/replay/<case>/gen.py as a module."""
    spec = importlib.util.spec_from_file_location(name or "gen_" + case,
                                                  os.path.join(REPLAY, case, "gen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def esc(v, comma=False):
    v = v.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return v.replace(",", "\\,") if comma else v


def canonical(d):
    """The canonical form of docs/policy-reference.md "Declarations" (values as written here)."""
    cats = ",".join(sorted(set(esc(c, True) for c in d["categories"])))
    lines = ["datacustoms-declaration-v1"] + [
        "%s=%s" % (k, v) for k, v in [
            ("id", esc(d["id"])), ("exporter", esc(d["exporter"])),
            ("counterparty", esc(d["counterparty"])), ("legal_basis", esc(d["legal_basis"])),
            ("categories", cats), ("max_persons", d["max_persons"]),
            ("max_sensitive_persons", ""), ("max_bytes", d["max_bytes"]),
            ("valid_from", d["valid_from"]), ("valid_until", d["valid_until"]),
            ("purpose", esc(d["purpose"])), ("approved_by", esc(d["approved_by"]))]]
    return ("\n".join(lines) + "\n").encode("utf-8")


def declaration_file(key, d):
    """The TOML of declaration `d` (fields in the canonical order) signed by `key`."""
    sig = base64.b64encode(key.sign(canonical(d))).decode()
    return ('id = "%s"\nexporter = "%s"\ncounterparty = "%s"\nlegal_basis = "%s"\n'
            'categories = [%s]\nmax_persons = %d\nmax_bytes = %d\nvalid_from = %s\n'
            'valid_until = %s\npurpose = "%s"\napproved_by = "%s"\nsignature = "%s"\n'
            % (d["id"], d["exporter"], d["counterparty"], d["legal_basis"],
               ", ".join('"%s"' % c for c in d["categories"]), d["max_persons"],
               d["max_bytes"], d["valid_from"], d["valid_until"], d["purpose"].replace("\n", "\\n"),
               d["approved_by"], sig))


def write_public_key(out, key):
    """OUT/keys/officer.pub: the approver's public key (PEM), as the policies name it."""
    os.makedirs(os.path.join(out, "keys"), exist_ok=True)
    with open(os.path.join(out, "keys", "officer.pub"), "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
