#!/usr/bin/env python3
"""container_split_offsets: the resident ID inside ZIP members and XML text, split at every offset
of the container's framing, like decoded_split_offsets does for codings and text encodings.
Uploads from the domestic client to sg-analytics (may not receive pi.identity) under
examples/policy/ftz-demo.toml; every flow must be blocked. Run: gen.py OUTDIR.

  62000+k  multipart upload of people.xlsx whose xl/sharedStrings.xml is deflated with a signed
           data descriptor; the request cut into two TCP segments k bytes into that member's
           record, at every offset k = 1 .. len from its local header through its name, the
           deflate data and the descriptor to the next member's local header
  62300+k  the same with every member stored (the ID split over two rich-text runs, so the raw
           bytes never show it): the walker finds the end of the stored data by its descriptor
  62700+i  a stored xl/sharedStrings.xml with the ID split over two <t> runs after i bytes
           (i = 1..17), the TCP segment cut right at that run boundary
  63000+100i+j  multipart upload of deck.pptx (deflated slide), the ID split over three
           DrawingML <a:t> runs after i and after j bytes (1 <= i < j <= 17)
  62800+k  a DOCX body, the stored word/document.xml holding the ID as numeric character
           references (&#49; and &#x31; alternately), the request cut k bytes into them
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replaylib as R  # noqa: E402
import decodelib as D  # noqa: E402

XLSX_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX_TYPE = b"application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCX_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SSML = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
PML = (b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
       b'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"')
WML = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
TYPES = (XML_DECL + b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         b'<Default Extension="xml" ContentType="application/xml"/></Types>')
SST = "xl/sharedStrings.xml"
ID = R.VALID_ID


def conn(port):
    return R.Conn(R.DOMESTIC_CLIENT, R.SG_ANALYTICS, port, R.SG_PORT, isn_c=port * 100)


def flow(port, req, cuts):
    c = conn(port)
    assert ID not in req, "the raw bytes must not show the ID"
    return c.handshake() + c.send(True, req, cuts=cuts) + c.send(False, R.HTTP_OK_EMPTY) + c.close()


def form_file(filename, ctype, payload, boundary=b"----dcSplitBoundary"):
    """A multipart/form-data request whose second part is the file; returns (request, offset of
    the file's bytes in it)."""
    body = D.multipart(boundary, [
        (b'Content-Disposition: form-data; name="batch"\r\n', b"7"),
        (b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
         b"Content-Type: " + ctype + b"\r\n", payload)])
    req = D.request(body, b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n")
    at = req.find(payload)
    assert at >= 0
    return req, at


def shared_strings(id_runs):
    """Shared strings: a name, the ID (one <t>, or rich-text runs <r><t> when split), a city."""
    if len(id_runs) == 1:
        cell = b"<si><t>" + id_runs[0] + b"</t></si>"
    else:
        cell = b"<si>" + b"".join(b'<r><rPr><b/><sz val="11"/></rPr><t>' + r + b"</t></r>"
                                  for r in id_runs) + b"</si>"
    return (XML_DECL + b"<sst " + SSML + b' count="3" uniqueCount="3"><si><t>Zhang San</t></si>' +
            cell + b"<si><t>Wuhu</t></si></sst>")


def workbook(sst, method):
    """An XLSX whose shared strings member (with a signed data descriptor) is followed by the
    worksheet. Returns (archive, offset of the sharedStrings record, its length)."""
    sheet = (XML_DECL + b"<worksheet " + SSML + b'><sheetData><row r="2">'
             b'<c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>2</v></c>'
             b"</row></sheetData></worksheet>")
    members = [D.ZipMember("[Content_Types].xml", TYPES, method=method),
               D.ZipMember("xl/workbook.xml", XML_DECL + b"<workbook " + SSML +
                           b'><sheets><sheet name="people" sheetId="1"/></sheets></workbook>',
                           method=method),
               D.ZipMember(SST, sst, method=method, descriptor=True),
               D.ZipMember("xl/worksheets/sheet1.xml", sheet, method=method)]
    body, offs = D.zip_archive(members)
    return body, offs[2], offs[3] - offs[2]


def member_splits():
    """62000+k, 62300+k: every TCP cut across the sharedStrings member record."""
    frames = []
    for base, method, runs in ((62000, 8, [ID]), (62300, 0, [ID[:8], ID[8:]])):
        xlsx, rec, rec_len = workbook(shared_strings(runs), method)
        req, at = form_file(b"people.xlsx", XLSX_TYPE, xlsx)
        for k in range(1, rec_len + 1):
            frames += flow(base + k, req, [at + rec + k])
    return frames


def slide(runs):
    body = b"".join(b'<a:r><a:rPr lang="en-US" b="1"/><a:t>' + r + b"</a:t></a:r>" for r in runs)
    return (XML_DECL + b"<p:sld " + PML + b"><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>"
            b"<a:p><a:r><a:t>Contact: Zhang San</a:t></a:r></a:p><a:p>" + body +
            b"</a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>")


def xml_splits():
    """62700+i, 63000+100i+j, 62800+k: the ID across XML runs and inside character references."""
    frames = []
    for i in range(1, len(ID)):
        xlsx, rec, _ = workbook(shared_strings([ID[:i], ID[i:]]), 0)
        req, at = form_file(b"people.xlsx", XLSX_TYPE, xlsx)
        cut = req.find(ID[:i] + b"</t>", at + rec) + i
        frames += flow(62700 + i, req, [cut])
    for i in range(1, len(ID) - 1):
        for j in range(i + 1, len(ID)):
            deck = D.zip_archive([
                D.ZipMember("[Content_Types].xml", TYPES),
                D.ZipMember("ppt/slides/slide1.xml", slide([ID[:i], ID[i:j], ID[j:]]),
                            descriptor=True)])[0]
            req, _ = form_file(b"deck.pptx", PPTX_TYPE, deck)
            frames += flow(63000 + 100 * i + j, req, [])
    refs = D.html_refs(ID)
    doc = (XML_DECL + b"<w:document " + WML + b"><w:body><w:p><w:r><w:t>Applicant</w:t></w:r></w:p>"
           b"<w:p><w:r><w:t>" + refs + b"</w:t></w:r></w:p></w:body></w:document>")
    docx = D.zip_archive([D.ZipMember("[Content_Types].xml", TYPES),
                          D.ZipMember("word/document.xml", doc, method=0)])[0]
    req = D.request(docx, b"Content-Type: " + DOCX_TYPE + b"\r\n")
    at = req.find(refs)
    for k in range(1, len(refs)):
        frames += flow(62800 + k, req, [at + k])
    return frames


def lengths():
    """The port ranges expected.json lists follow from these."""
    return {"deflated record": workbook(shared_strings([ID]), 8)[2],
            "stored record": workbook(shared_strings([ID[:8], ID[8:]]), 0)[2],
            "references": len(D.html_refs(ID))}


def generate(out):
    frames = member_splits() + xml_splits()
    return {"split.pcap": R.write(os.path.join(out, "split.pcap"), frames)}


if __name__ == "__main__":
    print(lengths())
    R.main_for(generate)
