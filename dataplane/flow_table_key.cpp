// The flow table's compact key: ordering, hashing and comparing IPv4 keys and IPv6 tuple
// references.
#include "dataplane/flow_table_key.hpp"

#include <cstring>

#include "dataplane/flow_table_key_inline.hpp"

namespace dc::dataplane {

namespace key_detail {

// The IPv6 key: ordered by comparing each address as two big-endian 64-bit halves (memcmp order).
FlowKey v6_key(const FlowTuple& t, bool& swapped, uint32_t& sig) noexcept {
  const uint64_t sh = load_be64(t.src.bytes.data()), dh = load_be64(t.dst.bytes.data());
  const uint64_t sl = load_be64(t.src.bytes.data() + 8), dl = load_be64(t.dst.bytes.data() + 8);
  swapped = sh != dh ? sh > dh : sl != dl ? sl > dl : t.sport > t.dport;
  const uint8_t* lo = swapped ? t.dst.bytes.data() : t.src.bytes.data();
  const uint8_t* hi = swapped ? t.src.bytes.data() : t.dst.bytes.data();
  const uint32_t ports =
      swapped ? (uint32_t{t.dport} << 16 | t.sport) : (uint32_t{t.sport} << 16 | t.dport);
  uint64_t w[5];
  std::memcpy(&w[0], lo, 16);
  std::memcpy(&w[2], hi, 16);
  w[4] = uint64_t{ports} << 32 | uint64_t{t.proto} << 16 | t.vlan;
  sig = rte_hash_crc(w, sizeof w, kSeed);
  FlowKey k;
  k.a = reinterpret_cast<uintptr_t>(&t);
  k.proto = t.proto;
  k.family = kFamilyV6;
  k.vlan = t.vlan;
  return k;
}

}  // namespace key_detail

namespace {

bool same_connection(const FlowTuple& p, const FlowTuple& q) noexcept {
  if (p.proto != q.proto || p.vlan != q.vlan) return false;
  if (p.sport == q.sport && p.dport == q.dport && p.src == q.src && p.dst == q.dst) return true;
  return p.sport == q.dport && p.dport == q.sport && p.src == q.dst && p.dst == q.src;
}

}  // namespace

FlowKey make_flow_key(const FlowTuple& t, bool& swapped, uint32_t& sig) noexcept {
  return key_detail::make_key(t, swapped, sig);
}

int flow_key_equal(const void* key1, const void* key2, std::size_t) {
  FlowKey x, y;
  std::memcpy(&x, key1, sizeof x);
  std::memcpy(&y, key2, sizeof y);
  uint64_t xr, yr;
  std::memcpy(&xr, reinterpret_cast<const char*>(&x) + 8, 8);
  std::memcpy(&yr, reinterpret_cast<const char*>(&y) + 8, 8);
  if (x.a == y.a && xr == yr) return 0;  // IPv4, or the same IPv6 tuple
  if (x.family != kFamilyV6 || xr != yr) return 1;
  const auto* p = reinterpret_cast<const FlowTuple*>(static_cast<uintptr_t>(x.a));
  const auto* q = reinterpret_cast<const FlowTuple*>(static_cast<uintptr_t>(y.a));
  return same_connection(*p, *q) ? 0 : 1;
}

}  // namespace dc::dataplane
