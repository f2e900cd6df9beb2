#pragma once
// Which flow an IP datagram's later fragments belong to (they carry no ports): remembered from
// its first fragment, keyed by (src, dst, protocol, IP ID). Direct-mapped, fixed size, allocated
// once; a collision forgets the older datagram, whose later fragments are then dropped (fail
// closed). Owned by one worker's pipeline; no locks, no allocation per packet.
#include <cstdint>
#include <memory>

#include "inspect/packet/decode.hpp"

namespace dc::dataplane {

class FragmentTable {
 public:
  // Where a datagram's first fragment went: the flow (slot and id, to detect reuse) and its
  // direction relative to the flow's initiator.
  struct Entry {
    inspect::IpAddr src, dst;
    uint32_t ip_id = 0;
    uint8_t proto = 0;
    uint8_t dir = 0;
    uint32_t slot = 0;
    uint64_t flow_id = 0;
    int64_t seen_ns = 0;
  };
  // Later fragments arriving after this long are not matched (RFC 791 reassembly timeouts are
  // shorter).
  static constexpr int64_t kLifetimeNs = 30'000'000'000LL;

  FragmentTable() : entries_(std::make_unique<Entry[]>(kEntries)) {}
  // Remembers the first fragment `d` of a datagram of flow (slot, flow_id) in direction `dir`.
  void remember(const inspect::Decoded& d, uint8_t dir, uint32_t slot, uint64_t flow_id,
                int64_t now_ns) noexcept;
  // The entry of the datagram of the later fragment `d`, or nullptr when unknown or too old.
  const Entry* find(const inspect::Decoded& d, int64_t now_ns) const noexcept;

 private:
  static constexpr uint32_t kEntries = 1024;  // power of two
  Entry& bucket(const inspect::Decoded& d) const noexcept;
  std::unique_ptr<Entry[]> entries_;
};

}  // namespace dc::dataplane
