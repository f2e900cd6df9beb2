// Table-driven tests of the packet decoder (inspect/packet/decode.hpp).
//
// Frames are built by a small byte builder below (Ethernet, VLAN tags, IPv4 with options, IPv6
// with extension headers, TCP/UDP/ICMP/ICMPv6 with correct checksums). Each well-formed row lists
// the complete expected Decoded; each malformed row carries exactly one defect and the exact
// DecodeStatus it must produce.
#include "inspect/packet/decode.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/packet/decode_internal.hpp"

namespace dc::inspect {
// gtest printer so address mismatches are readable.
void PrintTo(const IpAddr& a, std::ostream* os) {
  if (a.is_v4()) {
    const uint32_t v = a.v4();
    *os << (v >> 24) << '.' << ((v >> 16) & 0xFF) << '.' << ((v >> 8) & 0xFF) << '.' << (v & 0xFF);
    return;
  }
  static const char* kHex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i && i % 2 == 0) *os << ':';
    *os << kHex[a.bytes[i] >> 4] << kHex[a.bytes[i] & 0xF];
  }
}
}  // namespace dc::inspect

namespace {

using dc::inspect::decode;
using dc::inspect::Decoded;
using dc::inspect::DecodeOptions;
using dc::inspect::DecodeStatus;
using dc::inspect::IpAddr;
namespace tf = dc::inspect::tcpflag;
using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------------------------
// Byte builder.
void put8(Bytes& b, uint8_t v) { b.push_back(v); }
void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const auto& p : parts) append(b, p);
  return b;
}
Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes zeros(std::size_t n) { return Bytes(n, 0); }

uint32_t csum_add(uint32_t sum, const Bytes& b) {
  for (std::size_t i = 0; i < b.size(); i += 2) {
    sum += static_cast<uint32_t>(b[i] << 8) | (i + 1 < b.size() ? b[i + 1] : 0);
  }
  return sum;
}
uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

using Addr6 = std::array<uint8_t, 16>;
constexpr uint32_t kSrc4 = 0x0A000001;  // 10.0.0.1
constexpr uint32_t kDst4 = 0xC6336402;  // 198.51.100.2
constexpr Addr6 kSrc6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr Addr6 kDst6 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
IpAddr v4(uint32_t a) { return IpAddr::from_v4(a); }
IpAddr v6(const Addr6& a) { return IpAddr::from_v6(a.data()); }

struct Vlan {
  uint16_t tpid;
  uint16_t vid;
};
Bytes eth(uint16_t ethertype, std::initializer_list<Vlan> tags = {}) {
  Bytes b = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  for (const auto& t : tags) {
    put16(b, t.tpid);
    put16(b, static_cast<uint16_t>(0x2000 | t.vid));  // PCP 1: VID must be masked out
  }
  put16(b, ethertype);
  return b;
}

// An upper-layer header + payload; `csum_at` is where its checksum goes (-1: none).
struct L4 {
  uint8_t proto;
  Bytes bytes;
  int csum_at = -1;
};
L4 tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
       const Bytes& payload = {}, const Bytes& options = {}, int doff_words = -1) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put32(b, seq);
  put32(b, ack);
  const int doff = doff_words >= 0 ? doff_words : static_cast<int>(5 + options.size() / 4);
  put8(b, static_cast<uint8_t>(doff << 4));
  put8(b, flags);
  put16(b, 8192);  // window
  put16(b, 0);     // checksum
  put16(b, 0);     // urgent pointer
  append(b, options);
  append(b, payload);
  return {dc::inspect::kProtoTcp, b, 16};
}
L4 udp(uint16_t sport, uint16_t dport, const Bytes& payload, int len_override = -1) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, static_cast<uint16_t>(len_override >= 0 ? len_override : 8 + payload.size()));
  put16(b, 0);
  append(b, payload);
  return {dc::inspect::kProtoUdp, b, 6};
}
L4 icmp(uint8_t proto, uint8_t type, uint8_t code, const Bytes& rest) {
  Bytes b = {type, code, 0, 0};
  append(b, rest);
  return {proto, b, 2};
}
L4 icmp4(uint8_t type, uint8_t code, const Bytes& rest) {
  return icmp(dc::inspect::kProtoIcmp, type, code, rest);
}
L4 icmp6(uint8_t type, uint8_t code, const Bytes& rest) {
  return icmp(dc::inspect::kProtoIcmpv6, type, code, rest);
}
L4 raw(uint8_t proto, const Bytes& b) { return {proto, b, -1}; }
// Keeps only the first n bytes (fragments, truncation), with the checksum already computed.
L4 cut(L4 l4, std::size_t n) {
  l4.bytes.resize(n);
  l4.csum_at = -1;
  return l4;
}

struct V4 {
  uint32_t src = kSrc4;
  uint32_t dst = kDst4;
  uint8_t ttl = 64;
  uint16_t id = 0x1234;
  uint16_t frag = 0;  // flags + offset field as on the wire
  Bytes options{};
  uint8_t version = 4;
  int ihl_words = -1;  // override of the IHL field
  int total_len = -1;  // override of the Total Length field
  bool bad_checksum = false;
};
Bytes ipv4(const V4& s, L4 l4) {
  if (l4.csum_at >= 0) {
    Bytes pseudo;
    put32(pseudo, s.src);
    put32(pseudo, s.dst);
    put16(pseudo, l4.proto);
    put16(pseudo, static_cast<uint16_t>(l4.bytes.size()));
    uint16_t c = csum_fold(csum_add(csum_add(0, pseudo), l4.bytes));
    if (l4.proto == dc::inspect::kProtoIcmp) c = csum_fold(csum_add(0, l4.bytes));
    l4.bytes[l4.csum_at] = static_cast<uint8_t>(c >> 8);
    l4.bytes[l4.csum_at + 1] = static_cast<uint8_t>(c);
  }
  const std::size_t hlen = 20 + s.options.size();
  Bytes h;
  const int ihl = s.ihl_words >= 0 ? s.ihl_words : static_cast<int>(hlen / 4);
  put8(h, static_cast<uint8_t>(s.version << 4 | ihl));
  put8(h, 0);
  put16(h, static_cast<uint16_t>(s.total_len >= 0 ? s.total_len : hlen + l4.bytes.size()));
  put16(h, s.id);
  put16(h, s.frag);
  put8(h, s.ttl);
  put8(h, l4.proto);
  put16(h, 0);
  put32(h, s.src);
  put32(h, s.dst);
  append(h, s.options);
  uint16_t c = csum_fold(csum_add(0, h));
  if (s.bad_checksum) c ^= 0x0101;
  h[10] = static_cast<uint8_t>(c >> 8);
  h[11] = static_cast<uint8_t>(c);
  append(h, l4.bytes);
  return h;
}

