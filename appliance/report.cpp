#include "appliance/report.hpp"

#include <rte_ethdev.h>

#include <cinttypes>
#include <nlohmann/json.hpp>

namespace dc::appliance {

void print_final_counters(FILE* out, const dataplane::Dataplane& plane,
                          const dataplane::DataplaneConfig& config) {
  using dataplane::WorkerCounters;
  WorkerCounters sum = plane.counters();
  std::fprintf(out, "\n== ports ==\n");
  std::fprintf(out, "%-12s %-12s %12s %14s %12s %14s %10s %10s\n", "port", "zone", "rx_packets",
               "rx_bytes", "tx_packets", "tx_bytes", "hw_missed", "hw_errors");
  for (size_t p = 0; p < plane.ports().size(); ++p) {
    const auto& pi = plane.ports()[p];
    rte_eth_stats st{};
    (void)rte_eth_stats_get(pi.port_id, &st);
    const auto& pc = sum.port[p];
    std::fprintf(out,
                 "%-12s %-12s %12" PRIu64 " %14" PRIu64 " %12" PRIu64 " %14" PRIu64 " %10" PRIu64
                 " %10" PRIu64 "\n",
                 pi.name.c_str(), config.ports[p].zone_name.c_str(), pc.rx_packets, pc.rx_bytes,
                 pc.tx_packets, pc.tx_bytes, st.imissed, st.ierrors + st.oerrors);
  }
  std::fprintf(out, "\n== workers ==\n");
  std::fprintf(out, "%-8s %12s %12s %12s %12s %12s\n", "worker", "rx_packets", "forwarded",
               "dropped", "flows_new", "flows_expired");
  auto per = plane.worker_counters();
  for (size_t w = 0; w < per.size(); ++w) {
    uint64_t rx = 0;
    for (const auto& p : per[w].port) rx += p.rx_packets;
    std::fprintf(out,
                 "%-8zu %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", w,
                 rx, per[w].forwarded, per[w].dropped, per[w].flows_created, per[w].flows_expired);
  }
  std::fprintf(out, "\n== drops by reason ==\n");
  bool any = false;
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i) {
    if (sum.drops[i] == 0) continue;
    any = true;
    auto r = static_cast<dataplane::DropReason>(i);
    std::fprintf(out, "%-26s %12" PRIu64 "  %s\n", dataplane::drop_reason_name(r), sum.drops[i],
                 dataplane::drop_reason_description(r));
  }
  if (!any) std::fprintf(out, "(none)\n");
  std::fprintf(out,
               "\n== verdicts ==\nallow %" PRIu64 ", alert %" PRIu64 ", block %" PRIu64
               ", findings %" PRIu64 ", out-of-order segments held %" PRIu64
               ", flow records lost %" PRIu64 ", TCP resets sent %" PRIu64 "\n",
               sum.verdict_allow, sum.verdict_alert, sum.verdict_block, sum.findings, sum.held,
               sum.events_lost, sum.resets_sent);
  auto fs = plane.flow_stats();
  std::fprintf(out, "\n== flows ==\n");
  std::fprintf(out,
               "created %" PRIu64 ", expired %" PRIu64 ", active %" PRIu64
               ", refused (table full) %" PRIu64 "\n",
               fs.created, fs.expired, fs.active, fs.full);
  std::fprintf(out,
               "\n== totals ==\nforwarded %" PRIu64 ", dropped %" PRIu64
               ", unknown EtherType forwarded %" PRIu64 ", fragments %" PRIu64 "\n",
               sum.forwarded, sum.dropped, sum.unknown_ethertype_forwarded, sum.fragments);
}

std::string counters_json(const dataplane::Dataplane& plane,
                          const dataplane::DataplaneConfig& config) {
  nlohmann::ordered_json j;
  auto sum = plane.counters();
  for (size_t p = 0; p < plane.ports().size(); ++p) {
    const auto& pc = sum.port[p];
    rte_eth_stats st{};
    (void)rte_eth_stats_get(plane.ports()[p].port_id, &st);
    j["ports"][plane.ports()[p].name] = {{"zone", config.ports[p].zone_name},
                                         {"rx_packets", pc.rx_packets},
                                         {"rx_bytes", pc.rx_bytes},
                                         {"tx_packets", pc.tx_packets},
                                         {"tx_bytes", pc.tx_bytes},
                                         {"hw_missed", st.imissed},
                                         {"hw_errors", st.ierrors + st.oerrors}};
  }
  j["workers"] = nlohmann::ordered_json::array();
  for (const auto& w : plane.worker_counters()) {
    uint64_t rx = 0;
    for (const auto& p : w.port) rx += p.rx_packets;
    j["workers"].push_back({{"rx_packets", rx},
                            {"forwarded", w.forwarded},
                            {"dropped", w.dropped},
                            {"flows_created", w.flows_created},
                            {"flows_expired", w.flows_expired}});
  }
  j["drops"] = nlohmann::ordered_json::object();
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i)
    j["drops"][dataplane::drop_reason_name(static_cast<dataplane::DropReason>(i))] = sum.drops[i];
  auto fs = plane.flow_stats();
  j["flows"] = {{"created", fs.created},
                {"expired", fs.expired},
                {"active", fs.active},
                {"refused_table_full", fs.full}};
  j["verdicts"] = {{"allow", sum.verdict_allow},
                   {"alert", sum.verdict_alert},
                   {"block", sum.verdict_block},
                   {"findings", sum.findings},
                   {"held", sum.held},
                   {"records_lost", sum.events_lost},
                   {"resets_sent", sum.resets_sent}};
  j["totals"] = {{"forwarded", sum.forwarded},
                 {"dropped", sum.dropped},
                 {"unknown_ethertype_forwarded", sum.unknown_ethertype_forwarded},
                 {"fragments", sum.fragments}};
  return j.dump(2) + "\n";
}

}  // namespace dc::appliance
