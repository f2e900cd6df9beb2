#!/usr/bin/env python3
"""ethernet_frames: frames as switches and taps deliver them. Run: gen.py OUTDIR.

vlan.pcap: every frame shorter than 60 bytes is padded to 60 first, then tagged (what a switch
does when an access-port frame leaves on a trunk), so a bare ACK is 64 bytes (one tag) or 68
bytes (two tags) with 6 bytes of padding.
  52001  one 802.1Q tag (VLAN 100), clean upload                     -> allow
  52002  802.1ad + 802.1Q (QinQ 200/100), clean upload               -> allow
fcs.pcap: every frame (padded to 60 when shorter) ends with its 4-byte Ethernet FCS, as captured
by taps and NICs that keep the CRC.
  52003  the resident ID upload, correct FCS: dropped as ethernet_fcs without the option; with
         `--fcs strip` checked, stripped and inspected                -> block (ID)
  52004  clean upload whose FCS bytes are wrong: ethernet_trailer without the option, bad_fcs
         with it                                                      -> no flow either way
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402

CLEAN = b'{"shipment":"SH-2026-0001","containers":4,"port":"Wuhu","eta":"2026-01-09"}'


def pad(frame):
    return frame + b"\0" * max(0, 60 - len(frame))


def tag(frame, tags):
    """Inserts VLAN tags (tpid, vid), outermost first, after the MAC addresses."""
    return frame[:12] + b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags) + frame[12:]


def with_fcs(frame, good=True):
    crc = zlib.crc32(frame) & 0xFFFFFFFF
    return frame + struct.pack("<I", crc if good else crc ^ 0x5A5A5A5A)


def upload(port, body):
    c = R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)
    return R.upload(c, body, cuts=(40,))


def generate(out):
    vlan = [tag(pad(f), [(0x8100, 100)]) for f in upload(52001, CLEAN)]
    vlan += [tag(pad(f), [(0x88A8, 200), (0x8100, 100)]) for f in upload(52002, CLEAN)]
    assert any(len(f) == 64 for f in vlan) and any(len(f) == 68 for f in vlan)
    fcs = [with_fcs(pad(f)) for f in upload(52003, R.json_body(R.VALID_ID))]
    fcs += [with_fcs(pad(f), good=False) for f in upload(52004, CLEAN)]
    return {"vlan.pcap": R.write(os.path.join(out, "vlan.pcap"), vlan),
            "fcs.pcap": R.write(os.path.join(out, "fcs.pcap"), fcs)}


if __name__ == "__main__":
    R.main_for(generate)