// An IPv6 extension header; byte 0 (Next Header) is filled in by ipv6() unless fixed_next.
struct Ext {
  uint8_t type;
  Bytes bytes;
  bool fixed_next = false;
};
// Hop-by-Hop / Destination Options with `opts`, padded with PadN/Pad1 to a multiple of 8.
Ext tlv_ext(uint8_t type, Bytes opts) {
  std::size_t total = (opts.size() + 2 + 7) / 8 * 8;
  std::size_t pad = total - 2 - opts.size();
  if (pad == 1) {
    opts.push_back(0);  // Pad1
  } else if (pad >= 2) {
    opts.push_back(1);  // PadN
    opts.push_back(static_cast<uint8_t>(pad - 2));
    opts.resize(opts.size() + pad - 2, 0);
  }
  Bytes b = {0, static_cast<uint8_t>(total / 8 - 1)};
  append(b, opts);
  return {type, b};
}
Ext hbh(const Bytes& opts = {}) { return tlv_ext(0, opts); }
Ext dest_opts(const Bytes& opts = {}) { return tlv_ext(60, opts); }
Ext routing(uint8_t rtype, uint8_t segments_left, std::size_t addresses) {
  Bytes b = {0, static_cast<uint8_t>(addresses * 2), rtype, segments_left, 0, 0, 0, 0};
  append(b, zeros(16 * addresses));
  return {43, b};
}
Ext frag6(uint16_t offset_bytes, bool more, uint32_t id) {
  Bytes b = {0, 0};
  put16(b, static_cast<uint16_t>(offset_bytes | (more ? 1 : 0)));
  put32(b, id);
  return {44, b};
}
Ext ah(uint8_t len_field) {
  Bytes b = {0, len_field, 0, 0};
  put32(b, 0x1000);  // SPI
  b.resize((len_field + 2u) * 4u, 0);
  return {51, b};
}

struct V6 {
  Addr6 src = kSrc6;
  Addr6 dst = kDst6;
  uint8_t hop_limit = 64;
  uint8_t version = 6;
  int plen_delta = 0;  // added to the correct Payload Length
};
Bytes ipv6(const V6& s, std::vector<Ext> exts, L4 l4) {
  if (l4.csum_at >= 0) {
    Bytes pseudo(s.src.begin(), s.src.end());
    pseudo.insert(pseudo.end(), s.dst.begin(), s.dst.end());
    put32(pseudo, static_cast<uint32_t>(l4.bytes.size()));
    put32(pseudo, l4.proto);
    const uint16_t c = csum_fold(csum_add(csum_add(0, pseudo), l4.bytes));
    l4.bytes[l4.csum_at] = static_cast<uint8_t>(c >> 8);
    l4.bytes[l4.csum_at + 1] = static_cast<uint8_t>(c);
  }
  Bytes body;
  for (std::size_t i = 0; i < exts.size(); ++i) {
    if (!exts[i].fixed_next) exts[i].bytes[0] = i + 1 < exts.size() ? exts[i + 1].type : l4.proto;
    append(body, exts[i].bytes);
  }
  append(body, l4.bytes);
  Bytes h;
  put32(h, static_cast<uint32_t>(s.version) << 28);
  put16(h, static_cast<uint16_t>(static_cast<int>(body.size()) + s.plen_delta));
  put8(h, exts.empty() ? l4.proto : exts[0].type);
  put8(h, s.hop_limit);
  h.insert(h.end(), s.src.begin(), s.src.end());
  h.insert(h.end(), s.dst.begin(), s.dst.end());
  append(h, body);
  return h;
}

Bytes tcp4_frame(uint8_t flags = tf::kAck | tf::kPsh) {
  return cat({eth(0x0800), ipv4({}, tcp(40000, 443, 1000, 2000, flags, text("hello")))});
}

// ---------------------------------------------------------------------------------------------
// Well-formed frames: the complete expected Decoded.
struct GoodCase {
  std::string name;
  Bytes frame;
  Decoded want;
  DecodeOptions opts{};
};

