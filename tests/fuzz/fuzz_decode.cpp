// libFuzzer target for the packet decoder (inspect/packet/decode.hpp).
//
// Beyond "no crash, no sanitizer report", it checks the layout invariants the dataplane relies on
// for every accepted frame, so a decoder bug that returns kOk with bad offsets is a crash too.
// Each input is decoded under several option sets: with the IPv4 checksum check off, random
// mutations reach the L4 code instead of stopping at the checksum.
#include <cstdio>
#include <cstdlib>

#include "inspect/packet/decode.hpp"
#include "inspect/packet/decode_internal.hpp"

namespace {

using dc::inspect::Decoded;
using dc::inspect::DecodeOptions;
using dc::inspect::DecodeStatus;

#define DC_FUZZ_CHECK(cond)                                               \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "fuzz_decode: invariant failed: %s\n", #cond); \
      std::abort();                                                       \
    }                                                                     \
  } while (0)

void check_accepted(const Decoded& d, std::size_t size) {
  DC_FUZZ_CHECK(size <= 65535);
  DC_FUZZ_CHECK(d.vlan_count <= 2);
  DC_FUZZ_CHECK(d.l3_offset == 14 + 4u * d.vlan_count);
  DC_FUZZ_CHECK(std::size_t{d.l3_offset} + d.l3_len + d.trailer_len == size);
  DC_FUZZ_CHECK(d.ip_version == 4 || d.ip_version == 6);
  DC_FUZZ_CHECK(d.ethertype == (d.ip_version == 4 ? 0x0800 : 0x86DD));
  DC_FUZZ_CHECK(d.src.is_v4() == (d.ip_version == 4));
  DC_FUZZ_CHECK(d.l3_len >= (d.ip_version == 4 ? 20 : 40));
  if (d.l4_offset == 0) {
    // Only a non-first fragment has no L4 header.
    DC_FUZZ_CHECK(d.is_fragment && d.frag_offset != 0);
  } else {
    DC_FUZZ_CHECK(d.l4_offset >= d.l3_offset + (d.ip_version == 4 ? 20 : 40));
    DC_FUZZ_CHECK(d.l4_offset <= d.payload_offset);
  }
  DC_FUZZ_CHECK(d.payload_offset >= d.l3_offset);
  DC_FUZZ_CHECK(std::size_t{d.payload_offset} + d.payload_len <=
                std::size_t{d.l3_offset} + d.l3_len);
  DC_FUZZ_CHECK(!d.more_fragments || d.is_fragment);
}

// decode()'s fast path (Ethernet + IPv4 without options + TCP/UDP) against the general decoder:
// the same fields, every one.
bool same_fields(const Decoded& a, const Decoded& b) {
  return a.l3_offset == b.l3_offset && a.l4_offset == b.l4_offset &&
         a.payload_offset == b.payload_offset && a.payload_len == b.payload_len &&
         a.ethertype == b.ethertype && a.vlan_outer == b.vlan_outer &&
         a.vlan_inner == b.vlan_inner && a.vlan_count == b.vlan_count &&
         a.ip_version == b.ip_version && a.proto == b.proto && a.tcp_flags == b.tcp_flags &&
         a.icmp_type == b.icmp_type && a.icmp_code == b.icmp_code && a.ttl == b.ttl &&
         a.is_fragment == b.is_fragment && a.more_fragments == b.more_fragments &&
         a.frag_offset == b.frag_offset && a.frag_id == b.frag_id && a.l3_len == b.l3_len &&
         a.src == b.src && a.dst == b.dst && a.sport == b.sport && a.dport == b.dport &&
         a.tcp_seq == b.tcp_seq && a.tcp_ack == b.tcp_ack && a.tcp_window == b.tcp_window &&
         a.trailer_len == b.trailer_len && a.ipv6_segments_left == b.ipv6_segments_left &&
         a.tcp_urgent == b.tcp_urgent;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr DecodeOptions kOptions[] = {
      {},
      {.verify_ipv4_checksum = false},
      {.verify_ipv4_checksum = false, .max_ipv6_ext_headers = 0},
      {.verify_ipv4_checksum = false, .max_ipv6_ext_headers = 255},
  };
  const std::span<const uint8_t> frame(data, size);
  for (const auto& opts : kOptions) {
    Decoded d;
    const DecodeStatus r = dc::inspect::decode(frame, d, opts);
    DC_FUZZ_CHECK(r < DecodeStatus::kCount);
    DC_FUZZ_CHECK(dc::inspect::decode_status_name(r)[0] != '\0');
    if (r == DecodeStatus::kOk) check_accepted(d, size);
    Decoded again;
    DC_FUZZ_CHECK(dc::inspect::decode(frame, again, opts) == r);  // pure function
    Decoded general;
    DC_FUZZ_CHECK(dc::inspect::detail::decode_general(frame, general, opts) == r);
    DC_FUZZ_CHECK(r != DecodeStatus::kOk || same_fields(d, general));
  }
  return 0;
}
