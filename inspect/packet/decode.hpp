#pragma once
// Packet decoder: Ethernet -> 802.1Q / 802.1ad (QinQ) -> IPv4 / IPv6 (+ extension headers) ->
// TCP / UDP / ICMP / ICMPv6.
//
// Works on a plain byte span (no DPDK), so the live workers, offline replay, unit tests and the
// fuzzer all run the same code. Never allocates, never throws, never reads past `frame`.
// Every malformed case is a named DropReason; the caller owns one counter per reason.
// Thread-safety: pure function, callable from any thread.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dc::inspect {

// X-macro: name, human-readable description. Order is ABI for counters; append only.
#define DC_DROP_REASONS(X)                                                                    \
  X(kNone, "not dropped")                                                                     \
  X(kTruncatedEthernet, "frame shorter than an Ethernet header")                              \
  X(kTruncatedVlan, "VLAN tag truncated")                                                     \
  X(kTooManyVlanTags, "more than two VLAN tags")                                              \
  X(kUnknownEtherType, "EtherType not IPv4/IPv6 (configured action drop)")                    \
  X(kTruncatedIpv4, "IPv4 header truncated")                                                  \
  X(kBadIpv4Version, "IPv4 version field is not 4")                                           \
  X(kBadIpv4Ihl, "IPv4 IHL below 5 or beyond the frame")                                      \
  X(kBadIpv4TotalLength, "IPv4 total length below IHL or beyond the frame")                   \
  X(kBadIpv4Checksum, "IPv4 header checksum mismatch")                                        \
  X(kBadIpv4Options, "IPv4 options malformed")                                                \
  X(kTruncatedIpv6, "IPv6 header truncated")                                                  \
  X(kBadIpv6Version, "IPv6 version field is not 6")                                           \
  X(kBadIpv6PayloadLength, "IPv6 payload length beyond the frame")                            \
  X(kBadIpv6ExtHeader, "IPv6 extension header truncated or malformed")                        \
  X(kTooManyIpv6ExtHeaders, "IPv6 extension header chain too long")                           \
  X(kBadFragment, "IP fragment malformed (offset/length)")                                    \
  X(kTruncatedTcp, "TCP header truncated")                                                    \
  X(kBadTcpDataOffset, "TCP data offset below 5 or beyond the segment")                       \
  X(kBadTcpFlags, "TCP flag combination invalid (e.g. SYN+FIN, SYN+RST, none)")               \
  X(kTruncatedUdp, "UDP header truncated")                                                    \
  X(kBadUdpLength, "UDP length below 8 or beyond the datagram")                               \
  X(kTruncatedIcmp, "ICMP header truncated")                                                  \
  X(kBadSourceAddress,                                                                        \
    "source address is multicast, broadcast, loopback, IPv4-mapped or misused unspecified")   \
  X(kSpoofedSource, "source address not in the ingress zone's networks")                      \
  X(kNoZone, "ingress port has no zone")                                                      \
  X(kNoLink, "no link between the zones (isolated)")                                          \
  X(kFlowTableFull, "flow table full (fail closed)")                                          \
  X(kNotWhitelisted, "border-crossing flow without a whitelisted counterparty")               \
  X(kPolicyBlock, "flow blocked by policy verdict")                                           \
  X(kTxFull, "TX queue full")                                                                 \
  X(kFragmentUninspected, "IP fragment of an inspected flow (fragment policy drop)")          \
  X(kReorderQueueFull, "TCP out-of-order queue full (fail closed)")                           \
  X(kStreamUnavailable, "stream state pool exhausted (fail closed)")                          \
  X(kScanError, "content scanner error (fail closed)")                                        \
  X(kAuditUnavailable, "audit ring full or audit failing (fail closed)")                      \
  X(kNoPolicy, "no policy loaded (fail closed)")                                              \
  X(kFrameTooLong, "frame longer than 65535 bytes (offsets are 16-bit)")                      \
  X(kEthernetTrailer, "bytes after the IP packet beyond minimum-frame padding (smuggling)")   \
  X(kIpv6SourceRoute, "IPv6 routing header with segments left (destination not final)")       \
  X(kTunnel, "IP-in-IP / GRE encapsulation (inner packet not inspected)")                     \
  X(kStreamEvasion, "TCP bytes differ from inspected bytes (overlap/retransmission evasion)") \
  X(kUnverifiableRetransmission, "retransmission of bytes older than the inspected window")   \
  X(kTcpOutOfWindow, "TCP segment far outside the expected sequence window")

enum class DropReason : uint8_t {
#define DC_X(name, desc) name,
  DC_DROP_REASONS(DC_X)
#undef DC_X
      kCount
};

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kCount);

// Stable snake_case name for counters/telemetry ("truncated_ethernet") and a description.
const char* drop_reason_name(DropReason r) noexcept;
const char* drop_reason_description(DropReason r) noexcept;

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
};

struct DecodeOptions {
  bool verify_ipv4_checksum = true;
  uint8_t max_ipv6_ext_headers = 8;
};

// Decodes `frame`. Returns DropReason::kNone on success, otherwise the reason the packet must be
// dropped; `out` is then partially filled (never read it). kUnknownEtherType is returned for
// non-IP EtherTypes (after VLAN tags); the caller applies the configured action.
// No allocation; one pass over the headers.
DropReason decode(std::span<const uint8_t> frame, Decoded& out,
                  const DecodeOptions& opts = {}) noexcept;

}  // namespace dc::inspect