std::vector<GoodCase> good_cases() {
  std::vector<GoodCase> c;
  const auto fragment_udp = udp(5353, 53, zeros(40));  // 48-byte datagram, split below

  c.push_back({"tcp4",
               tcp4_frame(),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 54,
                .payload_len = 5,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 6,
                .tcp_flags = 0x18,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 45,
                .src = v4(kSrc4),
                .dst = v4(kDst4),
                .sport = 40000,
                .dport = 443,
                .tcp_seq = 1000,
                .tcp_ack = 2000,
                .tcp_window = 8192}});
  c.push_back({"udp4",
               cat({eth(0x0800), ipv4({}, udp(5353, 53, zeros(12)))}),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 42,
                .payload_len = 12,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 17,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 40,
                .src = v4(kSrc4),
                .dst = v4(kDst4),
                .sport = 5353,
                .dport = 53}});
  c.push_back({"icmp4_echo",
               cat({eth(0x0800), ipv4({}, icmp4(8, 0, {0, 1, 0, 1, 'p', 'i', 'n', 'g'}))}),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 42,
                .payload_len = 4,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 1,
                .icmp_type = 8,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 32,
                .src = v4(kSrc4),
                .dst = v4(kDst4)}});
  c.push_back({"icmp4_unreachable",
               cat({eth(0x0800), ipv4({}, icmp4(3, 4, zeros(4 + 28)))}),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 42,
                .payload_len = 28,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 1,
                .icmp_type = 3,
                .icmp_code = 4,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 56,
                .src = v4(kSrc4),
                .dst = v4(kDst4)}});
  c.push_back(
      {"tcp6",
       cat({eth(0x86DD), ipv6({}, {}, tcp(40000, 443, 7, 9, tf::kSyn | tf::kAck, text("hello")))}),
       {.l3_offset = 14,
        .l4_offset = 54,
        .payload_offset = 74,
        .payload_len = 5,
        .ethertype = 0x86DD,
        .ip_version = 6,
        .proto = 6,
        .tcp_flags = 0x12,
        .ttl = 64,
        .l3_len = 65,
        .src = v6(kSrc6),
        .dst = v6(kDst6),
        .sport = 40000,
        .dport = 443,
        .tcp_seq = 7,
        .tcp_ack = 9,
        .tcp_window = 8192}});
  c.push_back({"udp6",
               cat({eth(0x86DD), ipv6({}, {}, udp(1234, 4321, zeros(3)))}),
               {.l3_offset = 14,
                .l4_offset = 54,
                .payload_offset = 62,
                .payload_len = 3,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 17,
                .ttl = 64,
                .l3_len = 51,
                .src = v6(kSrc6),
                .dst = v6(kDst6),
                .sport = 1234,
                .dport = 4321}});
  c.push_back({"icmp6_echo",
               cat({eth(0x86DD), ipv6({}, {}, icmp6(128, 0, {0, 1, 0, 2, 'x'}))}),
               {.l3_offset = 14,
                .l4_offset = 54,
                .payload_offset = 62,
                .payload_len = 1,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 58,
                .icmp_type = 128,
                .ttl = 64,
                .l3_len = 49,
                .src = v6(kSrc6),
                .dst = v6(kDst6)}});
  c.push_back({"vlan_tcp4",
               cat({eth(0x0800, {{0x8100, 100}}), ipv4({}, tcp(1, 2, 3, 4, tf::kAck))}),
               {.l3_offset = 18,
                .l4_offset = 38,
                .payload_offset = 58,
                .payload_len = 0,
                .ethertype = 0x0800,
                .vlan_outer = 100,
                .vlan_count = 1,
                .ip_version = 4,
                .proto = 6,
                .tcp_flags = 0x10,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 40,
                .src = v4(kSrc4),
                .dst = v4(kDst4),
                .sport = 1,
                .dport = 2,
                .tcp_seq = 3,
                .tcp_ack = 4,
                .tcp_window = 8192}});
  c.push_back({"qinq_88a8_udp4",
               cat({eth(0x0800, {{0x88A8, 200}, {0x8100, 300}}), ipv4({}, udp(7, 9, {}))}),
               {.l3_offset = 22,
                .l4_offset = 42,
                .payload_offset = 50,
                .ethertype = 0x0800,
                .vlan_outer = 200,
                .vlan_inner = 300,
                .vlan_count = 2,
                .ip_version = 4,
                .proto = 17,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 28,
                .src = v4(kSrc4),
                .dst = v4(kDst4),
                .sport = 7,
                .dport = 9}});
  c.push_back(
      {"qinq_9100_icmp6",
       cat({eth(0x86DD, {{0x9100, 4095}, {0x8100, 1}}), ipv6({}, {}, icmp6(129, 0, zeros(4)))}),
       {.l3_offset = 22,
        .l4_offset = 62,
        .payload_offset = 70,
        .ethertype = 0x86DD,
        .vlan_outer = 4095,
        .vlan_inner = 1,
        .vlan_count = 2,
        .ip_version = 6,
        .proto = 58,
        .icmp_type = 129,
        .ttl = 64,
        .l3_len = 48,
        .src = v6(kSrc6),
        .dst = v6(kDst6)}});
  // NOP, Router Alert (RFC 2113, length 4), NOP, EOL, padding: IHL 7.
  c.push_back(
      {"ipv4_options",
       cat({eth(0x0800), ipv4({.options = {1, 0x94, 4, 0, 0, 1, 0, 0}}, udp(68, 67, zeros(2)))}),
       {.l3_offset = 14,
        .l4_offset = 42,
        .payload_offset = 50,
        .payload_len = 2,
        .ethertype = 0x0800,
        .ip_version = 4,
        .proto = 17,
        .ttl = 64,
        .frag_id = 0x1234,
        .l3_len = 38,
        .src = v4(kSrc4),
        .dst = v4(kDst4),
        .sport = 68,
        .dport = 67}});
  // Hop-by-Hop (8 bytes: one 5-byte option + Pad1) + Destination Options with a 12-byte option (16
  // bytes) + TCP.
  c.push_back({"ipv6_hbh_destopts_tcp",
               cat({eth(0x86DD), ipv6({},
                                      {hbh({0x1E, 3, 1, 2, 3}),
                                       dest_opts({0x1E, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})},
                                      tcp(80, 50000, 1, 1, tf::kFin | tf::kAck, text("bye")))}),
               {.l3_offset = 14,
                .l4_offset = 78,
                .payload_offset = 98,
                .payload_len = 3,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 6,
                .tcp_flags = 0x11,
                .ttl = 64,
                .l3_len = 87,
                .src = v6(kSrc6),
                .dst = v6(kDst6),
                .sport = 80,
                .dport = 50000,
                .tcp_seq = 1,
                .tcp_ack = 1,
                .tcp_window = 8192}});
  c.push_back({"ipv6_ah_tcp",
               cat({eth(0x86DD), ipv6({}, {ah(4)}, tcp(80, 1025, 5, 6, tf::kRst))}),
               {.l3_offset = 14,
                .l4_offset = 78,
                .payload_offset = 98,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 6,
                .tcp_flags = 0x04,
                .ttl = 64,
                .l3_len = 84,
                .src = v6(kSrc6),
                .dst = v6(kDst6),
                .sport = 80,
                .dport = 1025,
                .tcp_seq = 5,
                .tcp_ack = 6,
                .tcp_window = 8192}});
  c.push_back({"ipv6_routing_type2_segments_left",
               cat({eth(0x86DD), ipv6({}, {routing(2, 1, 1)}, udp(1, 2, {}))}),
               {.l3_offset = 14,
                .l4_offset = 78,
                .payload_offset = 86,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 17,
                .ttl = 64,
                .l3_len = 72,
                .src = v6(kSrc6),
                .dst = v6(kDst6),
                .sport = 1,
                .dport = 2,
                .ipv6_segments_left = 1}});
  // ESP ends the walk; everything after the last header is opaque payload.
  c.push_back({"ipv6_esp",
               cat({eth(0x86DD), ipv6({}, {}, raw(50, zeros(24)))}),
               {.l3_offset = 14,
                .l4_offset = 54,
                .payload_offset = 54,
                .payload_len = 24,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 50,
                .ttl = 64,
                .l3_len = 64,
                .src = v6(kSrc6),
                .dst = v6(kDst6)}});
  c.push_back({"ipv6_no_next_header",
               cat({eth(0x86DD), ipv6({}, {dest_opts()}, raw(59, {}))}),
               {.l3_offset = 14,
                .l4_offset = 62,
                .payload_offset = 62,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 59,
                .ttl = 64,
                .l3_len = 48,
                .src = v6(kSrc6),
                .dst = v6(kDst6)}});
  // First fragment: UDP header + 16 of 40 data bytes, MF set (RFC 791 wire value 0x2000).
  c.push_back({"ipv4_first_fragment",
               cat({eth(0x0800), ipv4({.frag = 0x2000}, cut(fragment_udp, 24))}),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 42,
                .payload_len = 16,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 17,
                .ttl = 64,
                .is_fragment = true,
                .more_fragments = true,
                .frag_id = 0x1234,
                .l3_len = 44,
                .src = v4(kSrc4),
                .dst = v4(kDst4),
                .sport = 5353,
                .dport = 53}});
  // First fragment whose UDP length (16) ends inside it: the rest is surplus, not payload.
  c.push_back({"ipv4_first_fragment_udp_surplus",
               cat({eth(0x0800), ipv4({.frag = 0x2000}, udp(1, 2, zeros(16), 16))}),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 42,
                .payload_len = 8,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 17,
                .ttl = 64,
                .is_fragment = true,
                .more_fragments = true,
                .frag_id = 0x1234,
                .l3_len = 44,
                .src = v4(kSrc4),
                .dst = v4(kDst4),
                .sport = 1,
                .dport = 2}});
  // Last fragment at offset 24 (3 units): no L4 header, all bytes are payload.
  c.push_back({"ipv4_nonfirst_fragment",
               cat({eth(0x0800), ipv4({.frag = 3}, raw(17, Bytes(24, 0xAB)))}),
               {.l3_offset = 14,
                .l4_offset = 0,
                .payload_offset = 34,
                .payload_len = 24,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 17,
                .ttl = 64,
                .is_fragment = true,
                .frag_offset = 24,
                .frag_id = 0x1234,
                .l3_len = 44,
                .src = v4(kSrc4),
                .dst = v4(kDst4)}});
  c.push_back({"ipv6_first_fragment",
               cat({eth(0x86DD), ipv6({}, {frag6(0, true, 0xABCDEF01)}, cut(fragment_udp, 16))}),
               {.l3_offset = 14,
                .l4_offset = 62,
                .payload_offset = 70,
                .payload_len = 8,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 17,
                .ttl = 64,
                .is_fragment = true,
                .more_fragments = true,
                .frag_id = 0xABCDEF01,
                .l3_len = 64,
                .src = v6(kSrc6),
                .dst = v6(kDst6),
                .sport = 5353,
                .dport = 53}});
  c.push_back({"ipv6_nonfirst_fragment",
               cat({eth(0x86DD), ipv6({}, {frag6(16, false, 7)}, raw(17, zeros(10)))}),
               {.l3_offset = 14,
                .l4_offset = 0,
                .payload_offset = 62,
                .payload_len = 10,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 17,
                .ttl = 64,
                .is_fragment = true,
                .frag_offset = 16,
                .frag_id = 7,
                .l3_len = 58,
                .src = v6(kSrc6),
                .dst = v6(kDst6)}});
  // RFC 6946: offset 0 and M=0 is a whole packet, not a fragment.
  c.push_back({"ipv6_atomic_fragment",
               cat({eth(0x86DD), ipv6({}, {frag6(0, false, 9)}, tcp(1, 2, 3, 4, tf::kAck))}),
               {.l3_offset = 14,
                .l4_offset = 62,
                .payload_offset = 82,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 6,
                .tcp_flags = 0x10,
                .ttl = 64,
                .frag_id = 9,
                .l3_len = 68,
                .src = v6(kSrc6),
                .dst = v6(kDst6),
                .sport = 1,
                .dport = 2,
                .tcp_seq = 3,
                .tcp_ack = 4,
                .tcp_window = 8192}});
  {
    Bytes f = cat({eth(0x0800), ipv4({}, udp(9, 10, {'h', 'i'}))});  // 44 bytes
    f.resize(60, 0);  // Ethernet minimum frame (without FCS)
    c.push_back({"padded_udp4",
                 f,
                 {.l3_offset = 14,
                  .l4_offset = 34,
                  .payload_offset = 42,
                  .payload_len = 2,
                  .ethertype = 0x0800,
                  .ip_version = 4,
                  .proto = 17,
                  .ttl = 64,
                  .frag_id = 0x1234,
                  .l3_len = 30,
                  .src = v4(kSrc4),
                  .dst = v4(kDst4),
                  .sport = 9,
                  .dport = 10,
                  .trailer_len = 16}});
  }
  // UDP length shorter than the IP payload: the surplus is not payload.
  c.push_back({"udp4_surplus_area",
               cat({eth(0x0800), ipv4({}, udp(1, 2, zeros(6), 10))}),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 42,
                .payload_len = 2,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 17,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 34,
                .src = v4(kSrc4),
                .dst = v4(kDst4),
                .sport = 1,
                .dport = 2}});
  c.push_back({"dhcp_discover_from_0.0.0.0",
               cat({eth(0x0800), ipv4({.src = 0, .dst = 0xFFFFFFFF}, udp(68, 67, zeros(8)))}),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 42,
                .payload_len = 8,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 17,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 36,
                .src = v4(0),
                .dst = v4(0xFFFFFFFF),
                .sport = 68,
                .dport = 67}});
  c.push_back({"icmp6_dad_from_unspecified",
               cat({eth(0x86DD), ipv6({.src = {}}, {}, icmp6(135, 0, zeros(20)))}),
               {.l3_offset = 14,
                .l4_offset = 54,
                .payload_offset = 62,
                .payload_len = 16,
                .ethertype = 0x86DD,
                .ip_version = 6,
                .proto = 58,
                .icmp_type = 135,
                .ttl = 64,
                .l3_len = 64,
                .src = IpAddr{},
                .dst = v6(kDst6)}});
  c.push_back({"bad_checksum_ignored_when_not_verified",
               cat({eth(0x0800), ipv4({.bad_checksum = true}, raw(47, zeros(4)))}),
               {.l3_offset = 14,
                .l4_offset = 34,
                .payload_offset = 34,
                .payload_len = 4,
                .ethertype = 0x0800,
                .ip_version = 4,
                .proto = 47,
                .ttl = 64,
                .frag_id = 0x1234,
                .l3_len = 24,
                .src = v4(kSrc4),
                .dst = v4(kDst4)},
               {.verify_ipv4_checksum = false}});
  return c;
}

