#!/usr/bin/env python3
# Seed corpora for fuzz_http_decode, fuzz_decode_text and fuzz_decode_codec (inspect/decode).
# Deterministic; run from tests/fuzz: ./gen_corpus_decode_layer.py (writes corpus/<name>/).
# The brotli streams are fixed bytes (Python has no brotli module here): libbrotlienc quality 5,
# window 22, of the texts in the comments.
import base64, os, zlib

def w(d, name, b):
    os.makedirs(f"corpus/{d}", exist_ok=True)
    open(f"corpus/{d}/{name}", "wb").write(b)

def gz(b): c = zlib.compressobj(6, zlib.DEFLATED, 31); return c.compress(b) + c.flush()
def raw(b): c = zlib.compressobj(6, zlib.DEFLATED, -15); return c.compress(b) + c.flush()
def chunked(b, n):
    out = b"".join(b"%x\r\n" % len(b[i:i+n]) + b[i:i+n] + b"\r\n" for i in range(0, len(b), n))
    return out + b"0\r\nX-T: 1\r\n\r\n"

ID = b"11010519491231002X"
JSON = b'{"id":"\\u0031\\u0031010519491231002X","n":"\\ud83d\\ude00"}'
BR_JSON = bytes.fromhex("1b260000c4f296fa65e1ee11fe53526d041b4231215200f5b0060212c52a2f2ecb22ad21e1f63311d80b1f")  # {"id":"11010519491231002X","name":"li"}
BR_HELLO = bytes.fromhex("1b16000024406a1065eaf09c3e")  # hello hello hello hello
SEP = b"\n~~\n"

def resp(h, body): return b"HTTP/1.1 200 OK\r\n" + h + b"\r\n" + body
mp = (b"--B\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"id " + ID) +
      b"\r\n--B\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n1101=\r\n05\r\n--B--\r\n")
H = "http_decode"
seeds = [
    b"GET /q?id=%31%31+x HTTP/1.1\r\nHost: h\r\n\r\n" + SEP + resp(b"Content-Length: 2\r\n", b"ok"),
    b"POST /j HTTP/1.1\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n" + chunked(gz(JSON), 7),
    b"POST /f HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\n"
    b"a=%31%32&b=" + base64.b64encode(b"0123456789abc")[:9],
    b"POST /m HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n"
    % len(mp) + mp,
    b"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n" + SEP +
    b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" +
    resp(b"Content-Encoding: br\r\nContent-Length: %d\r\n" % len(BR_JSON), BR_JSON),
    b"GET / HTTP/1.1\r\n\r\n" + SEP + resp(b"Content-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n",
                                           chunked(raw(b"deflated " + ID), 5)),
    b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nX: a\r\n b\r\n\r\n"
    b"1;e=1\r\nA\r\n0\r\n\r\nGARBAGE",
    b"CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03" + SEP + b"HTTP/1.1 200 OK\r\n\r\n\x16\x03",
    b"GET / HTTP/1.0\r\n\r\n" + SEP + b"HTTP/1.0 200 OK\r\nContent-Encoding: gzip, br\r\n\r\n" + gz(b"x"),
]
for i, s in enumerate(seeds):
    w(H, f"seed{i}", bytes([i * 29 % 256]) + s)

T = "decode_text"
texts = [b"a=%31%3d+%E4%b8%AD&b=%G1%2", b"/p+q?x=%20+y", JSON + b'"\\uDE00\\x"',
         base64.b64encode(b"name,id\r\n" + ID), b"1101=\r\n05=3D=e4=b8=ad =\n x",
         b"v=" + base64.b64encode(b"id " + ID) + b"&u=" + base64.urlsafe_b64encode(b"\xfb\xff" + ID),
         b"aab\npre\r\n--aab\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--aaab\r\n--aab--\r\n",
         b"<td>&#49;&#x31;&#X30;&#0;&#1114112;&amp;&lt;&bogus;&#;&#x;&amp</td>",
         b'<?xml version="1.0"?><!-- c --><sst><si><r><rPr><b/></rPr><t>1101</t></r><r><t xml:space="p">05&#49;</t></r></si>'
         b"<si><t><![CDATA[a<b]]></t><rPh><t>x</t></rPh></si></sst>",
         b'{"t":"' + base64.b64encode(base64.b64encode(b"idcard:" + ID)) + b'","n":"12345678901234567890"}']
