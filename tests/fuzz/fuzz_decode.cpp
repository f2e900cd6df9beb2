// libFuzzer target for the packet decoder (inspect/packet/decode.hpp).
//
// Beyond "no crash, no sanitizer report", it checks the layout invariants the dataplane relies on
// for every accepted frame, so a decoder bug that returns kOk with bad offsets is a crash too.
// Each input is decoded under several option sets: with the IPv4 checksum check off, random
// mutations reach the L4 code instead of stopping at the checksum.
#include <cstdio>
#include <cstdlib>

#include "inspect/packet/decode.hpp"

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
  }
  return 0;
}
