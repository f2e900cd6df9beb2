// The final counter tables and their JSON form, walked from dataplane/counters.def.
#include "appliance/report.hpp"

#include <rte_ethdev.h>

#include <cinttypes>
#include <nlohmann/json.hpp>

namespace dc::appliance {
namespace {

using dataplane::CounterSection;
using dataplane::kCounterInfo;
using dataplane::kPortCounterInfo;
using dataplane::WorkerCounters;

// "allow 3, alert 0, ..." for the counters of one section.
void print_section_line(FILE* out, const WorkerCounters& sum, CounterSection section) {
  const char* sep = "";
  for (const auto& c : kCounterInfo) {
    if (c.section != section) continue;
    std::fprintf(out, "%s%s %" PRIu64, sep, c.label, (sum.*c.field).load());
    sep = ", ";
  }
  std::fprintf(out, "\n");
}

void print_ports(FILE* out, const dataplane::Dataplane& plane,
                 const dataplane::DataplaneConfig& config, const WorkerCounters& sum) {
  std::fprintf(out, "\n== ports ==\n%-12s %-12s", "port", "zone");
  for (const auto& pc : kPortCounterInfo) std::fprintf(out, " %*s", pc.width, pc.key);
  std::fprintf(out, " %10s %10s\n", "hw_missed", "hw_errors");
  for (size_t p = 0; p < plane.ports().size(); ++p) {
    const auto& pi = plane.ports()[p];
    rte_eth_stats st{};
    (void)rte_eth_stats_get(pi.port_id, &st);
    std::fprintf(out, "%-12s %-12s", pi.name.c_str(), config.ports[p].zone_name.c_str());
    for (const auto& pc : kPortCounterInfo)
      std::fprintf(out, " %*" PRIu64, pc.width, (sum.port[p].*pc.field).load());
    std::fprintf(out, " %10" PRIu64 " %10" PRIu64 "\n", st.imissed, st.ierrors + st.oerrors);
  }
}

void print_workers(FILE* out, const dataplane::Dataplane& plane) {
  std::fprintf(out, "\n== workers ==\n%-8s %12s", "worker", "rx_packets");
  for (const auto& c : kCounterInfo)
    if (*c.worker_column) std::fprintf(out, " %12s", c.worker_column);
  std::fprintf(out, "\n");
  auto per = plane.worker_counters();
  for (size_t w = 0; w < per.size(); ++w) {
    std::fprintf(out, "%-8zu %12" PRIu64, w, per[w].rx_packets());
    for (const auto& c : kCounterInfo)
      if (*c.worker_column) std::fprintf(out, " %12" PRIu64, (per[w].*c.field).load());
    std::fprintf(out, "\n");
  }
}

}  // namespace

void print_final_counters(FILE* out, const dataplane::Dataplane& plane,
                          const dataplane::DataplaneConfig& config) {
  WorkerCounters sum = plane.counters();
  print_ports(out, plane, config, sum);
  print_workers(out, plane);
  std::fprintf(out, "\n== drops by reason ==\n");
  bool any = false;
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i) {
    if (sum.drops[i] == 0) continue;
    any = true;
    auto r = static_cast<dataplane::DropReason>(i);
    std::fprintf(out, "%-26s %12" PRIu64 "  %s\n", dataplane::drop_reason_name(r),
                 sum.drops[i].load(), dataplane::drop_reason_description(r));
  }
  if (!any) std::fprintf(out, "(none)\n");
  std::fprintf(out, "\n== verdicts ==\n");
  print_section_line(out, sum, CounterSection::kVerdicts);
  auto fs = plane.flow_stats();
  std::fprintf(out, "\n== flows ==\n");
  std::fprintf(out,
               "created %" PRIu64 ", expired %" PRIu64 ", active %" PRIu64
               ", refused (table full) %" PRIu64 "\n",
               fs.created.load(), fs.expired.load(), fs.active.load(), fs.full.load());
  std::fprintf(out, "\n== totals ==\n");
  print_section_line(out, sum, CounterSection::kTotals);
}

void print_key_counters(FILE* out, const KeyIntakeStats& k) {
  std::fprintf(out,
               "\n== key intake ==\nreceived %" PRIu64 ", rejected %" PRIu64 " (over-long %" PRIu64
               "), ignored %" PRIu64 ", dropped (hand-off full) %" PRIu64 ", connections %" PRIu64
               ", refused %" PRIu64 "\n",
               k.keys_received, k.keys_rejected, k.keys_overlong, k.keys_ignored,
               k.keys_dropped_full, k.connections, k.connections_refused);
}

std::string counters_json(const dataplane::Dataplane& plane,
                          const dataplane::DataplaneConfig& config, const KeyIntakeStats* keys) {
  nlohmann::ordered_json j;
  auto sum = plane.counters();
  for (size_t p = 0; p < plane.ports().size(); ++p) {
    rte_eth_stats st{};
    (void)rte_eth_stats_get(plane.ports()[p].port_id, &st);
    auto& o = j["ports"][plane.ports()[p].name];
    o["zone"] = config.ports[p].zone_name;
    for (const auto& pc : kPortCounterInfo) o[pc.key] = (sum.port[p].*pc.field).load();
    o["hw_missed"] = st.imissed;
    o["hw_errors"] = st.ierrors + st.oerrors;
  }
  j["workers"] = nlohmann::ordered_json::array();
  for (const auto& w : plane.worker_counters()) {
    nlohmann::ordered_json o = {{"rx_packets", w.rx_packets()}};
    for (const auto& c : kCounterInfo)
      if (*c.worker_column) o[c.key] = (w.*c.field).load();
    j["workers"].push_back(o);
  }
  j["drops"] = nlohmann::ordered_json::object();
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i)
    j["drops"][dataplane::drop_reason_name(static_cast<dataplane::DropReason>(i))] =
        sum.drops[i].load();
  auto fs = plane.flow_stats();
  j["flows"] = {{"created", fs.created.load()},
                {"expired", fs.expired.load()},
                {"active", fs.active.load()},
                {"refused_table_full", fs.full.load()}};
  for (const auto& c : kCounterInfo) {
    if (c.section == CounterSection::kVerdicts) j["verdicts"][c.key] = (sum.*c.field).load();
  }
  for (const auto& c : kCounterInfo) {
    if (c.section == CounterSection::kTotals) j["totals"][c.key] = (sum.*c.field).load();
  }
  if (keys != nullptr)
    j["keys"] = {{"keys_received", keys->keys_received},
                 {"keys_rejected", keys->keys_rejected},
                 {"keys_overlong", keys->keys_overlong},
                 {"keys_ignored", keys->keys_ignored},
                 {"keys_dropped_full", keys->keys_dropped_full},
                 {"connections", keys->connections},
                 {"connections_refused", keys->connections_refused}};
  return j.dump(2) + "\n";
}

}  // namespace dc::appliance
