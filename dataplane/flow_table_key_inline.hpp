#pragma once
// The IPv4 flow key built inline (flow_table_key.hpp says what the key is). Included only by the
// two files that build keys per packet (flow_table_key.cpp, flow_table.cpp), so that the bulk
// lookup builds each key in registers without a call: the out-of-line make_flow_key with its
// out-of-line IpAddr::v4() was 7 % of the forwarding worker's cycles.
#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include <cstring>

#include "dataplane/flow_table_key.hpp"

namespace dc::dataplane::key_detail {

inline constexpr uint32_t kSeed = 0x5eed;

inline uint64_t load_be64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return rte_be_to_cpu_64(v);
}

// The IPv6 key (flow_table_key.cpp).
FlowKey v6_key(const FlowTuple& t, bool& swapped, uint32_t& sig) noexcept;

// Both addresses IPv4-mapped (::ffff:a.b.c.d): bytes 0-9 zero, 10-11 0xff.
inline bool both_v4(const FlowTuple& t) noexcept {
  constexpr uint64_t kMapped = 0x0000ffff00000000ull;  // bytes 8-15 masked to 8-11
  constexpr uint64_t kMask = 0xffffffff00000000ull;
  const uint64_t sl = load_be64(t.src.bytes.data() + 8), dl = load_be64(t.dst.bytes.data() + 8);
  return (load_be64(t.src.bytes.data()) | load_be64(t.dst.bytes.data())) == 0 &&
         (sl & kMask) == kMapped && (dl & kMask) == kMapped;
}

inline FlowKey make_key(const FlowTuple& t, bool& swapped, uint32_t& sig) noexcept {
  if (!both_v4(t)) [[unlikely]]
    return v6_key(t, swapped, sig);
  // The addresses are the low halves of the big-endian 64-bit words already loaded by both_v4.
  const uint32_t s = static_cast<uint32_t>(load_be64(t.src.bytes.data() + 8));
  const uint32_t d = static_cast<uint32_t>(load_be64(t.dst.bytes.data() + 8));
  swapped = s != d ? s > d : t.sport > t.dport;
  FlowKey k;
  k.a = swapped ? (uint64_t{d} << 32 | s) : (uint64_t{s} << 32 | d);
  k.ports = swapped ? (uint32_t{t.dport} << 16 | t.sport) : (uint32_t{t.sport} << 16 | t.dport);
  k.proto = t.proto;
  k.family = kFamilyV4;
  k.vlan = t.vlan;
  // rte_hash_crc(&k, 16, kSeed) over the two 8-byte words, computed from registers.
  const uint64_t w1 = uint64_t{k.ports} | uint64_t{k.proto} << 32 | uint64_t{k.family} << 40 |
                      uint64_t{k.vlan} << 48;
  sig = rte_hash_crc_8byte(w1, rte_hash_crc_8byte(k.a, kSeed));
  return k;
}

}  // namespace dc::dataplane::key_detail