#define DC_EXPECT_FIELD(f) EXPECT_EQ(got.f, want.f) << #f
void expect_decoded(const Decoded& got, const Decoded& want) {
  DC_EXPECT_FIELD(l3_offset);
  DC_EXPECT_FIELD(l4_offset);
  DC_EXPECT_FIELD(payload_offset);
  DC_EXPECT_FIELD(payload_len);
  DC_EXPECT_FIELD(ethertype);
  DC_EXPECT_FIELD(vlan_outer);
  DC_EXPECT_FIELD(vlan_inner);
  DC_EXPECT_FIELD(vlan_count);
  DC_EXPECT_FIELD(ip_version);
  DC_EXPECT_FIELD(proto);
  DC_EXPECT_FIELD(tcp_flags);
  DC_EXPECT_FIELD(icmp_type);
  DC_EXPECT_FIELD(icmp_code);
  DC_EXPECT_FIELD(ttl);
  DC_EXPECT_FIELD(is_fragment);
  DC_EXPECT_FIELD(more_fragments);
  DC_EXPECT_FIELD(frag_offset);
  DC_EXPECT_FIELD(frag_id);
  DC_EXPECT_FIELD(l3_len);
  DC_EXPECT_FIELD(src);
  DC_EXPECT_FIELD(dst);
  DC_EXPECT_FIELD(sport);
  DC_EXPECT_FIELD(dport);
  DC_EXPECT_FIELD(tcp_seq);
  DC_EXPECT_FIELD(tcp_ack);
  DC_EXPECT_FIELD(tcp_window);
  DC_EXPECT_FIELD(trailer_len);
  DC_EXPECT_FIELD(ipv6_segments_left);
}
#undef DC_EXPECT_FIELD

