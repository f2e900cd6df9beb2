#pragma once
// Packet decoder: Ethernet -> 802.1Q / 802.1ad (QinQ) -> IPv4 / IPv6 (+ extension headers) ->
// TCP / UDP / ICMP / ICMPv6.
//
// Works on a plain byte span (no DPDK), so the live workers, offline replay, unit tests and the
// fuzzer all run the same code. Never allocates, never throws, never reads past `frame`.
// Every malformed case is a named DecodeStatus; the caller decides what each costs (the
// dataplane drops the packet and counts it under the drop reason of the same name).
// Thread-safety: pure function, callable from any thread.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dc::inspect {

// Why decode() refused a frame: only the decoder's own failures. The dataplane maps each onto
// its drop reason of the same name (dataplane/stage_drops.hpp) and counts it there.
// Order is free (no counter is indexed by it); the list is also decode_status_name()'s source.
#define DC_DECODE_FAILURES(X) \
  X(kTruncatedEthernet)       \
  X(kTruncatedVlan)           \
  X(kTooManyVlanTags)         \
  X(kUnknownEtherType)        \
  X(kTruncatedIpv4)           \
  X(kBadIpv4Version)          \
  X(kBadIpv4Ihl)              \
  X(kBadIpv4TotalLength)      \
  X(kBadIpv4Checksum)         \
  X(kBadIpv4Options)          \
  X(kTruncatedIpv6)           \
  X(kBadIpv6Version)          \
  X(kBadIpv6PayloadLength)    \
  X(kBadIpv6ExtHeader)        \
  X(kTooManyIpv6ExtHeaders)   \
  X(kBadFragment)             \
  X(kTruncatedTcp)            \
  X(kBadTcpDataOffset)        \
  X(kBadTcpFlags)             \
  X(kTruncatedUdp)            \
  X(kBadUdpLength)            \
  X(kTruncatedIcmp)           \
  X(kBadSourceAddress)        \
  X(kFrameTooLong)

enum class DecodeStatus : uint8_t {
  kOk,
#define DC_X(name) name,
  DC_DECODE_FAILURES(DC_X)
#undef DC_X
      kCount
};

// The enumerator's name without its 'k' ("Ok", "TruncatedEthernet"); for test and fuzzer
// messages. Counters use the dataplane's drop reason names.
const char* decode_status_name(DecodeStatus s) noexcept;

// An IPv4 or IPv6 address. IPv4 is stored as the IPv4-mapped IPv6 form ::ffff:a.b.c.d so that
// one 16-byte comparison serves both families.
struct IpAddr {
  std::array<uint8_t, 16> bytes{};
  bool is_v4() const noexcept;
  uint32_t v4() const noexcept;  // host byte order; only meaningful when is_v4()
  static IpAddr from_v4(uint32_t host_order) noexcept;
  static IpAddr from_v6(const uint8_t* sixteen) noexcept;
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};

namespace tcpflag {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                         kUrg = 0x20, kEce = 0x40, kCwr = 0x80;
}

inline constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmpv6 = 58;

struct Decoded {
  // Offsets are from the start of the frame.
  uint16_t l3_offset = 0;
  uint16_t l4_offset = 0;       // 0 when there is no L4 header (non-first fragment)
  uint16_t payload_offset = 0;  // start of L4 payload
  uint16_t payload_len = 0;     // bytes of L4 payload inside the frame (padding excluded)
  uint16_t ethertype = 0;       // innermost EtherType
  uint16_t vlan_outer = 0;      // VLAN IDs (12 bits); 0 when absent
  uint16_t vlan_inner = 0;
  uint8_t vlan_count = 0;  // 0, 1 or 2
  uint8_t ip_version = 0;  // 4 or 6
  uint8_t proto = 0;       // final upper-layer protocol (after IPv6 extension headers)
  uint8_t tcp_flags = 0;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  uint8_t ttl = 0;           // TTL / hop limit
  bool is_fragment = false;  // any fragment (first or not)
  bool more_fragments = false;
  uint16_t frag_offset = 0;  // in bytes
  uint32_t frag_id = 0;
  uint16_t l3_len =
      0;  // IP header + payload length as declared (IPv4 total length, IPv6 40+payload)
  IpAddr src, dst;
  uint16_t sport = 0, dport = 0;      // host byte order; ICMP: 0
  uint32_t tcp_seq = 0, tcp_ack = 0;  // host byte order
  uint16_t tcp_window = 0;
  // Bytes after the IP packet (IPv4 total length / IPv6 40+payload length) to the end of the
  // frame: Ethernet padding or a trailer. Never part of payload_len. Anything beyond the padding
  // needed for a 60-byte frame is forwarded uninspected unless the caller strips or drops it.
  uint16_t trailer_len = 0;
  // IPv6 Routing header "Segments Left" (RFC 8200 4.4); 0 when absent. When non-zero, `dst` is
  // only the next waypoint, not the final destination: whitelist decisions on `dst` are unsound.
  uint8_t ipv6_segments_left = 0;
  // TCP Urgent Pointer field (RFC 9293 §3.1), host order; meaningful only with tcpflag::kUrg
  // (inspect/stream/normalise.hpp says which byte it designates).
  uint16_t tcp_urgent = 0;
};

struct DecodeOptions {
  bool verify_ipv4_checksum = true;
  uint8_t max_ipv6_ext_headers = 8;
};

// Decodes `frame`. Returns DecodeStatus::kOk on success, otherwise why the frame cannot be
// decoded; `out` is then partially filled (never read it). kUnknownEtherType is returned for
// non-IP EtherTypes (after VLAN tags); the caller applies the configured action.
// No allocation; one pass over the headers.
DecodeStatus decode(std::span<const uint8_t> frame, Decoded& out,
                    const DecodeOptions& opts = {}) noexcept;

}  // namespace dc::inspect
