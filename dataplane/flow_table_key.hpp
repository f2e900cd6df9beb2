#pragma once
// The flow table's compact 16-byte hash key: an IPv4 flow's whole symmetric 5-tuple, or for IPv6 a
// reference to a tuple compared by the table's own rte_hash compare function (flow_key_equal).
#include <cstdint>

#include "dataplane/flow.hpp"

namespace dc::dataplane {

// IPv4 (both addresses IPv4-mapped): the endpoints ordered as integers (address, then port), host
// byte order, so both directions give the same 16 bytes. IPv6: `a` holds the address of a
// FlowTuple (the packet's while looking up, the flow's initiator once stored), `ports` is zero;
// two IPv6 keys are equal when their tuples are the same connection in either direction. 16
// bytes instead of 48: the key store entry is 32 bytes instead of 64, and an IPv4 compare is two
// 64-bit compares.
struct alignas(8) FlowKey {
  uint64_t a = 0;      // IPv4: lo address << 32 | hi address; IPv6: const FlowTuple*
  uint32_t ports = 0;  // IPv4: lo port << 16 | hi port
  uint8_t proto = 0;
  uint8_t family = 0;  // kFamilyV4 or kFamilyV6
  uint16_t vlan = 0;
};
static_assert(sizeof(FlowKey) == 16);
inline constexpr uint8_t kFamilyV4 = 4, kFamilyV6 = 6;

// Builds the symmetric key of `t` (for IPv6 it refers to `t`, which must outlive its use) and its
// hash signature (the same for both directions; over the ordered tuple for IPv6). `swapped` is
// true when t.src is the "hi" endpoint (addresses compared as big-endian integers, then ports).
FlowKey make_flow_key(const FlowTuple& t, bool& swapped, uint32_t& sig) noexcept;
inline FlowKey make_flow_key(const FlowTuple& t, bool& swapped) noexcept {
  uint32_t sig;
  return make_flow_key(t, swapped, sig);
}

// rte_hash compare function (rte_hash_cmp_eq_t): 0 when the keys name the same flow.
int flow_key_equal(const void* key1, const void* key2, std::size_t key_len);

}  // namespace dc::dataplane