std::string test_name(std::string s) {
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return s;
}

void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.name; }

class DecodeGood : public ::testing::TestWithParam<GoodCase> {};

TEST_P(DecodeGood, DecodesEveryField) {
  const GoodCase& c = GetParam();
  Decoded got;
  // A dirty output must not leak into the result: decode() resets it.
  std::memset(static_cast<void*>(&got), 0xA5, sizeof(got));
  ASSERT_EQ(decode(c.frame, got, c.opts), DecodeStatus::kOk)
      << dc::inspect::decode_status_name(decode(c.frame, got, c.opts));
  expect_decoded(got, c.want);
  // Layout invariants the dataplane relies on.
  EXPECT_EQ(got.l3_offset + got.l3_len + got.trailer_len, c.frame.size());
  EXPECT_LE(got.payload_offset + got.payload_len, got.l3_offset + got.l3_len);
}

INSTANTIATE_TEST_SUITE_P(Frames, DecodeGood, ::testing::ValuesIn(good_cases()),
                         [](const auto& info) { return test_name(info.param.name); });

// ---------------------------------------------------------------------------------------------
// Malformed frames: exactly one defect each, and its exact reason.
struct BadCase {
  std::string name;
  Bytes frame;
  DecodeStatus want;
  DecodeOptions opts{};
};

