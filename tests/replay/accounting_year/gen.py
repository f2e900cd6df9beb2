#!/usr/bin/env python3
"""accounting_year: the calendar year of customs accounting is the policy's (+08:00), not UTC's
(docs/accounting.md "Scopes"). A basis capped at 1 person a year; uploads around 2026-12-31T16:00Z,
which is 2027-01-01T00:00 in +08:00. Run: gen.py OUTDIR.

  51001  2026-12-31T15:59:50Z  person 1  -> allow, year 2026 (1 of 1)
  51002  2026-12-31T15:59:55Z  person 2  -> block volume_cap, year 2026 (the 2026 cap is full)
  51003  2026-12-31T16:00:05Z  person 2  -> allow, year 2027 (a new year in +08:00, still 2026 in UTC)
  51004  2026-12-31T16:00:10Z  person 1  -> block volume_cap, year 2027 (counted in 2026, new in 2027)
"""
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))
import replaylib as R  # noqa: E402

_spec = importlib.util.spec_from_file_location("gen_accounting", os.path.join(os.path.dirname(_HERE), "accounting",
                                                                              "gen.py"))
ACCT = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ACCT)  # resident_id(n), body_of(ids), post(body), exchange(port, upload)

MIDNIGHT_CST_US = 1798732800 * 1000000  # 2026-12-31T16:00:00Z = 2027-01-01T00:00:00+08:00
FLOWS = [(51001, -10, 1), (51002, -5, 2), (51003, 5, 2), (51004, 10, 1)]  # port, seconds, person


def generate(out):
    timed = []
    for port, secs, person in FLOWS:
        frames = ACCT.exchange(port, ACCT.post(ACCT.body_of([ACCT.resident_id(person)])))
        t0 = MIDNIGHT_CST_US + secs * 1000000
        timed += [(t0 + i * 1000, f) for i, f in enumerate(frames)]
    path = os.path.join(out, "year.pcap")
    R.P.write_pcap(path, timed)
    return {"year.pcap": path}


if __name__ == "__main__":
    R.main_for(generate)
