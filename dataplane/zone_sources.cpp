// Per-zone IPv4 source sets, derived from the snapshot's zones (zone_sources.hpp).
#include "dataplane/zone_sources.hpp"

#include <algorithm>

namespace dc::dataplane {

// The snapshot's zone table changes value only at a prefix's first address or just after its last
// (policy::RangeTable's segments); so the IPv4 space cut at every zone prefix's edges gives pieces
// on which Snapshot::zone_of is constant, and asking it once per piece gives its exact answer.
ZoneSources ZoneSources::build(const policy::Snapshot& s) {
  using policy::U128;
  // The IPv4-mapped block ::ffff:0.0.0.0 - ::ffff:255.255.255.255 of the 128-bit space.
  constexpr U128 kV4First{0, 0x0000ffff00000000ull};
  constexpr U128 kV4Last{0, 0x0000ffffffffffffull};
  const size_t nz = s.zone_count();
  std::vector<uint32_t> cuts{0};
  for (size_t z = 0; z < nz; ++z) {
    for (const policy::Prefix& p : s.zone(static_cast<policy::ZoneId>(z)).prefixes) {
      const U128 f = p.first(), l = p.last();
      if (kV4First < f && f <= kV4Last) cuts.push_back(static_cast<uint32_t>(f.lo));
      if (kV4First <= l && l < kV4Last) cuts.push_back(static_cast<uint32_t>(l.lo) + 1);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<policy::ZoneId> zone_at(cuts.size());
  for (size_t i = 0; i < cuts.size(); ++i)
    zone_at[i] = s.zone_of(inspect::IpAddr::from_v4(cuts[i]));

  ZoneSources out;
  std::vector<std::pair<uint32_t, uint32_t>> runs(nz);  // (offset, count) into bounds_
  std::vector<bool> first_in(nz);
  for (size_t z = 0; z < nz; ++z) {
    runs[z].first = static_cast<uint32_t>(out.bounds_.size());
    bool prev = false;
    for (size_t i = 0; i < cuts.size(); ++i) {
      const bool in = zone_at[i] == z;
      if (i == 0) {
        first_in[z] = in;
      } else if (in == prev) {
        continue;  // membership unchanged: no bound
      }
      out.bounds_.push_back(cuts[i]);
      prev = in;
    }
    runs[z].second = static_cast<uint32_t>(out.bounds_.size()) - runs[z].first;
  }
  out.sets_.resize(nz);
  for (size_t z = 0; z < nz; ++z)
    out.sets_[z] = Set{out.bounds_.data() + runs[z].first, runs[z].second, first_in[z]};
  return out;
}

}  // namespace dc::dataplane