std::vector<BadCase> bad_cases() {
  using R = DecodeStatus;
  std::vector<BadCase> c;
  const Bytes tcp4 = tcp4_frame();
  const L4 tcp_ack = tcp(1, 2, 3, 4, tf::kAck);
  const L4 udp_small = udp(1000, 2000, zeros(4));

  c.push_back({"eth_13_bytes", Bytes(tcp4.begin(), tcp4.begin() + 13), R::kTruncatedEthernet});
  c.push_back({"eth_empty", {}, R::kTruncatedEthernet});
  c.push_back({"vlan_tag_cut", cat({eth(0x8100), {0x00, 0x64}}), R::kTruncatedVlan});
  c.push_back(
      {"vlan_second_tag_cut", cat({eth(0x88A8, {{0x88A8, 1}}), {0x00}}), R::kTruncatedVlan});
  c.push_back({"vlan_three_tags",
               cat({eth(0x0800, {{0x88A8, 1}, {0x8100, 2}, {0x8100, 3}}), ipv4({}, tcp_ack)}),
               R::kTooManyVlanTags});
  c.push_back({"arp", cat({eth(0x0806), zeros(28)}), R::kUnknownEtherType});
  c.push_back({"vlan_arp", cat({eth(0x0806, {{0x8100, 5}}), zeros(28)}), R::kUnknownEtherType});
  c.push_back({"ipv4_19_bytes", cat({eth(0x0800), zeros(19)}), R::kTruncatedIpv4});
  c.push_back(
      {"ipv4_version_5", cat({eth(0x0800), ipv4({.version = 5}, tcp_ack)}), R::kBadIpv4Version});
  c.push_back(
      {"ipv4_version_6_in_0800", cat({eth(0x0800), ipv6({}, {}, tcp_ack)}), R::kBadIpv4Version});
  c.push_back({"ipv4_ihl_4", cat({eth(0x0800), ipv4({.ihl_words = 4}, tcp_ack)}), R::kBadIpv4Ihl});
  c.push_back({"ipv4_ihl_beyond_frame",
               cat({eth(0x0800), ipv4({.ihl_words = 15, .total_len = 20}, raw(6, zeros(8)))}),
               R::kBadIpv4Ihl});
  c.push_back({"ipv4_total_below_ihl", cat({eth(0x0800), ipv4({.total_len = 19}, tcp_ack)}),
               R::kBadIpv4TotalLength});
  c.push_back({"ipv4_total_beyond_frame", cat({eth(0x0800), ipv4({.total_len = 41}, tcp_ack)}),
               R::kBadIpv4TotalLength});
  c.push_back({"ipv4_bad_checksum", cat({eth(0x0800), ipv4({.bad_checksum = true}, tcp_ack)}),
               R::kBadIpv4Checksum});
  c.push_back({"ipv4_option_length_1",
               cat({eth(0x0800), ipv4({.options = {0x94, 1, 0, 0}}, tcp_ack)}),
               R::kBadIpv4Options});
  c.push_back({"ipv4_option_beyond_header",
               cat({eth(0x0800), ipv4({.options = {1, 0x07, 7, 4}}, tcp_ack)}),
               R::kBadIpv4Options});
  c.push_back({"ipv4_option_without_length",
               cat({eth(0x0800), ipv4({.options = {1, 1, 1, 0x44}}, tcp_ack)}),
               R::kBadIpv4Options});
  c.push_back({"ipv6_39_bytes", cat({eth(0x86DD), zeros(39)}), R::kTruncatedIpv6});
  c.push_back({"ipv6_version_4_in_86dd", cat({eth(0x86DD), ipv6({.version = 4}, {}, tcp_ack)}),
               R::kBadIpv6Version});
  c.push_back({"ipv6_payload_length_beyond_frame",
               cat({eth(0x86DD), ipv6({.plen_delta = 1}, {}, tcp_ack)}), R::kBadIpv6PayloadLength});
  {
    Ext long_hbh = hbh();
    long_hbh.bytes[1] = 1;  // claims 16 bytes, 8 present
    c.push_back({"ipv6_ext_beyond_payload", cat({eth(0x86DD), ipv6({}, {long_hbh}, raw(59, {}))}),
                 R::kBadIpv6ExtHeader});
  }
  c.push_back({"ipv6_ext_shorter_than_8", cat({eth(0x86DD), ipv6({}, {}, raw(60, {59, 0, 1, 2}))}),
               R::kBadIpv6ExtHeader});
  c.push_back({"ipv6_hbh_not_first", cat({eth(0x86DD), ipv6({}, {dest_opts(), hbh()}, tcp_ack)}),
               R::kBadIpv6ExtHeader});
  {
    Ext bad_tlv = dest_opts();
    bad_tlv.bytes[2] = 0x1E;  // option claiming 5 data bytes, 4 left in the header
    bad_tlv.bytes[3] = 5;
    c.push_back({"ipv6_tlv_option_overrun", cat({eth(0x86DD), ipv6({}, {bad_tlv}, tcp_ack)}),
                 R::kBadIpv6ExtHeader});
  }
  {
    Ext no_len = hbh({0x1E, 3, 1, 2, 3});  // option + Pad1 at octet 7
    no_len.bytes[7] = 0x1E;  // the last octet now starts an option with no length octet
    c.push_back({"ipv6_tlv_option_without_length", cat({eth(0x86DD), ipv6({}, {no_len}, tcp_ack)}),
                 R::kBadIpv6ExtHeader});
  }
  c.push_back({"ipv6_routing_type0_active",
               cat({eth(0x86DD), ipv6({}, {routing(0, 1, 1)}, tcp_ack)}), R::kBadIpv6ExtHeader});
  c.push_back({"ipv6_two_routing_headers",
               cat({eth(0x86DD), ipv6({}, {routing(2, 0, 1), routing(2, 0, 1)}, tcp_ack)}),
               R::kBadIpv6ExtHeader});
  c.push_back({"ipv6_two_fragment_headers",
               cat({eth(0x86DD), ipv6({}, {frag6(0, false, 1), frag6(0, false, 1)}, tcp_ack)}),
               R::kBadIpv6ExtHeader});
  c.push_back({"ipv6_nine_ext_headers",
               cat({eth(0x86DD), ipv6({}, std::vector<Ext>(9, dest_opts()), tcp_ack)}),
               R::kTooManyIpv6ExtHeaders});
  c.push_back({"ipv6_two_ext_headers_max_1",
               cat({eth(0x86DD), ipv6({}, {hbh(), dest_opts()}, tcp_ack)}),
               R::kTooManyIpv6ExtHeaders,
               {.max_ipv6_ext_headers = 1}});
  c.push_back({"ipv4_mf_length_not_multiple_of_8",
               cat({eth(0x0800), ipv4({.frag = 0x2000}, cut(udp(1, 2, zeros(40)), 20))}),
               R::kBadFragment});
  c.push_back({"ipv4_fragment_beyond_65535",
               cat({eth(0x0800), ipv4({.frag = 0x1FFF}, raw(17, zeros(16)))}), R::kBadFragment});
  c.push_back({"ipv4_empty_fragment", cat({eth(0x0800), ipv4({.frag = 0x2004}, raw(17, {}))}),
               R::kBadFragment});
  c.push_back({"ipv4_tcp_fragment_offset_8",
               cat({eth(0x0800), ipv4({.frag = 1}, raw(6, zeros(16)))}), R::kBadFragment});
  c.push_back(
      {"ipv4_tiny_first_fragment_tcp",
       cat({eth(0x0800), ipv4({.frag = 0x2000}, cut(tcp(1, 2, 3, 4, tf::kAck, zeros(40)), 16))}),
       R::kBadFragment});
  c.push_back({"ipv4_first_fragment_tcp_options_cut",
               cat({eth(0x0800),
                    ipv4({.frag = 0x2000}, cut(tcp(1, 2, 3, 4, tf::kAck, {}, zeros(20)), 24))}),
               R::kBadFragment});
  c.push_back({"ipv6_m_length_not_multiple_of_8",
               cat({eth(0x86DD), ipv6({}, {frag6(8, true, 1)}, raw(17, zeros(12)))}),
               R::kBadFragment});
  c.push_back({"ipv6_fragment_beyond_65535",
               cat({eth(0x86DD), ipv6({}, {frag6(0xFFF8, false, 1)}, raw(17, zeros(16)))}),
               R::kBadFragment});
  c.push_back({"ipv6_empty_fragment",
               cat({eth(0x86DD), ipv6({}, {frag6(8, true, 1)}, raw(17, {}))}), R::kBadFragment});
  {
    // RFC 7112: first fragment must hold the whole chain; the Destination Options header
    // continues in the next fragment.
    Ext split = dest_opts(zeros(14));  // 16 bytes, only 8 in this fragment
    split.bytes.resize(8);
    c.push_back({"ipv6_first_fragment_chain_cut",
                 cat({eth(0x86DD), ipv6({}, {frag6(0, true, 1), split}, raw(6, {}))}),
                 R::kBadFragment});
  }
  // 8 bytes (a legal fragment size) of a 20-byte TCP header.
  c.push_back({"ipv6_first_fragment_tcp_cut",
               cat({eth(0x86DD), ipv6({}, {frag6(0, true, 1)}, cut(tcp_ack, 8))}),
               R::kBadFragment});
  c.push_back({"tcp_19_bytes", cat({eth(0x0800), ipv4({}, cut(tcp_ack, 19))}), R::kTruncatedTcp});
  c.push_back({"tcp6_0_bytes", cat({eth(0x86DD), ipv6({}, {}, raw(6, {}))}), R::kTruncatedTcp});
  c.push_back({"tcp_data_offset_4",
               cat({eth(0x0800), ipv4({}, tcp(1, 2, 3, 4, tf::kAck, {}, {}, 4))}),
               R::kBadTcpDataOffset});
  c.push_back({"tcp_data_offset_beyond_segment",
               cat({eth(0x0800), ipv4({}, tcp(1, 2, 3, 4, tf::kAck, zeros(8), {}, 8))}),
               R::kBadTcpDataOffset});
  c.push_back({"tcp_syn_fin", tcp4_frame(tf::kSyn | tf::kFin), R::kBadTcpFlags});
  c.push_back({"tcp_null_scan", tcp4_frame(0), R::kBadTcpFlags});
  c.push_back({"udp_7_bytes", cat({eth(0x0800), ipv4({}, cut(udp_small, 7))}), R::kTruncatedUdp});
  c.push_back(
      {"udp_length_7", cat({eth(0x0800), ipv4({}, udp(1, 2, zeros(4), 7))}), R::kBadUdpLength});
  c.push_back({"udp_length_beyond_datagram",
               cat({eth(0x86DD), ipv6({}, {}, udp(1, 2, zeros(4), 13))}), R::kBadUdpLength});
  c.push_back({"icmp4_7_bytes", cat({eth(0x0800), ipv4({}, cut(icmp4(8, 0, zeros(4)), 7))}),
               R::kTruncatedIcmp});
  c.push_back({"icmp6_4_bytes", cat({eth(0x86DD), ipv6({}, {}, cut(icmp6(1, 0, zeros(4)), 4))}),
               R::kTruncatedIcmp});
  c.push_back({"src4_multicast", cat({eth(0x0800), ipv4({.src = 0xE0000001}, tcp_ack)}),
               R::kBadSourceAddress});
  c.push_back({"src4_multicast_top", cat({eth(0x0800), ipv4({.src = 0xEFFFFFFF}, udp_small)}),
               R::kBadSourceAddress});
  c.push_back({"src4_broadcast", cat({eth(0x0800), ipv4({.src = 0xFFFFFFFF}, udp_small)}),
               R::kBadSourceAddress});
  c.push_back({"src4_loopback", cat({eth(0x0800), ipv4({.src = 0x7F000001}, tcp_ack)}),
               R::kBadSourceAddress});
  c.push_back({"src4_this_network_host", cat({eth(0x0800), ipv4({.src = 0x00010203}, udp_small)}),
               R::kBadSourceAddress});
  c.push_back({"src4_unspecified_tcp", cat({eth(0x0800), ipv4({.src = 0}, tcp_ack)}),
               R::kBadSourceAddress});
  c.push_back({"src4_unspecified_udp_not_dhcp",
               cat({eth(0x0800), ipv4({.src = 0}, udp(68, 68, zeros(4)))}), R::kBadSourceAddress});
  c.push_back(
      {"src4_unspecified_fragment",
       cat({eth(0x0800), ipv4({.src = 0, .frag = 0x2000}, cut(udp(68, 67, zeros(40)), 16))}),
       R::kBadSourceAddress});
  c.push_back(
      {"src6_multicast",
       cat({eth(0x86DD),
            ipv6({.src = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, {}, tcp_ack)}),
       R::kBadSourceAddress});
  c.push_back({"src6_loopback",
               cat({eth(0x86DD),
                    ipv6({.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, {}, tcp_ack)}),
               R::kBadSourceAddress});
  c.push_back(
      {"src6_ipv4_mapped",
       cat({eth(0x86DD),
            ipv6({.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 1}}, {}, tcp_ack)}),
       R::kBadSourceAddress});
  c.push_back({"src6_unspecified_udp", cat({eth(0x86DD), ipv6({.src = {}}, {}, udp_small)}),
               R::kBadSourceAddress});
  {
    Bytes huge = tcp4;
    huge.resize(65536, 0);
    c.push_back({"frame_65536_bytes", huge, R::kFrameTooLong});
  }
  return c;
}

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class DecodeBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(DecodeBad, ExactReason) {
  const BadCase& c = GetParam();
  Decoded got;
  const DecodeStatus r = decode(c.frame, got, c.opts);
  EXPECT_EQ(r, c.want) << "got " << dc::inspect::decode_status_name(r) << ", want "
                       << dc::inspect::decode_status_name(c.want);
}

INSTANTIATE_TEST_SUITE_P(Frames, DecodeBad, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return test_name(info.param.name); });

