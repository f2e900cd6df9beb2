# Seed corpora for fuzz_reorder / fuzz_tls / fuzz_http (the lead copies seeds/* to tests/fuzz/corpus/).
import os, struct
def w(d, name, b):
    os.makedirs(d, exist_ok=True); open(f"{d}/{name}", "wb").write(b)
def ext(t, body): return struct.pack(">HH", t, len(body)) + body
def sni(h): h=h.encode(); return ext(0, struct.pack(">HBH", len(h)+3, 0, len(h)) + h)
def alpn(ps):
    l=b"".join(bytes([len(p)])+p.encode() for p in ps); return ext(0x10, struct.pack(">H", len(l))+l)
def hello(exts, sid=32):
    body = b"\x03\x03" + bytes(32) + bytes([sid]) + b"\xee"*sid + struct.pack(">H", 8) + b"\x13\x01\x13\x02\x13\x03\xc0\x2f" + b"\x01\x00"
    e = b"".join(exts); body += struct.pack(">H", len(e)) + e
    return b"\x01" + struct.pack(">I", len(body))[1:] + body
def recs(hs, m=16384):
    return b"".join(b"\x16\x03\x01"+struct.pack(">H", len(hs[i:i+m]))+hs[i:i+m] for i in range(0, len(hs), m))
T="tls"
w(T,"tls13", b"\x80"+recs(hello([ext(0x0a0a,b""), sni("www.example.com"), ext(0x2b, b"\x04\x03\x04\x03\x03"), ext(0x33, b"\x11"*100), alpn(["h2","http/1.1"])])))
w(T,"tls12", b"\x40"+recs(hello([sni("a.example"), ext(0x0b,b"\x01\x00"), alpn(["http/1.1"])], 0)))
w(T,"ech", b"\x10"+recs(hello([sni("public.example"), ext(0xfe0d, b"\x00"*64)])))
w(T,"records", b"\x99"+recs(hello([sni("split.example"), alpn(["h2"])]), 37))
w(T,"nosni", b"\x00"+recs(hello([alpn(["h2"])])))
H="http"
for i,r in enumerate([b"GET /a?b HTTP/1.1\r\nHost: files.example.com\r\nAccept: */*\r\n\r\n",
        b"POST http://x.example:8080/p HTTP/1.1\r\nHost: x.example:8080\r\nContent-Length: 1\r\n\r\nA",
        b"CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n",
        b"GET / HTTP/1.0\n\n", b"OPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]):
    w(H, f"req{i}", bytes([i*40]) + r)
R="reorder"
def seg(flags, off, ln, data=b""): return bytes([flags]) + struct.pack(">H", off) + bytes([ln]) + data
syn = seg(0x10, 0, 0)
w(R,"in_order", b"\x07\xff\xff\xff\xf0" + syn + seg(0,0,100) + seg(0,100,100) + seg(1,200,50))
w(R,"reversed", b"\x07\x00\x00\x10\x00" + syn + seg(0,200,50) + seg(0,100,100) + seg(0,0,100))
w(R,"overlap", b"\x07\x00\x00\x10\x00" + syn + seg(0,50,100) + seg(0,0,80) + seg(0,0,200) + seg(0,10,20))
w(R,"evasion", b"\x07\x00\x00\x10\x00" + syn + seg(0,0,10) + seg(0x80,0,10,b"0123456789"))
w(R,"full", b"\x01\x00\x00\x10\x00" + syn + b"".join(seg(0,20+20*i,10) for i in range(4)) + seg(0,0,20))
