// Policy compiler, exporters: the domestic data handlers ([[exporters]]) whose border flows are
// attributed, counted and declared (customs accounting, docs/policy-reference.md §2.9).
#include "inspect/detect/validators.hpp"
#include "policy/compile_internal.hpp"

namespace dc::policy {

// The USCC (GB 32100-2015) names the legal entity; counts are kept per entity, so two entries may
// not share one. A wrong check character is a warning, not an error: early pilot-area codes fail
// the check (docs/detectors.md), and the appliance only uses the code as a label.
void SnapshotBuilder::exporter_uscc(const ExporterDoc& e) {
  const std::string& u = e.uscc.value;
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(u.data()), u.size());
  inspect::Check c = u.size() == 18 ? inspect::validate_uscc(bytes) : inspect::Check::kLength;
  if (c == inspect::Check::kLength || c == inspect::Check::kFormat) {
    d_.error(e.uscc.pos, "uscc '" + u +
                             "' is not a unified social credit code (18 characters from "
                             "0-9 and A-Z without I, O, S, V, Z)");
  } else if (c != inspect::Check::kValid) {
    d_.warning(e.uscc.pos, "uscc '" + u + "' fails its GB 32100 check character");
  }
}

void SnapshotBuilder::exporters() {
  std::vector<RangeTable::Entry> entries;
  std::map<std::pair<U128, uint8_t>, std::string> seen_prefix;
  std::map<std::string, std::string> seen_uscc;
  s_->zone_exporter_.assign(s_->zones_.size(), kNoExporter);
  for (const auto& e : doc_.exporters) {
    ExporterInfo info{e.id.value, e.name.value, e.uscc.value, e.ciio.value, {}, {}};
    const auto id = static_cast<ExporterId>(s_->exporters_.size());
    if (new_id(e.id, "exporter", exporter_ids_)) exporter_ids_[e.id.value] = id;
    exporter_uscc(e);
    if (auto [it, fresh] = seen_uscc.emplace(e.uscc.value, e.id.value); !fresh) {
      d_.error(e.uscc.pos, "uscc '" + e.uscc.value + "' is already exporter '" + it->second +
                               "' (one legal entity is one exporter: list all its zones and "
                               "prefixes there)");
    }
    if (e.zones.empty() && e.prefixes.empty())
      d_.error(e.pos, "exporter '" + e.id.value + "' lists no zones and no prefixes");
    for (const auto& z : e.zones) {
      const ZoneId* zid = find_ref(z, "zone", zone_ids_, " in exporter '" + e.id.value + "'");
      if (!zid) continue;
      if (s_->zones_[*zid].kind == ZoneKind::kForeign) {
        d_.error(z.pos,
                 "zone '" + z.value + "' is foreign: an exporter is a domestic data handler");
      } else if (ExporterId other = s_->zone_exporter_[*zid]; other != kNoExporter) {
        d_.error(z.pos, "zone '" + z.value + "' already belongs to exporter '" +
                            s_->exporters_[other].id + "'");
      } else {
        s_->zone_exporter_[*zid] = id;
        info.zones.push_back(*zid);
      }
    }
    for (const auto& p : e.prefixes) {
      Prefix pf;
      if (auto err = parse_prefix(p.value, pf)) {
        d_.error(p.pos, "bad prefix: " + *err);
        continue;
      }
      auto key = std::make_pair(pf.first(), pf.len);
      if (auto [it, fresh] = seen_prefix.emplace(key, e.id.value); !fresh) {
        d_.error(p.pos,
                 "prefix " + pf.to_string() + " already belongs to exporter '" + it->second + "'");
        continue;
      }
      ZoneId z = s_->zone_of(pf.addr);
      if (z != kNoZone && s_->zones_[z].kind == ZoneKind::kForeign)
        d_.error(p.pos, "prefix " + pf.to_string() + " is in foreign zone '" + s_->zones_[z].id +
                            "': an exporter is a domestic data handler");
      info.prefixes.push_back(pf);
      entries.push_back({pf, id});
    }
    s_->exporters_.push_back(std::move(info));
  }
  if (s_->exporters_.size() >= kNoExporter) d_.error(Pos{}, "too many exporters");
  s_->exporter_table_ = RangeTable::longest_prefix(entries);
}

}  // namespace dc::policy