TEST(DecodeBadTable, EveryDecodeFailureHasARow) {
  std::set<DecodeStatus> covered;
  for (const auto& c : bad_cases()) covered.insert(c.want);
  for (std::size_t i = 1; i < static_cast<std::size_t>(DecodeStatus::kCount); ++i) {
    const auto s = static_cast<DecodeStatus>(i);
    EXPECT_TRUE(covered.count(s)) << "no malformed row for " << dc::inspect::decode_status_name(s);
  }
}

// RFC 9293 3.10.7: only combinations no receiver state accepts are rejected.
TEST(DecodeTcpFlags, OnlyNeverLegalCombinationsAreRejected) {
  struct Row {
    uint8_t flags;
    bool ok;
  };
  const Row rows[] = {
      {tf::kSyn, true},
      {tf::kSyn | tf::kAck, true},
      {tf::kAck, true},
      {tf::kRst, true},
      {tf::kRst | tf::kAck, true},
      {tf::kFin | tf::kAck, true},
      {tf::kFin | tf::kRst | tf::kAck, true},
      {tf::kSyn | tf::kEce | tf::kCwr, true},
      {tf::kSyn | tf::kPsh, true},
      {tf::kAck | tf::kUrg | tf::kPsh, true},
      {0, false},
      {tf::kFin, false},
      {tf::kFin | tf::kPsh | tf::kUrg, false},
      {tf::kPsh, false},
      {tf::kUrg, false},
      {tf::kSyn | tf::kFin, false},
      {tf::kSyn | tf::kFin | tf::kAck, false},
      {tf::kSyn | tf::kRst, false},
      {tf::kSyn | tf::kRst | tf::kAck, false},
      {0xFF, false},
  };
  for (const auto& row : rows) {
    Decoded d;
    const DecodeStatus r = decode(tcp4_frame(row.flags), d);
    EXPECT_EQ(r, row.ok ? DecodeStatus::kOk : DecodeStatus::kBadTcpFlags)
        << "flags 0x" << std::hex << int{row.flags};
  }
}