for i, t in enumerate(texts):
    w(T, f"seed{i}", bytes([i + 10 * (i + 1)]) + t)

C = "decode_codec"
codecs = [(0, gz(b"id " + ID) + gz(b"second member")), (1, zlib.compress(JSON)), (1, raw(JSON)),
          (2, BR_JSON), (2, BR_HELLO + b"junk"), (0, gz(b"z" * 5000)[:40])]
for i, (k, b) in enumerate(codecs):
    w(C, f"seed{i}", bytes([k + 3 * (i + 1)]) + b)

# decode_zip: archives from Python's zipfile (seekable and through a pipe, so with data
# descriptors), ZIP64, bzip2 (an unsupported method), an encrypted flag, a nested archive and
# OOXML-like XML members whose text is split over runs.
import io, struct, zipfile

class Pipe(io.RawIOBase):  # unseekable: zipfile sets flag bit 3 and writes data descriptors
    def __init__(self): self.b = bytearray()
    def writable(self): return True
    def write(self, d): self.b += d; return len(d)

def zipped(members, pipe=False, method=zipfile.ZIP_DEFLATED, zip64=False):
    out = Pipe() if pipe else io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6))  # deterministic
            info.compress_type = method
            if zip64:
                with z.open(info, "w", force_zip64=True) as f: f.write(data)
            else:
                z.writestr(info, data)
    return bytes(out.b) if pipe else out.getvalue()

SST = (b'<?xml version="1.0"?><sst><si><t>name</t></si><si><r><t>110105</t></r><r><rPr><b/>'
       b'</rPr><t>19491231002X</t></r><rPh><t>x</t></rPh></si><si><t>&amp;&#49;&#x32;</t></si></sst>')
DOC = (b'<w:document><w:body><w:p><w:r><w:t>id 12345</w:t></w:r><w:proofErr/><w:r><w:t '
       b'xml:space="preserve">678</w:t></w:r></w:p><![CDATA[a]]><!-- c --></w:body></w:document>')
Z = "decode_zip"
zips = [
    zipped([("xl/sharedStrings.xml", SST), ("xl/worksheets/sheet1.xml", b'<c t="s"><v>1</v></c>')]),
    zipped([("word/document.xml", DOC), ("notes.txt", b"stored " * 20)], pipe=True),
    zipped([("a.csv", b"name,id\n" + ID)], method=zipfile.ZIP_STORED, pipe=True),
    zipped([("big.csv", b"x,y\n" * 300)], zip64=True),
    zipped([("b.txt", b"bzip2 " * 10)], method=zipfile.ZIP_BZIP2),
    zipped([("inner.zip", zipped([("i.txt", ID)]))]),
]
enc = bytearray(zipped([("secret.txt", ID)], method=zipfile.ZIP_STORED))
enc[6] |= 1  # general purpose flag bit 0: encrypted
zips.append(bytes(enc))
# A stored member with a descriptor without signature, built by hand (zipfile always signs it).
data = b"abc PK\x07\x08 fake"
crc = zlib.crc32(data)
zips.append(struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 8, 0, 0, 0, 0, 0, 0, 5, 0) + b"s.txt" +
            data + struct.pack("<III", crc, len(data), len(data)) +
            struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0, 0, 0, 0, 0))
for i, b in enumerate(zips):
    w(Z, f"seed{i}", bytes([i * 37 % 256]) + b)
# And for fuzz_http_decode: an XLSX uploaded as a multipart part (routed by its file name) and
# an archive sniffed by its PK magic in an octet-stream response.
part = (b'--Z\r\nContent-Disposition: form-data; name="f"; filename="people.xlsx"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(zips[0]) + b"\r\n--Z--\r\n")
w(H, "seed_xlsx", b"\x07" + b"POST /u HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=Z\r\n"
  b"Content-Length: %d\r\n\r\n" % len(part) + part + SEP +
  resp(b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n" % len(zips[1]), zips[1]))
