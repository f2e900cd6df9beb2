#!/usr/bin/env python3
"""zip_archives: ZIP framing the walker must follow (data descriptors, deflate blocks, members of
PPTX slides) with the resident ID split at every offset, and the archive conditions that block
(unsupported method, nested archives, central directory disagreeing with the local walk).
Uploads from the domestic client to sg-analytics (may not receive pi.identity) under
examples/policy/ftz-demo.toml. Run: gen.py OUTDIR.

  59001  multipart upload of deck.pptx, the ID split over <a:t> runs of ppt/slides/slide2.xml
                                                                   -> block
  59002  the same PPTX without the ID                               -> allow
  59003  application/zip, a member of method 12 (bzip2)            -> opaque_payload_unsupported_method
  59004  application/zip, a ZIP inside a ZIP inside a ZIP          -> opaque_payload_nested_archive
  59005  a stored member whose data is a hidden member's local record, listed in the central
         directory                                                  -> zip_malformed
  59006  the central directory's offset of the 2nd member points at the 1st -> zip_malformed
  59007  bytes that are no ZIP record after the first member       -> zip_malformed
  59008  data-descriptor members (deflate with a signed descriptor, stored with an unsigned one),
         the ID in the deflated member after them                   -> block
  59100+k  the ID in a deflated member, a deflate block boundary (sync flush) after k bytes of
           the ID and the TCP segment cut there (k = 1..17)         -> block
  59200+k  an archive of two data-descriptor members (stored with a signed descriptor, then
           deflate with an unsigned one holding the ID), the request cut
           into two TCP segments k bytes into the archive, at every offset k = 1 .. len - 1
                                                                   -> block
  59009  multipart upload of outer.zip holding people.xlsx (deflated), the ID split over rich-text
         runs of xl/sharedStrings.xml: one nested level is walked  -> block
  60000+k  application/zip holding people.xlsx stored, the request cut into two TCP segments at
           every offset k from the outer member's local header to 8 bytes into the inner
           sharedStrings member's data                             -> block
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
import decodelib as D  # noqa: E402

PPTX_TYPE = b"application/vnd.openxmlformats-officedocument.presentationml.presentation"
ZIP = b"Content-Type: application/zip\r\n"
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
PML = (b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
       b'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"')
ROW = b"Zhang San," + R.VALID_ID + b",Wuhu\n"  # no keyword next to the ID: confidence likely
COVER = b"cover page, batch 7\n"  # before the hidden record (a member starting "PK\3\4" is nested)
CLEAN_ROWS = b"".join(b"SH-2026-%04d,containers,Wuhu\n" % i for i in range(20))


def conn(port):
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


deflate = D.deflate_flushed
Member = D.ZipMember
archive = D.zip_archive


def slide(runs):
    """A slide whose one shape holds a paragraph of DrawingML text runs."""
    body = b"".join(b'<a:r><a:rPr lang="en-US" b="1"/><a:t>' + r + b"</a:t></a:r>" for r in runs)
    return (XML_DECL + b"<p:sld " + PML + b"><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>"
            b"<a:p>" + body + b"</a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>")


def pptx(runs):
    return archive([
        Member("[Content_Types].xml", XML_DECL +
               b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
               b'<Default Extension="xml" ContentType="application/xml"/></Types>'),
        Member("ppt/presentation.xml", XML_DECL + b"<p:presentation " + PML +
               b'><p:sldIdLst><p:sldId id="256"/><p:sldId id="257"/></p:sldIdLst>'
               b"</p:presentation>", descriptor=True),
        Member("ppt/slides/slide1.xml", slide([b"Quarterly shipments"]), descriptor=True),
        Member("ppt/slides/slide2.xml", slide(runs), descriptor=True),
    ])[0]


def form_file(filename, ctype, payload, boundary=b"----dcBoundaryPptx"):
    body = D.multipart(boundary, [
        (b'Content-Disposition: form-data; name="batch"\r\n', b"7"),
        (b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
         b"Content-Type: " + ctype + b"\r\n", payload)])
    return body, b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"


def flow(port, req, cuts):
    c = conn(port)
    assert R.VALID_ID not in req, "the raw bytes must not show the ID"
    return c.handshake() + c.send(True, req, cuts=cuts) + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def conditions():
    """59003..59007: archives that cannot be inspected or that a directory reader sees otherwise."""
    frames = []
    readme = Member("readme.txt", b"batch 7, shipment SH-2026-0001\n")
    bz = Member("rows.csv.bz2", b"BZh91AY&SY" + bytes(range(40)), method=12)
    frames += D.exchange(conn(59003), D.request(archive([readme, bz])[0], ZIP))
    inner = archive([Member("rows.csv", CLEAN_ROWS)])[0]
    middle = archive([Member("inner.zip", inner)])[0]
    outer = archive([readme, Member("middle.zip", middle)])[0]
    frames += D.exchange(conn(59004), D.request(outer, ZIP))
    hidden_record, _ = archive([Member("hidden.csv", CLEAN_ROWS)], central=False)
    hidden_entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x5A21,
                               zlib.crc32(CLEAN_ROWS), len(deflate(CLEAN_ROWS)[0]),
                               len(CLEAN_ROWS), 10, 0, 0, 0, 0, 0,
                               30 + len(b"cover.bin") + len(COVER)) + b"hidden.csv"
    cover = archive([Member("cover.bin", COVER + hidden_record, method=0)],
                    extra_central=hidden_entry)[0]
    frames += D.exchange(conn(59005), D.request(cover, ZIP))

    def moved(i, entry):  # the 2nd entry's local header offset -> the 1st member's
        return entry[:42] + struct.pack("<I", 0) + entry[46:] if i == 1 else entry
    two = [Member("a.csv", CLEAN_ROWS), Member("b.csv", b"SH-2026-0099,containers,Wuhu\n")]
    frames += D.exchange(conn(59006), D.request(archive(two, patch=moved)[0], ZIP))
    good, offs = archive(two)
    junk = good[:offs[1]] + b"JUNK" + good[offs[1]:]
    frames += D.exchange(conn(59007), D.request(junk, ZIP))
    return frames


def split_members():
    """59100+k and 59200+k: the ID across deflate blocks and across TCP segments of the archive."""
    frames = []
    data = b"name,id,city\n" + CLEAN_ROWS[:120] + ROW + CLEAN_ROWS[120:]
    at = data.find(R.VALID_ID)
    for k in range(1, len(R.VALID_ID)):
        packed, flushed = deflate(data, at + k)
        body, offs = archive([Member("people.csv", data, packed=packed)])
        req = D.request(body, ZIP)
        head = len(req) - len(body)
        frames += flow(59100 + k, req, [head + offs[0] + 30 + len(b"people.csv") + flushed])
    body = described_archive()
    req = D.request(body, ZIP)
    head = len(req) - len(body)
    for k in range(1, len(body)):
        frames += flow(59200 + k, req, [head + k])
    return frames


def described_archive():
    """Two data-descriptor members: stored with a signed descriptor, then deflate with an
    unsigned one holding the ID."""
    return archive([Member("notes.txt", b"shipment SH-2026-0001, 4 containers\n", method=0,
                           descriptor=True),
                    Member("people.csv", b"name,city\n" + ROW, descriptor=True,
                           signed=False)])[0]


def described_len():
    return len(described_archive())


def xlsx():
    """An XLSX whose shared strings hold the ID split over two rich-text runs."""
    sst = (XML_DECL + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<si><t>name</t></si><si><t>Zhang San</t></si><si><r><t>" + R.VALID_ID[:8] +
           b'</t></r><r><rPr><b/></rPr><t>' + R.VALID_ID[8:] + b"</t></r></si></sst>")
    return archive([
        Member("[Content_Types].xml", XML_DECL +
               b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
               b'<Default Extension="xml" ContentType="application/xml"/></Types>'),
        Member("xl/sharedStrings.xml", sst),
    ])


def nested():
    """59009 and 59400+k: an XLSX inside a ZIP (one nested level is walked)."""
    frames = []
    inner, inner_offs = xlsx()
    readme = Member("readme.txt", b"batch 7, shipment SH-2026-0001\n")
    body, head = form_file(b"outer.zip", b"application/zip",
                           archive([readme, Member("people.xlsx", inner)])[0])
    frames += D.exchange(conn(59009), D.request(body, head))
    outer, offs = archive([Member("people.xlsx", inner, method=0)])
    req = D.request(outer, ZIP)
    start = len(req) - len(outer) + offs[0]  # the outer member's local header
    data = start + 30 + len(b"people.xlsx")  # the inner archive
    end = data + inner_offs[1] + 30 + len(b"xl/sharedStrings.xml") + 8
    for cut in range(start, end):
        frames += flow(60000 + cut - start, req, [cut])
    return frames


def generate(out):
    frames = []
    body, head = form_file(b"deck.pptx", PPTX_TYPE,
                           pptx([b"Contact: Zhang San ", b"1101051949", b"1231002X"]))
    frames += D.exchange(conn(59001), D.request(body, head))
    body, head = form_file(b"deck.pptx", PPTX_TYPE, pptx([b"Contact: Zhang San, Wuhu office"]))
    frames += D.exchange(conn(59002), D.request(body, head))
    frames += conditions()
    three = archive([Member("readme.txt", b"batch 7\n", descriptor=True),
                     Member("manifest.xml", b"<m><n>7</n></m>", method=0, descriptor=True,
                            signed=False),
                     Member("people.csv", b"name,city\n" + ROW, descriptor=True)])[0]
    frames += D.exchange(conn(59008), D.request(three, ZIP))
    frames += split_members()
    frames += nested()
    return {"zip.pcap": R.write(os.path.join(out, "zip.pcap"), frames)}


if __name__ == "__main__":
    print("described archive length:", described_len())
    R.main_for(generate)
