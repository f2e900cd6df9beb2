// Packet decoder. See decode.hpp for the contract.
//
// Every read is preceded by a bounds check against the end of the current layer (frame end for
// L2/L3 headers, the IP packet end for everything inside IP), so trailing Ethernet padding is never
// parsed as protocol data. Offsets are size_t internally and only narrowed to uint16_t once the
// frame is known to be at most 65535 bytes long.
#include "inspect/packet/decode.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <cstring>

#include "inspect/packet/decode_internal.hpp"

namespace dc::inspect {
namespace {

// ---------------------------------------------------------------------------------------------
// Wire constants.
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherVlan = 0x8100;     // IEEE 802.1Q C-tag
constexpr uint16_t kEtherQinQ = 0x88A8;     // IEEE 802.1ad S-tag
constexpr uint16_t kEtherQinQOld = 0x9100;  // pre-standard S-tag, still emitted by some switches
constexpr std::size_t kEthHeaderLen = 14;
constexpr std::size_t kVlanTagLen = 4;
constexpr uint8_t kMaxVlanTags = 2;
constexpr std::size_t kMaxFrameLen = 65535;
constexpr std::size_t kMaxIpDatagram = 65535;  // RFC 791 / RFC 8200 (no jumbograms)

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kTcpMinHeader = 20;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kIcmpHeader = 8;  // type, code, checksum + 4-byte rest of header

constexpr uint8_t kIp6HopByHop = 0, kIp6Routing = 43, kIp6Fragment = 44, kIp6Ah = 51,
                  kIp6DestOpts = 60, kIp6Mobility = 135, kIp6Hip = 139, kIp6Shim6 = 140;

constexpr uint16_t kDhcpClientPort = 68, kDhcpServerPort = 67;

inline uint16_t load16(const uint8_t* p) noexcept {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t load32(const uint8_t* p) noexcept {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline uint16_t u16(std::size_t v) noexcept { return static_cast<uint16_t>(v); }

inline bool is_vlan_tpid(uint16_t et) noexcept {
  return et == kEtherVlan || et == kEtherQinQ || et == kEtherQinQOld;
}

// RFC 1071 one's-complement sum; a correct IPv4 header sums to 0xFFFF (RFC 791 3.1 "Header
// Checksum"). `len` is IHL*4, always even. Cost: at most 30 adds.
uint16_t ones_complement_sum(const uint8_t* p, std::size_t len) noexcept {
  uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += load16(p + i);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// RFC 791 3.1 "Options": type 0 (End of Option List) ends the list, the rest is padding; type 1
// (No Operation) is one octet; every other option is type, length (counting type and length
// octets, so >= 2), data, and must end inside the header.
bool ipv4_options_ok(const uint8_t* o, std::size_t len) noexcept {
  std::size_t i = 0;
  while (i < len) {
    const uint8_t type = o[i];
    if (type == 0) return true;
    if (type == 1) {
      ++i;
      continue;
    }
    if (len - i < 2) return false;
    const uint8_t opt_len = o[i + 1];
    if (opt_len < 2 || opt_len > len - i) return false;
    i += opt_len;
  }
  return true;
}

// RFC 8200 4.2: Hop-by-Hop and Destination options are TLVs; Pad1 (type 0) is one octet, every
// other option is type, length (of data only), data, and must end inside the header.
bool ipv6_tlv_options_ok(const uint8_t* o, std::size_t len) noexcept {
  std::size_t i = 0;
  while (i < len) {
    if (o[i] == 0) {
      ++i;
      continue;
    }
    if (len - i < 2) return false;
    const std::size_t opt_len = std::size_t{2} + o[i + 1];
    if (opt_len > len - i) return false;
    i += opt_len;
  }
  return true;
}

// TCP flag combinations that no state of the RFC 9293 3.10.7 event processing accepts, so a
// conforming receiver discards them and only scanners and evasion tools send them:
//  - SYN+RST: RST is processed before SYN in every state (3.10.7.2-4) and a SYN never carries
//    a reset; no state transition exists for the combination.
//  - SYN+FIN: a connection cannot be opened and closed by one segment (T/TCP, RFC 1644, which
//    did so, is Historic per RFC 6247); dropped by every mainstream stack.
//  - none of SYN, RST, ACK: in LISTEN "any other control or text-bearing segment (not containing
//    SYN) must have an ACK" (3.10.7.2), in SYN-SENT "if neither of the SYN or RST bits is set,
//    then drop the segment" (3.10.7.3), in synchronized states "if the ACK bit is off, drop the
//    segment" (3.10.7.4). This covers the null scan (no flags), FIN without ACK (FIN scan) and
//    FIN+PSH+URG without ACK (Xmas scan).
// Legal and therefore kept: RST alone (a reset answering a segment that had ACK, 3.5), SYN with
// data/PSH/URG, SYN+ECE+CWR (RFC 3168 6.1.1), FIN+RST+ACK (RST wins, some stacks send it).
bool tcp_flags_ok(uint8_t f) noexcept {
  const bool syn = f & tcpflag::kSyn, fin = f & tcpflag::kFin, rst = f & tcpflag::kRst,
             ack = f & tcpflag::kAck;
  if (syn && rst) return false;
  if (syn && fin) return false;
  if (!syn && !rst && !ack) return false;
  return true;
}

// Fills L4 fields for the upper-layer header starting at `l4` and ending at `end` (the end of
// the IP packet). `first_fragment`: this is fragment offset 0 with more fragments following; the
// whole upper-layer header must then be present (RFC 1858 3 / RFC 3128 for IPv4, RFC 8200 4.5 and
// RFC 7112 5 for IPv6), otherwise the header could be split to slip past inspection.
DecodeStatus decode_l4(const uint8_t* frame, std::size_t l4, std::size_t end, uint8_t proto,
                       bool ipv6, bool first_fragment, Decoded& out) noexcept {
  const std::size_t avail = end - l4;
  const uint8_t* h = frame + l4;
  auto truncated = [first_fragment](DecodeStatus r) noexcept {
    return first_fragment ? DecodeStatus::kBadFragment : r;
  };
  out.l4_offset = u16(l4);

  if (proto == kProtoTcp) {
    if (avail < kTcpMinHeader) return truncated(DecodeStatus::kTruncatedTcp);
    // RFC 9293 3.1 "Data Offset": header length in 32-bit words, at least 5.
    const std::size_t doff = static_cast<std::size_t>(h[12] >> 4) * 4;
    if (doff < kTcpMinHeader) return DecodeStatus::kBadTcpDataOffset;
    if (doff > avail) return truncated(DecodeStatus::kBadTcpDataOffset);
    out.sport = load16(h);
    out.dport = load16(h + 2);
    out.tcp_seq = load32(h + 4);
    out.tcp_ack = load32(h + 8);
    out.tcp_flags = h[13];
    out.tcp_window = load16(h + 14);
    out.tcp_urgent = load16(h + 18);
    if (!tcp_flags_ok(out.tcp_flags)) return DecodeStatus::kBadTcpFlags;
    out.payload_offset = u16(l4 + doff);
    out.payload_len = u16(avail - doff);
    return DecodeStatus::kOk;
  }

  if (proto == kProtoUdp) {
    if (avail < kUdpHeader) return truncated(DecodeStatus::kTruncatedUdp);
    out.sport = load16(h);
    out.dport = load16(h + 2);
    // RFC 768 "Length": header plus data, so at least 8. In a first fragment it describes the
    // whole datagram, which continues in later fragments. Bytes of the IP payload beyond the UDP
    // length (the RFC 9868 "surplus area") are not application payload and are not counted.
    const std::size_t udp_len = load16(h + 4);
    if (udp_len < kUdpHeader) return DecodeStatus::kBadUdpLength;
    std::size_t datagram = avail;
    if (!first_fragment) {
      if (udp_len > avail) return DecodeStatus::kBadUdpLength;
      datagram = udp_len;
    } else if (udp_len < avail) {
      datagram = udp_len;
    }
    out.payload_offset = u16(l4 + kUdpHeader);
    out.payload_len = u16(datagram - kUdpHeader);
    return DecodeStatus::kOk;
  }

  if ((!ipv6 && proto == kProtoIcmp) || (ipv6 && proto == kProtoIcmpv6)) {
    // RFC 792 / RFC 4443 2.1: every defined message starts with type, code, checksum and four
    // more octets (identifier+sequence, pointer, MTU or unused).
    if (avail < kIcmpHeader) return truncated(DecodeStatus::kTruncatedIcmp);
    out.icmp_type = h[0];
    out.icmp_code = h[1];
    out.payload_offset = u16(l4 + kIcmpHeader);
    out.payload_len = u16(avail - kIcmpHeader);
    return DecodeStatus::kOk;
  }

  // Any other protocol (ESP, GRE, SCTP, No Next Header, tunnels...) is opaque to us: its header is
  // part of the payload. The policy decides whether the protocol may cross at all.
  out.payload_offset = u16(l4);
  out.payload_len = u16(avail);
  return DecodeStatus::kOk;
}

DecodeStatus decode_ipv4(const uint8_t* frame, std::size_t frame_len, std::size_t l3,
                         const DecodeOptions& opts, Decoded& out) noexcept {
  const std::size_t avail = frame_len - l3;
  if (avail < kIpv4MinHeader) return DecodeStatus::kTruncatedIpv4;
  const uint8_t* ip = frame + l3;
  // RFC 791 3.1: Version, IHL (32-bit words, minimum 5), Total Length (header + data).
  if ((ip[0] >> 4) != 4) return DecodeStatus::kBadIpv4Version;
  const std::size_t ihl = std::size_t{ip[0] & 0x0Fu} * 4;
  if (ihl < kIpv4MinHeader || ihl > avail) return DecodeStatus::kBadIpv4Ihl;
  const std::size_t total = load16(ip + 2);
  if (total < ihl || total > avail) return DecodeStatus::kBadIpv4TotalLength;
  if (opts.verify_ipv4_checksum && ones_complement_sum(ip, ihl) != 0xFFFF) {
    return DecodeStatus::kBadIpv4Checksum;
  }
  if (!ipv4_options_ok(ip + kIpv4MinHeader, ihl - kIpv4MinHeader)) {
    return DecodeStatus::kBadIpv4Options;
  }

  out.ip_version = 4;
  out.l3_len = u16(total);
  out.trailer_len = u16(avail - total);  // Ethernet padding / trailer, never payload
  out.ttl = ip[8];
  out.proto = ip[9];
  out.frag_id = load16(ip + 4);
  const uint32_t src = load32(ip + 12);
  out.src = IpAddr::from_v4(src);
  out.dst = IpAddr::from_v4(load32(ip + 16));

  // Martian sources (RFC 1122 3.2.1.3, RFC 1812 5.3.7): multicast 224/4 and limited broadcast
  // are never sources; 127/8 never appears outside a host; 0/8 identifies "this network" and
  // only 0.0.0.0 itself may be a source, during initialisation. We allow that case only for a
  // DHCP client (UDP 68 -> 67, RFC 2131 4.1), checked after the UDP header is read.
  const bool unspecified_src = src == 0;
  if ((src >> 28) == 0xE || src == 0xFFFFFFFFu || (src >> 24) == 127 ||
      ((src >> 24) == 0 && !unspecified_src)) {
    return DecodeStatus::kBadSourceAddress;
  }

  // RFC 791 3.1 "Flags"/"Fragment Offset": bit 1 DF, bit 2 MF, offset in 8-octet units. The
  // reserved bit is ignored (not dropped): harmless, and dropping it is not our call.
  const uint16_t frag = load16(ip + 6);
  out.more_fragments = (frag & 0x2000) != 0;
  out.frag_offset = u16(std::size_t{frag & 0x1FFFu} * 8);
  out.is_fragment = out.more_fragments || out.frag_offset != 0;
  const std::size_t ip_payload = total - ihl;
  if (out.is_fragment) {
    // RFC 791: every fragment but the last carries a multiple of 8 octets, and no fragment may
    // extend the datagram past 65535 octets (the "ping of death"). Empty fragments carry nothing
    // and only serve to confuse reassembly.
    if (ip_payload == 0 || (out.more_fragments && ip_payload % 8 != 0) ||
        out.frag_offset + ip_payload > kMaxIpDatagram - ihl) {
      return DecodeStatus::kBadFragment;
    }
    // RFC 1858 4: a TCP fragment at offset 8 octets can overwrite the flags of the first one.
    if (out.proto == kProtoTcp && out.frag_offset == 8) return DecodeStatus::kBadFragment;
    if (unspecified_src) return DecodeStatus::kBadSourceAddress;
  }
  if (unspecified_src && out.proto != kProtoUdp) return DecodeStatus::kBadSourceAddress;

  const std::size_t l4 = l3 + ihl;
  if (out.frag_offset != 0) {
    // Non-first fragment: no L4 header, the bytes are the middle of someone else's datagram.
    out.l4_offset = 0;
    out.payload_offset = u16(l4);
    out.payload_len = u16(ip_payload);
    return DecodeStatus::kOk;
  }
  const DecodeStatus r =
      decode_l4(frame, l4, l3 + total, out.proto, /*ipv6=*/false, out.is_fragment, out);
  if (r != DecodeStatus::kOk) return r;
  if (unspecified_src && !(out.sport == kDhcpClientPort && out.dport == kDhcpServerPort)) {
    return DecodeStatus::kBadSourceAddress;
  }
  return DecodeStatus::kOk;
}

bool is_ipv6_ext_header(uint8_t nh) noexcept {
  // RFC 8200 4 and the IANA "IPv6 Extension Header Types" registry (RFC 7045 2). ESP (50) and
  // No Next Header (59) end the walk: ESP's contents are encrypted (RFC 4303) and nothing follows
  // 59 (RFC 8200 4.7). Experimental 253/254 are treated as upper-layer protocols.
  switch (nh) {
    case kIp6HopByHop:
    case kIp6Routing:
    case kIp6Fragment:
    case kIp6Ah:
    case kIp6DestOpts:
    case kIp6Mobility:
    case kIp6Hip:
    case kIp6Shim6:
      return true;
    default:
      return false;
  }
}

// The walk over an IPv6 extension header chain (RFC 8200 4): where it stands and what it saw.
struct Ip6Walk {
  std::size_t l3 = 0, off = 0, end = 0;
  uint8_t next = 0;
  unsigned count = 0;
  bool seen_routing = false, seen_fragment = false, first_fragment = false;
  bool unspecified_src = false;
  bool non_first_fragment = false;  // decoding ended at a non-first fragment's header
};

// The Fragment header (RFC 8200 4.5) at `h`, `hlen` bytes long.
DecodeStatus ipv6_fragment_header(const uint8_t* h, std::size_t hlen, Ip6Walk& w,
                                  Decoded& out) noexcept {
  if (w.seen_fragment) return DecodeStatus::kBadIpv6ExtHeader;  // RFC 8200 4.1: at most once
  w.seen_fragment = true;
  const uint16_t fo = load16(h + 2);
  out.frag_offset = fo & 0xFFF8u;  // 13-bit offset in 8-octet units, already x8
  out.more_fragments = (fo & 1) != 0;
  out.frag_id = load32(h + 4);
  const std::size_t frag_data = w.end - w.off - hlen;
  if (out.frag_offset == 0 && !out.more_fragments) {
    return DecodeStatus::kOk;  // atomic fragment (RFC 6946 4): a whole packet, no reassembly
  }
  out.is_fragment = true;
  // RFC 8200 4.5: non-final fragments are a multiple of 8 octets; offset plus length must
  // not exceed 65535. Empty fragments only confuse reassembly.
  // The reassembled Payload Length counts the unfragmentable headers before this one.
  const std::size_t unfragmentable = w.off - (w.l3 + kIpv6Header);
  if (frag_data == 0 || (out.more_fragments && frag_data % 8 != 0) ||
      unfragmentable + out.frag_offset + frag_data > kMaxIpDatagram) {
    return DecodeStatus::kBadFragment;
  }
  if (w.unspecified_src) return DecodeStatus::kBadSourceAddress;
  if (out.frag_offset != 0) {
    // Non-first fragment: the rest is the middle of the fragmentable part; `proto` is the
    // Next Header of the fragment header (the first header of that part).
    out.proto = h[0];
    out.l4_offset = 0;
    out.payload_offset = u16(w.off + hlen);
    out.payload_len = u16(frag_data);
    w.non_first_fragment = true;
    return DecodeStatus::kOk;
  }
  w.first_fragment = true;
  return DecodeStatus::kOk;
}

// One extension header at w.off: length-checked, judged by type, and stepped over.
DecodeStatus ipv6_ext_header(const uint8_t* frame, const DecodeOptions& opts, Ip6Walk& w,
                             Decoded& out) noexcept {
  if (++w.count > opts.max_ipv6_ext_headers) return DecodeStatus::kTooManyIpv6ExtHeaders;
  // After a first-fragment header, the rest of the chain must be in this fragment
  // (RFC 8200 4.5, RFC 7112 5): a chain cut short is a fragment problem.
  const DecodeStatus cut =
      w.first_fragment ? DecodeStatus::kBadFragment : DecodeStatus::kBadIpv6ExtHeader;
  // Every extension header is at least 8 octets (AH: 12).
  if (w.end - w.off < 8) return cut;
  const uint8_t* h = frame + w.off;
  std::size_t hlen;
  if (w.next == kIp6Fragment) {
    hlen = 8;  // RFC 8200 4.5: fixed size
  } else if (w.next == kIp6Ah) {
    hlen = (std::size_t{h[1]} + 2) * 4;  // RFC 4302 2.2: 32-bit words minus 2
  } else {
    hlen = (std::size_t{h[1]} + 1) * 8;  // RFC 8200 4.3-4.6: 8-octet units not counting the first
  }
  if (hlen > w.end - w.off) return cut;

  switch (w.next) {
    case kIp6HopByHop:
      // RFC 8200 4.1: Hop-by-Hop Options only immediately after the IPv6 header.
      if (w.count != 1) return DecodeStatus::kBadIpv6ExtHeader;
      if (!ipv6_tlv_options_ok(h + 2, hlen - 2)) return DecodeStatus::kBadIpv6ExtHeader;
      break;
    case kIp6DestOpts:
      if (!ipv6_tlv_options_ok(h + 2, hlen - 2)) return DecodeStatus::kBadIpv6ExtHeader;
      break;
    case kIp6Routing:
      // RFC 8200 4.1: at most once. RFC 5095 3: Type 0 is deprecated (remote amplification and
      // firewall evasion) and must not be processed while Segments Left is non-zero.
      if (w.seen_routing) return DecodeStatus::kBadIpv6ExtHeader;
      w.seen_routing = true;
      if (h[2] == 0 && h[3] != 0) return DecodeStatus::kBadIpv6ExtHeader;
      out.ipv6_segments_left = h[3];
      break;
    case kIp6Fragment: {
      const DecodeStatus r = ipv6_fragment_header(h, hlen, w, out);
      if (r != DecodeStatus::kOk || w.non_first_fragment) return r;
      break;
    }
    default:  // AH, Mobility, HIP, Shim6: length-checked and skipped
      break;
  }
  w.next = h[0];
  w.off += hlen;
  return DecodeStatus::kOk;
}

DecodeStatus decode_ipv6(const uint8_t* frame, std::size_t frame_len, std::size_t l3,
                         const DecodeOptions& opts, Decoded& out) noexcept {
  const std::size_t avail = frame_len - l3;
  if (avail < kIpv6Header) return DecodeStatus::kTruncatedIpv6;
  const uint8_t* ip = frame + l3;
  if ((ip[0] >> 4) != 6) return DecodeStatus::kBadIpv6Version;
  // RFC 8200 3 "Payload Length": everything after the fixed header. Zero with a Jumbo Payload
  // option (RFC 2675) cannot happen in a frame of at most 65535 bytes and then fails the walk.
  const std::size_t plen = load16(ip + 4);
  if (kIpv6Header + plen > avail) return DecodeStatus::kBadIpv6PayloadLength;

  out.ip_version = 6;
  out.l3_len = u16(kIpv6Header + plen);
  out.trailer_len = u16(avail - kIpv6Header - plen);
  out.ttl = ip[7];
  out.src = IpAddr::from_v6(ip + 8);
  out.dst = IpAddr::from_v6(ip + 24);

  // Martian sources: multicast (RFC 4291 2.7 "must not be used as source"), loopback ::1
  // (RFC 4291 2.5.3 "must never be sent outside a single node") and IPv4-mapped ::ffff:0:0/96
  // (RFC 4291 2.5.5.2 / RFC 5156 2.2: not for use on the wire; it would also alias an IPv4
  // address in the zone and whitelist checks). :: is checked once the upper layer is known.
  static constexpr uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const auto& s = out.src.bytes;
  if (s[0] == 0xFF || std::equal(s.begin(), s.end(), kLoopback) || out.src.is_v4()) {
    return DecodeStatus::kBadSourceAddress;
  }
  const bool unspecified_src = out.src == IpAddr{};

  Ip6Walk w;
  w.l3 = l3;
  w.end = l3 + kIpv6Header + plen;
  w.off = l3 + kIpv6Header;
  w.next = ip[6];
  w.unspecified_src = unspecified_src;
  while (is_ipv6_ext_header(w.next)) {
    const DecodeStatus r = ipv6_ext_header(frame, opts, w, out);
    if (r != DecodeStatus::kOk || w.non_first_fragment) return r;
  }
  out.proto = w.next;
  // :: as a source is legitimate only for Duplicate Address Detection and MLD reports sent
  // before an address is configured (RFC 4862 5.4.2, RFC 3810 5.2.13), i.e. ICMPv6.
  if (unspecified_src && w.next != kProtoIcmpv6) return DecodeStatus::kBadSourceAddress;
  return decode_l4(frame, w.off, w.end, w.next, /*ipv6=*/true, w.first_fragment, out);
}

// The common case, decoded straight through: Ethernet without tags, IPv4 without options, not a
// fragment, TCP or UDP. It accepts exactly what decode_ipv4() + decode_l4() accept for such a
// frame and writes the same fields; anything else (or anything it would refuse) returns false
// and the full decoder runs from the start, so every refusal keeps its own status. Why a second
// path: on 64-byte forwarding the general decoder's per-layer calls, the byte-wise address
// stores (reloaded as 16 bytes by the flow key: a failed store forward) and the option walk were
// 15 % of the worker's cycles.
inline bool decode_fast_ipv4(const uint8_t* p, std::size_t n, const DecodeOptions& opts,
                             Decoded& out) noexcept {
  constexpr std::size_t kL3 = kEthHeaderLen, kL4 = kEthHeaderLen + kIpv4MinHeader;
  if (n < kL4 + kUdpHeader || n > kMaxFrameLen) return false;
  if (load16(p + 12) != kEtherIpv4) return false;
  const uint8_t* ip = p + kL3;
  if (ip[0] != 0x45) return false;  // version 4, IHL 5 (no options)
  const std::size_t avail = n - kL3;
  const std::size_t total = load16(ip + 2);
  if (total < kIpv4MinHeader || total > avail) return false;
  if ((load16(ip + 6) & 0x3FFFu) != 0) return false;  // MF or an offset: a fragment
  const uint8_t proto = ip[9];
  if (proto != kProtoTcp && proto != kProtoUdp) return false;
  const uint32_t src = load32(ip + 12);
  if ((src >> 28) == 0xE || src == 0xFFFFFFFFu || (src >> 24) == 127 || (src >> 24) == 0)
    return false;  // martian or unspecified: the full decoder says which
  if (opts.verify_ipv4_checksum) {
    // RFC 1071 sum of the ten 16-bit words as five 32-bit ones: the folded sum is the same value
    // up to byte order, and 0xFFFF (a correct header) is the same in both orders.
    uint64_t sum = 0;
    for (int i = 0; i < 5; ++i) {
      uint32_t w;
      std::memcpy(&w, ip + 4 * i, 4);
      sum += w;
    }
    sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
    sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
    sum = (sum & 0xFFFFu) + (sum >> 16);
    sum = (sum & 0xFFFFu) + (sum >> 16);
    if (sum != 0xFFFFu) return false;
  }
  const std::size_t l4_avail = total - kIpv4MinHeader;
  const uint8_t* h = ip + kIpv4MinHeader;
  std::size_t hdr;
  std::size_t plen;
  if (proto == kProtoTcp) {
    if (l4_avail < kTcpMinHeader) return false;
    hdr = static_cast<std::size_t>(h[12] >> 4) * 4;
    if (hdr < kTcpMinHeader || hdr > l4_avail || !tcp_flags_ok(h[13])) return false;
    plen = l4_avail - hdr;
  } else {
    const std::size_t udp_len = load16(h + 4);
    if (l4_avail < kUdpHeader || udp_len < kUdpHeader || udp_len > l4_avail) return false;
    hdr = kUdpHeader;
    plen = udp_len - kUdpHeader;
  }
  out = Decoded{};
  out.l3_offset = u16(kL3);
  out.l4_offset = u16(kL4);
  out.payload_offset = u16(kL4 + hdr);
  out.payload_len = u16(plen);
  out.ethertype = kEtherIpv4;
  out.ip_version = 4;
  out.proto = proto;
  out.ttl = ip[8];
  out.frag_id = load16(ip + 4);
  out.l3_len = u16(total);
  out.trailer_len = u16(avail - total);
  // Each address as one 16-byte store (::ffff: then the four wire bytes), so that the 16-byte
  // copy into the flow tuple and the key's loads forward from it.
  uint32_t s_raw, d_raw;
  std::memcpy(&s_raw, ip + 12, 4);
  std::memcpy(&d_raw, ip + 16, 4);
  constexpr int kMappedWord = static_cast<int>(0xFFFF0000u);  // bytes 8-11: 00 00 ff ff
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.src.bytes.data()),
                   _mm_set_epi32(static_cast<int>(s_raw), kMappedWord, 0, 0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.dst.bytes.data()),
                   _mm_set_epi32(static_cast<int>(d_raw), kMappedWord, 0, 0));
  out.sport = load16(h);
  out.dport = load16(h + 2);
  if (proto == kProtoTcp) {
    out.tcp_seq = load32(h + 4);
    out.tcp_ack = load32(h + 8);
    out.tcp_flags = h[13];
    out.tcp_window = load16(h + 14);
    out.tcp_urgent = load16(h + 18);
  }
  return true;
}

}  // namespace

const char* decode_status_name(DecodeStatus s) noexcept {
  switch (s) {
    case DecodeStatus::kOk:
      return "Ok";
#define DC_X(name)         \
  case DecodeStatus::name: \
    return &#name[1];
      DC_DECODE_FAILURES(DC_X)
#undef DC_X
    case DecodeStatus::kCount:
      break;
  }
  return "unknown";
}

bool IpAddr::is_v4() const noexcept {
  for (int i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[10] == 0xFF && bytes[11] == 0xFF;
}

uint32_t IpAddr::v4() const noexcept { return load32(bytes.data() + 12); }

IpAddr IpAddr::from_v4(uint32_t host_order) noexcept {
  IpAddr a;
  a.bytes[10] = 0xFF;
  a.bytes[11] = 0xFF;
  a.bytes[12] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[13] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[14] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[15] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddr IpAddr::from_v6(const uint8_t* sixteen) noexcept {
  IpAddr a;
  for (int i = 0; i < 16; ++i) a.bytes[i] = sixteen[i];
  return a;
}

DecodeStatus decode(std::span<const uint8_t> frame, Decoded& out,
                    const DecodeOptions& opts) noexcept {
  if (decode_fast_ipv4(frame.data(), frame.size(), opts, out)) return DecodeStatus::kOk;
  return detail::decode_general(frame, out, opts);
}

DecodeStatus detail::decode_general(std::span<const uint8_t> frame, Decoded& out,
                                    const DecodeOptions& opts) noexcept {
  out = Decoded{};
  if (frame.size() > kMaxFrameLen) return DecodeStatus::kFrameTooLong;
  const uint8_t* p = frame.data();
  const std::size_t n = frame.size();
  if (n < kEthHeaderLen) return DecodeStatus::kTruncatedEthernet;

  // IEEE 802.1Q / 802.1ad: TPID, then a 2-byte TCI (PCP 3, DEI 1, VID 12) and the next EtherType.
  std::size_t off = kEthHeaderLen;
  uint16_t ethertype = load16(p + 12);
  while (is_vlan_tpid(ethertype)) {
    if (out.vlan_count == kMaxVlanTags) return DecodeStatus::kTooManyVlanTags;
    if (n - off < kVlanTagLen) return DecodeStatus::kTruncatedVlan;
    const uint16_t vid = load16(p + off) & 0x0FFFu;
    (out.vlan_count == 0 ? out.vlan_outer : out.vlan_inner) = vid;
    ++out.vlan_count;
    ethertype = load16(p + off + 2);
    off += kVlanTagLen;
  }
  out.ethertype = ethertype;
  out.l3_offset = u16(off);
  if (ethertype == kEtherIpv4) return decode_ipv4(p, n, off, opts, out);
  if (ethertype == kEtherIpv6) return decode_ipv6(p, n, off, opts, out);
  return DecodeStatus::kUnknownEtherType;
}

}  // namespace dc::inspect