// Every prefix of every valid frame: decode never reads out of range, and never accepts a frame
// whose IP packet was cut (only trailer bytes may be removed).
TEST(DecodeTruncation, EveryPrefixIsRejectedOrInRange) {
  for (const auto& c : good_cases()) {
    SCOPED_TRACE(c.name);
    Decoded full;
    ASSERT_EQ(decode(c.frame, full, c.opts), DecodeStatus::kOk);
    const std::size_t ip_end = full.l3_offset + full.l3_len;
    for (std::size_t len = 0; len < c.frame.size(); ++len) {
      // A fresh heap copy of exactly `len` bytes so ASan (fuzz build) would catch over-reads.
      const Bytes prefix(c.frame.begin(), c.frame.begin() + static_cast<std::ptrdiff_t>(len));
      Decoded d;
      const DecodeStatus r = decode(prefix, d, c.opts);
      if (len < ip_end) {
        EXPECT_NE(r, DecodeStatus::kOk) << "accepted a frame cut at " << len;
      }
      if (r == DecodeStatus::kOk) {
        EXPECT_LE(d.l3_offset + d.l3_len, len);
        EXPECT_LE(d.l4_offset, d.payload_offset);
        EXPECT_LE(d.payload_offset + d.payload_len, len);
      }
    }
  }
}

// decode() takes a fast path for Ethernet + IPv4 without options + TCP/UDP, not fragmented
// (decode.cpp); it must give exactly what the general decoder gives, refusals included: every
// good and bad frame of the tables, and every one of the first 64 bytes of a TCP and a UDP frame
// set to a spread of values (version/IHL, lengths, fragment bits, protocol, martian sources,
// checksum, data offset, flags, UDP length).
void expect_same_as_general(const Bytes& frame, const DecodeOptions& opts, std::size_t& ok) {
  Decoded fast, general;
  std::memset(static_cast<void*>(&fast), 0xA5, sizeof(fast));
  const DecodeStatus a = decode(frame, fast, opts);
  const DecodeStatus b = dc::inspect::detail::decode_general(frame, general, opts);
  ASSERT_EQ(a, b) << dc::inspect::decode_status_name(a) << " vs "
                  << dc::inspect::decode_status_name(b);
  if (a != DecodeStatus::kOk) return;
  ++ok;
  expect_decoded(fast, general);
  EXPECT_EQ(fast.tcp_urgent, general.tcp_urgent);
}

TEST(DecodeFastPath, SameAsGeneralDecoder) {
  std::size_t ok = 0;
  for (const auto& c : good_cases()) {
    SCOPED_TRACE(c.name);
    expect_same_as_general(c.frame, c.opts, ok);
  }
  for (const auto& c : bad_cases()) {
    SCOPED_TRACE(c.name);
    expect_same_as_general(c.frame, c.opts, ok);
  }
  const Bytes bases[] = {tcp4_frame(), cat({eth(0x0800), ipv4({}, udp(5353, 53, zeros(12)))}),
                         tcp4_frame(tf::kSyn)};
  static constexpr uint8_t kValues[] = {0x00, 0x01, 0x02, 0x05, 0x06, 0x08, 0x11, 0x14, 0x20,
                                        0x40, 0x45, 0x46, 0x50, 0x7F, 0x80, 0xE0, 0xFF};
  static constexpr DecodeOptions kOpts[] = {{}, {.verify_ipv4_checksum = false}};
  const std::size_t ok_before = ok;
  for (const Bytes& base : bases) {
    for (const auto& opts : kOpts) {
      expect_same_as_general(base, opts, ok);
      for (std::size_t i = 0; i < base.size() && i < 64; ++i) {
        for (uint8_t v : kValues) {
          Bytes f = base;
          f[i] = v;
          SCOPED_TRACE("byte " + std::to_string(i) + " = " + std::to_string(v));
          expect_same_as_general(f, opts, ok);
        }
      }
    }
  }
  EXPECT_GT(ok, ok_before + 100);  // the mutations reach the fast path's accepting end too
}

TEST(DecodeStatusName, EnumeratorNames) {
  EXPECT_STREQ(dc::inspect::decode_status_name(DecodeStatus::kOk), "Ok");
  EXPECT_STREQ(dc::inspect::decode_status_name(DecodeStatus::kTruncatedEthernet),
               "TruncatedEthernet");
  EXPECT_STREQ(dc::inspect::decode_status_name(DecodeStatus::kFrameTooLong), "FrameTooLong");
  EXPECT_STREQ(dc::inspect::decode_status_name(DecodeStatus::kCount), "unknown");
}

TEST(IpAddr, V4MappedRoundTrip) {
  const IpAddr a = IpAddr::from_v4(0xC0A80001);  // 192.168.0.1
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(a.v4(), 0xC0A80001u);
  const Addr6 mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 168, 0, 1};
  EXPECT_EQ(IpAddr::from_v6(mapped.data()), a);
  EXPECT_FALSE(v6(kSrc6).is_v4());
  EXPECT_FALSE(IpAddr{}.is_v4());
  EXPECT_EQ(v6(kSrc6).bytes, kSrc6);
  EXPECT_LT(IpAddr::from_v4(1), IpAddr::from_v4(2));
  EXPECT_NE(IpAddr::from_v4(0), IpAddr{});
}

}  // namespace
