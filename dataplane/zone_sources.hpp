#pragma once
// Anti-spoofing on a live port (docs/architecture.md step 2): "is this source's longest-prefix
// zone the port's zone", for an IPv4 source, as one branch-free search of a short sorted
// uint32_t array per zone. Built on the control thread for each policy generation
// (PolicyEpoch::build; Pipeline::create for a fixed policy) from the snapshot's own zone table
// (Snapshot::zone_table), so it gives exactly Snapshot::zone_contains's answer: a more specific
// prefix of another zone inside the port zone's prefixes is not the port zone's.
//
// Why not Snapshot::zone_of per packet: a binary search of 128-bit segment starts over every
// zone's prefixes, out of line, was the top function of the forwarding profile (9.5 % of the
// worker, session 9). Why not rte_lpm: its tbl24 alone is 64 MB per table, for a yes/no per zone
// that a policy's tens to thousands of prefixes answer from a few cache lines; and policy/ stays
// DPDK-free, so the table is derived here rather than compiled there.
//
// A zone's IPv4 space [0, 2^32) is cut at every address where membership changes: bounds[0] = 0,
// and membership alternates from one bound to the next, starting with `first_in`. Sources that are
// not IPv4-mapped (IPv6) are left to Snapshot::zone_contains by the caller.
//
// Lookup: any thread, noexcept, no allocation.
#include <rte_byteorder.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "inspect/packet/decode.hpp"
#include "policy/snapshot.hpp"

namespace dc::dataplane {

class ZoneSources {
 public:
  // One zone's IPv4 membership.
  struct Set {
    const uint32_t* bounds = nullptr;
    uint32_t n = 0;  // >= 1 (bounds[0] == 0)
    bool first_in = false;
    bool contains(uint32_t a) const noexcept {
      // The last bound at or before `a`: a conditional move per step, no mispredicted branch.
      const uint32_t* base = bounds;
      uint32_t k = n;
      while (k > 1) {
        const uint32_t half = k / 2;
        base = base[half] <= a ? base + half : base;
        k -= half;
      }
      return ((base - bounds) & 1) == (first_in ? 0 : 1);
    }
  };

  // Control thread: allocates.
  static ZoneSources build(const policy::Snapshot& s);
  ZoneSources() = default;
  ZoneSources(ZoneSources&&) noexcept =
      default;  // a vector's move keeps its buffer: sets_ stay valid
  ZoneSources& operator=(ZoneSources&&) noexcept = default;
  ZoneSources(const ZoneSources&) = delete;
  ZoneSources& operator=(const ZoneSources&) = delete;

  // Zone z's set, or nullptr when z is not a zone of the snapshot it was built from.
  const Set* set(uint16_t z) const noexcept { return z < sets_.size() ? &sets_[z] : nullptr; }

  // `a` as a host-order IPv4 address when it is IPv4-mapped (::ffff:a.b.c.d, how IPv4 is stored).
  static bool mapped_v4(const inspect::IpAddr& a, uint32_t& v4) noexcept {
    uint64_t hi, lo;
    std::memcpy(&hi, a.bytes.data(), 8);
    std::memcpy(&lo, a.bytes.data() + 8, 8);
    lo = rte_be_to_cpu_64(lo);
    v4 = static_cast<uint32_t>(lo);
    return hi == 0 && (lo >> 32) == 0xffffu;
  }

 private:
  std::vector<uint32_t> bounds_;  // every zone's bounds, one run per zone
  std::vector<Set> sets_;         // by zone id, pointing into bounds_
};

// Snapshot::zone_contains(here, src) through zone `here`'s IPv4 set when there is one (`set` may
// be null: a pipeline without the derived table asks the snapshot).
inline bool source_in_zone(const ZoneSources::Set* set, const policy::Snapshot& snap, uint16_t here,
                           const inspect::IpAddr& src) noexcept {
  uint32_t v4;
  if (set != nullptr && ZoneSources::mapped_v4(src, v4)) [[likely]]
    return set->contains(v4);
  return snap.zone_contains(here, src);
}

}  // namespace dc::dataplane
