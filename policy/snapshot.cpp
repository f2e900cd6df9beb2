// The Snapshot's lookups (zones, links, categories, counterparties, detectors), the per-flow
// findings tally, the category remap across a policy swap, and human descriptions of verdicts.
#include "policy/snapshot.hpp"

#include <algorithm>

namespace dc::policy {

ZoneId Snapshot::find_zone(std::string_view id) const noexcept {
  for (std::size_t i = 0; i < zones_.size(); ++i) {
    if (zones_[i].id == id) return static_cast<ZoneId>(i);
  }
  return kNoZone;
}

ZoneId Snapshot::zone_of(const inspect::IpAddr& a) const noexcept {
  uint32_t z = zone_table_.lookup(a);
  return z == RangeTable::kNone ? kNoZone : static_cast<ZoneId>(z);
}

bool Snapshot::zone_contains(ZoneId z, const inspect::IpAddr& a) const noexcept {
  return z != kNoZone && zone_of(a) == z;
}

bool Snapshot::zone_has_prefixes(ZoneId z) const noexcept {
  return z < zones_.size() && !zones_[z].prefixes.empty();
}

ZoneKind Snapshot::zone_kind(ZoneId z) const noexcept {
  return z < zones_.size() ? zones_[z].kind : ZoneKind::kDomestic;
}

ExporterId Snapshot::find_exporter(std::string_view id) const noexcept {
  for (std::size_t i = 0; i < exporters_.size(); ++i) {
    if (exporters_[i].id == id) return static_cast<ExporterId>(i);
  }
  return kNoExporter;
}

ExporterId Snapshot::exporter_of(ZoneId z, const inspect::IpAddr& a) const noexcept {
  uint32_t e = exporter_table_.lookup(a);
  if (e != RangeTable::kNone) return static_cast<ExporterId>(e);
  return z < zone_exporter_.size() ? zone_exporter_[z] : kNoExporter;
}

LinkId Snapshot::link_between(ZoneId from, ZoneId to) const noexcept {
  std::size_t n = zones_.size();
  if (from >= n || to >= n) return kNoLink;
  return link_matrix_[static_cast<std::size_t>(from) * n + to];
}

CategoryId Snapshot::find_category(std::string_view id) const noexcept {
  for (std::size_t i = 0; i < categories_.size(); ++i) {
    if (categories_[i].id == id) return static_cast<CategoryId>(i);
  }
  return kNoCategory;
}

CounterpartyId Snapshot::find_counterparty(std::string_view id) const noexcept {
  for (std::size_t i = 0; i < counterparties_.size(); ++i) {
    if (counterparties_[i].id == id) return static_cast<CounterpartyId>(i);
  }
  return kNoCounterparty;
}

uint64_t Snapshot::detector_categories(uint32_t detector_index) const noexcept {
  return detector_index < detector_categories_.size() ? detector_categories_[detector_index] : 0;
}

void Snapshot::add_finding(CategoryTally& t, uint32_t detector_index, Confidence confidence,
                           uint32_t n) const noexcept {
  uint64_t mask = detector_categories(detector_index);
  while (mask) {
    unsigned c = static_cast<unsigned>(__builtin_ctzll(mask));
    mask &= mask - 1;
    if (confidence < categories_[c].min_confidence) continue;  // §4.1: below the floor
    uint64_t bit = 1ull << c;
    t.seen |= bit;
    CategoryTally::Slot* slot = nullptr;
    for (auto& s : t.slots) {
      if (s.category == c || s.category == kNoCategory) {
        slot = &s;
        break;
      }
    }
    if (!slot) {
      t.overflow |= bit;
      continue;
    }
    slot->category = static_cast<CategoryId>(c);
    slot->count = static_cast<uint16_t>(std::min<uint32_t>(65535u, slot->count + n));
    slot->max_confidence =
        std::max<uint8_t>(slot->max_confidence, static_cast<uint8_t>(confidence));
    if (slot->detector == kNoDetector) slot->detector = static_cast<uint16_t>(detector_index);
  }
}

CategoryRemap remap_categories(const Snapshot& from, const Snapshot& to) {
  CategoryRemap m;
  m.to.fill(kNoCategory);
  for (std::size_t c = 0; c < from.category_count() && c < kMaxCategories; ++c) {
    m.to[c] = to.find_category(from.category(static_cast<CategoryId>(c)).id);
  }
  return m;
}

void apply_remap(const CategoryRemap& m, CategoryTally& t) noexcept {
  auto remap_mask = [&](uint64_t mask) noexcept {
    uint64_t out = 0;
    while (mask) {
      unsigned c = static_cast<unsigned>(__builtin_ctzll(mask));
      mask &= mask - 1;
      if (m.to[c] != kNoCategory) out |= 1ull << m.to[c];
    }
    return out;
  };
  t.seen = remap_mask(t.seen);
  t.overflow = remap_mask(t.overflow);
  for (auto& s : t.slots) {
    if (s.category == kNoCategory) continue;
    s.category = m.to[s.category];
    if (s.category == kNoCategory) s = CategoryTally::Slot{};
    // The detector index belongs to the old database; keep it only as a hint for the audit.
  }
}

std::string Snapshot::describe(const Reason& r) const {
  std::string s(reason_name(r.kind));
  std::string args;
  auto add = [&](const std::string& k, const std::string& v) {
    args += (args.empty() ? "" : ", ") + k + "=" + v;
  };
  if (r.category < categories_.size()) add("category", categories_[r.category].id);
  if (r.counterparty < counterparties_.size())
    add("counterparty", counterparties_[r.counterparty].id);
  if (r.basis < bases_.size()) add("basis", bases_[r.basis].id);
  if (r.detector < detector_names_.size()) add("detector", detector_names_[r.detector]);
  if (r.count) add("count", std::to_string(r.count));
  if (r.kind != ReasonKind::kMonitorMode) add("rule_action", std::string(action_name(r.action)));
  return s + "(" + args + ")";
}

std::string Snapshot::describe(const Verdict& v) const {
  std::string s(action_name(v.action));
  s += ":";
  for (std::size_t i = 0; i < v.reason_count; ++i) s += " " + describe(v.reasons[i]);
  if (v.truncated) s += " ...";
  return s;
}

}  // namespace dc::policy
