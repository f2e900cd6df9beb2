// One-screen summary printed by `datacustoms policy check`.
#include "inspect/detect/detectors.hpp"
#include "policy/policy.hpp"

namespace dc::policy {

std::string summarize(const Snapshot& s) {
  std::string o;
  o += "policy " + s.policy_id() + " version " + s.policy_version() + "\n";
  o += "  zones (" + std::to_string(s.zone_count()) + "):";
  for (ZoneId z = 0; z < s.zone_count(); ++z) {
    o += " " + s.zone(z).id + "[" + std::string(zone_kind_name(s.zone(z).kind)) + ", " +
         std::to_string(s.zone(z).prefixes.size()) + " prefixes]";
  }
  o += "\n  links (" + std::to_string(s.link_count()) + "):";
  for (LinkId l = 0; l < s.link_count(); ++l) {
    const auto& li = s.link(l);
    o += " " + s.zone(li.from).id + "->" + s.zone(li.to).id;
    o += li.inspect ? "" : "(uninspected)";
    if (li.reply == Reply::kNone) o += "(one-way)";
  }
  if (s.exporter_count() > 0) {
    o += "\n  exporters (" + std::to_string(s.exporter_count()) + "):";
    for (ExporterId e = 0; e < s.exporter_count(); ++e) {
      const ExporterInfo& x = s.exporter(e);
      o += " " + x.id + "[" + x.uscc + (x.ciio ? ", ciio" : "") + "]";
    }
  }
  o += "\n  legal bases (" + std::to_string(s.basis_count()) + "):";
  for (BasisId b = 0; b < s.basis_count(); ++b) {
    o += " " + s.basis(b).id + "[" + std::string(mechanism_name(s.basis(b).mechanism)) + "]";
  }
  o += "\n  counterparties (" + std::to_string(s.counterparty_count()) + ", " +
       std::to_string(s.endpoint_count()) + " endpoints):";
  for (CounterpartyId c = 0; c < s.counterparty_count(); ++c) {
    o += " " + s.counterparty(c).id + "[" + s.counterparty(c).country + ", " +
         std::string(status_name(s.counterparty(c).status)) + "]";
  }
  int by_level[3] = {0, 0, 0}, personal = 0;
  for (CategoryId c = 0; c < s.category_count(); ++c) {
    ++by_level[static_cast<int>(s.category(c).level)];
    personal += s.category(c).personal;
  }
  o += "\n  categories (" + std::to_string(s.category_count()) +
       "): " + std::to_string(by_level[0]) + " core, " + std::to_string(by_level[1]) +
       " important, " + std::to_string(by_level[2]) + " general; " + std::to_string(personal) +
       " personal\n";
  o += "  detectors (" + std::to_string(s.detector_names().size()) + "):";
  for (const auto& d : s.detector_names()) o += " " + d;
  o += "\n";
  if (s.detector_db()) {
    o += "  detector database: " + std::to_string(s.detector_db()->pattern_count()) +
         " patterns, " + std::to_string(s.detector_db()->stream_size()) + " bytes per stream\n";
  }
  o += std::string("  monitor mode: ") +
       (s.monitor_mode() ? "ON (blocks are reported as alerts)" : "off") + "\n";
  o += "  sha256 " + s.sha256_hex() + "\n";
  return o;
}

}  // namespace dc::policy
