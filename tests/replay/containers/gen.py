#!/usr/bin/env python3
"""containers: the resident ID inside ZIP/OOXML containers, HTML character references and nested
base64, each hiding it from the raw bytes, with a clean control and the archive conditions
(encrypted member, zip bomb); each finding names its decoding path. Uploads from the domestic
client to sg-analytics (may not receive pi.identity) under examples/policy/ftz-demo.toml.
Run: gen.py OUTDIR.

  58001  multipart/form-data, people.xlsx (deflated), the ID split over two rich-text runs of
         xl/sharedStrings.xml                                         -> block
  58002  the same XLSX without the ID                                 -> allow
  58003  DOCX body, the ID split over <w:t> runs of word/document.xml -> block
  58004  application/zip, a member flagged encrypted (bit 0)          -> opaque_payload_encrypted
  58005  application/zip, a deflated member of 16 MiB zeros (bomb)    -> ratio_limit
  58006  text/html, the ID as decimal and hex numeric character references -> block
  58007  JSON, the ID base64-encoded twice                            -> block
  58008  the XLSX body with Content-Encoding: gzip                     -> block
"""
import base64
import io
import os
import random
import struct
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
import decodelib as D  # noqa: E402

XLSX_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ZIP_DATE = (2026, 3, 2, 0, 0, 0)
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SSML = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
WML = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def conn(port):
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


def zip_bytes(members, method=zipfile.ZIP_DEFLATED):
    """A ZIP of members [(name, data)], fixed timestamps (deterministic), sizes in the headers."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = method
            z.writestr(info, data)
    return buf.getvalue()


def xlsx(cells):
    """A minimal workbook: one sheet, row 1 headers, row 2 the shared strings `cells`; each cell
    is a list of rich-text runs (one run: plain <t>)."""
    sst = XML_DECL + b"<sst " + SSML + b' count="%d" uniqueCount="%d">' % (len(cells), len(cells))
    for runs in cells:
        if len(runs) == 1:
            sst += b"<si><t>" + runs[0] + b"</t></si>"
        else:
            sst += b"<si>" + b"".join(b"<r><rPr><b/><sz val=\"11\"/></rPr><t>" + r + b"</t></r>"
                                      for r in runs) + b"</si>"
    sst += b"</sst>"
    cols = b"ABCDEFGH"
    row = b"".join(b'<c r="%c2" t="s"><v>%d</v></c>' % (cols[i], i) for i in range(len(cells)))
    sheet = (XML_DECL + b"<worksheet " + SSML + b'><sheetData><row r="2">' + row +
             b"</row></sheetData></worksheet>")
    return zip_bytes([
        ("[Content_Types].xml", XML_DECL +
         b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         b'<Default Extension="xml" ContentType="application/xml"/>'
         b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
         b'officedocument.spreadsheetml.sheet.main+xml"/></Types>'),
        ("xl/workbook.xml", XML_DECL + b"<workbook " + SSML +
         b'><sheets><sheet name="people" sheetId="1"/></sheets></workbook>'),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", sst),
    ])


def docx(paragraphs):
    """A minimal document: each paragraph a list of <w:t> runs."""
    body = b"".join(b"<w:p>" + b"".join(b"<w:r><w:rPr><w:i/></w:rPr><w:t>" + r + b"</w:t></w:r>"
                                        for r in runs) + b"</w:p>" for runs in paragraphs)
    return zip_bytes([
        ("[Content_Types].xml", XML_DECL +
         b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         b'<Default Extension="xml" ContentType="application/xml"/></Types>'),
        ("word/document.xml", XML_DECL + b"<w:document " + WML + b"><w:body>" + body +
         b"</w:body></w:document>"),
    ])


def with_encrypted_first_member(archive):
    """Sets general purpose bit 0 (encrypted) of the first member in its local header and its
    central directory entry; the data stays as written (the gateway cannot read it either way)."""
    b = bytearray(archive)
    assert b[:4] == b"PK\x03\x04"
    struct.pack_into("<H", b, 6, struct.unpack_from("<H", b, 6)[0] | 1)
    cd = b.index(b"PK\x01\x02")
    struct.pack_into("<H", b, cd + 8, struct.unpack_from("<H", b, cd + 8)[0] | 1)
    return bytes(b)


html_refs = D.html_refs


def form_file(filename, ctype, payload, boundary=b"----dcBoundaryX1sx"):
    body = D.multipart(boundary, [
        (b'Content-Disposition: form-data; name="batch"\r\n', b"7"),
        (b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
         b"Content-Type: " + ctype + b"\r\n", payload)])
    return body, b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"


def generate(out):
    id_xlsx = xlsx([[b"Zhang San"], [b"1101051949", b"1231002X"], [b"Wuhu"]])
    clean_xlsx = xlsx([[b"SH-2026-0001"], [b"containers"], [b"Wuhu"]])
    frames = []
    body, head = form_file(b"people.xlsx", XLSX_TYPE, id_xlsx)
    frames += D.exchange(conn(58001), D.request(body, head))
    body, head = form_file(b"people.xlsx", XLSX_TYPE, clean_xlsx)
    frames += D.exchange(conn(58002), D.request(body, head))

    doc = docx([[b"Applicant record"], [b"ID number: 110105", b"19491231", b"002X"]])
    frames += D.exchange(conn(58003), D.request(doc, b"Content-Type: " + DOCX_TYPE + b"\r\n"))

    rnd = random.Random(58004)
    sealed = with_encrypted_first_member(zip_bytes(
        [("secret.csv", bytes(rnd.randrange(256) for _ in range(600))),
         ("readme.txt", b"batch 7, shipment SH-2026-0001\n")], zipfile.ZIP_STORED))
    frames += D.exchange(conn(58004), D.request(sealed, b"Content-Type: application/zip\r\n"))

    bomb = zip_bytes([("readme.txt", b"batch 7\n"), ("zeros.bin", bytes(16 << 20))])
    frames += D.exchange(conn(58005), D.request(bomb, b"Content-Type: application/zip\r\n"))

    page = (b"<!DOCTYPE html><html><body><table><tr><td>Zhang San</td><td>" +
            html_refs(R.VALID_ID) + b"</td></tr></table></body></html>")
    frames += D.exchange(conn(58006), D.request(
        page, b"Content-Type: text/html; charset=utf-8\r\n"))

    twice = base64.b64encode(base64.b64encode(b"idcard:" + R.VALID_ID))
    frames += D.exchange(conn(58007), D.request(
        b'{"batch":7,"token":"' + twice + b'"}', b"Content-Type: application/json\r\n"))

    frames += D.exchange(conn(58008), D.request(
        D.gz(id_xlsx), b"Content-Type: " + XLSX_TYPE + b"\r\nContent-Encoding: gzip\r\n"))
    return {"containers.pcap": R.write(os.path.join(out, "containers.pcap"), frames)}


if __name__ == "__main__":
    R.main_for(generate)
