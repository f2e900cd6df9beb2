#include "appliance/telemetry.hpp"

#include <rte_telemetry.h>

#include <mutex>

namespace dc::appliance {
namespace {

// Control plane only: the telemetry thread and the control thread. Never touched by workers.
std::mutex g_mu;
const dataplane::Dataplane* g_plane = nullptr;
const dataplane::DataplaneConfig* g_config = nullptr;
const policy::Snapshot* g_policy = nullptr;
bool g_registered = false;

int cmd_info(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_plane == nullptr) return -1;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "policy_id", g_policy ? g_policy->policy_id().c_str() : "");
  rte_tel_data_add_dict_string(d, "policy_version",
                               g_policy ? g_policy->policy_version().c_str() : "");
  rte_tel_data_add_dict_string(d, "policy_sha256", g_policy ? g_policy->sha256_hex().c_str() : "");
  rte_tel_data_add_dict_u64(d, "workers", g_plane->workers());
  rte_tel_data_add_dict_u64(d, "ports", g_plane->ports().size());
  return 0;
}

int cmd_ports(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_plane == nullptr) return -1;
  auto sum = g_plane->counters();
  rte_tel_data_start_dict(d);
  for (size_t p = 0; p < g_plane->ports().size(); ++p) {
    rte_tel_data* c = rte_tel_data_alloc();
    if (c == nullptr) return -1;
    rte_tel_data_start_dict(c);
    rte_tel_data_add_dict_string(c, "zone", g_config->ports[p].zone_name.c_str());
    rte_tel_data_add_dict_u64(c, "rx_packets", sum.port[p].rx_packets);
    rte_tel_data_add_dict_u64(c, "rx_bytes", sum.port[p].rx_bytes);
    rte_tel_data_add_dict_u64(c, "tx_packets", sum.port[p].tx_packets);
    rte_tel_data_add_dict_u64(c, "tx_bytes", sum.port[p].tx_bytes);
    rte_tel_data_add_dict_container(d, g_plane->ports()[p].name.c_str(), c, 0);
  }
  return 0;
}

int cmd_drops(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_plane == nullptr) return -1;
  auto sum = g_plane->counters();
  rte_tel_data_start_dict(d);
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i)
    rte_tel_data_add_dict_u64(d, dataplane::drop_reason_name(static_cast<dataplane::DropReason>(i)),
                              sum.drops[i]);
  return 0;
}

int cmd_verdicts(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_plane == nullptr) return -1;
  auto sum = g_plane->counters();
  auto fs = g_plane->flow_stats();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "allow", sum.verdict_allow);
  rte_tel_data_add_dict_u64(d, "alert", sum.verdict_alert);
  rte_tel_data_add_dict_u64(d, "block", sum.verdict_block);
  rte_tel_data_add_dict_u64(d, "findings", sum.findings);
  rte_tel_data_add_dict_u64(d, "held", sum.held);
  rte_tel_data_add_dict_u64(d, "resets_sent", sum.resets_sent);
  rte_tel_data_add_dict_u64(d, "records_lost", sum.events_lost);
  rte_tel_data_add_dict_u64(d, "forwarded", sum.forwarded);
  rte_tel_data_add_dict_u64(d, "dropped", sum.dropped);
  rte_tel_data_add_dict_u64(d, "flows_created", fs.created);
  rte_tel_data_add_dict_u64(d, "flows_active", fs.active);
  rte_tel_data_add_dict_u64(d, "flows_refused_table_full", fs.full);
  return 0;
}

}  // namespace

void telemetry_attach(const dataplane::Dataplane* plane, const dataplane::DataplaneConfig* config,
                      const policy::Snapshot* policy) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_plane = plane;
  g_config = config;
  g_policy = policy;
  if (g_registered) return;
  g_registered = true;
  rte_telemetry_register_cmd("/datacustoms/info", cmd_info,
                             "Live policy (id, version, SHA-256), workers, ports. No parameters");
  rte_telemetry_register_cmd("/datacustoms/ports", cmd_ports,
                             "Per port: zone, RX/TX packets and bytes. No parameters");
  rte_telemetry_register_cmd("/datacustoms/drops", cmd_drops,
                             "Every named drop reason and its counter. No parameters");
  rte_telemetry_register_cmd("/datacustoms/verdicts", cmd_verdicts,
                             "Verdicts, findings, held segments, resets, flows. No parameters");
}

std::string prometheus_metrics() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_plane == nullptr) return {};
  auto sum = g_plane->counters();
  auto fs = g_plane->flow_stats();
  std::string out;
  auto head = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto line = [&](const char* name, const std::string& labels, uint64_t v) {
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += " " + std::to_string(v) + "\n";
  };
  // Label values are operator/policy names; escape per the exposition format.
  auto esc = [](const std::string& v) {
    std::string r;
    for (char c : v) {
      if (c == '\\' || c == '"') r += '\\';
      if (c == '\n') {
        r += "\\n";
        continue;
      }
      r += c;
    }
    return r;
  };
  if (g_policy != nullptr) {
    head("datacustoms_policy_info", "gauge", "The live compliance policy.");
    line("datacustoms_policy_info",
         "id=\"" + esc(g_policy->policy_id()) + "\",version=\"" + esc(g_policy->policy_version()) +
             "\",sha256=\"" + g_policy->sha256_hex() + "\"",
         1);
  }
  struct PortMetric {
    const char* name;
    const char* help;
    uint64_t dataplane::PortCounters::*field;
  } port_metrics[] = {
      {"datacustoms_port_rx_packets_total", "Packets received per port.",
       &dataplane::PortCounters::rx_packets},
      {"datacustoms_port_rx_bytes_total", "Bytes received per port.",
       &dataplane::PortCounters::rx_bytes},
      {"datacustoms_port_tx_packets_total", "Packets sent per port.",
       &dataplane::PortCounters::tx_packets},
      {"datacustoms_port_tx_bytes_total", "Bytes sent per port.",
       &dataplane::PortCounters::tx_bytes},
  };
  for (const auto& pm : port_metrics) {
    head(pm.name, "counter", pm.help);
    for (size_t p = 0; p < g_plane->ports().size(); ++p)
      line(pm.name,
           "port=\"" + esc(g_plane->ports()[p].name) + "\",zone=\"" +
               esc(g_config->ports[p].zone_name) + "\"",
           sum.port[p].*pm.field);
  }
  head("datacustoms_drops_total", "counter", "Packets dropped, by named reason.");
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i)
    line("datacustoms_drops_total",
         std::string("reason=\"") +
             dataplane::drop_reason_name(static_cast<dataplane::DropReason>(i)) + "\"",
         sum.drops[i]);
  head("datacustoms_flow_verdicts_total", "counter", "Flows by final verdict.");
  line("datacustoms_flow_verdicts_total", "verdict=\"allow\"", sum.verdict_allow);
  line("datacustoms_flow_verdicts_total", "verdict=\"alert\"", sum.verdict_alert);
  line("datacustoms_flow_verdicts_total", "verdict=\"block\"", sum.verdict_block);
  struct Plain {
    const char* name;
    const char* type;
    const char* help;
    uint64_t v;
  } plain[] = {
      {"datacustoms_forwarded_packets_total", "counter", "Packets forwarded.", sum.forwarded},
      {"datacustoms_dropped_packets_total", "counter", "Packets dropped (all reasons).",
       sum.dropped},
      {"datacustoms_findings_total", "counter", "Confirmed detector findings.", sum.findings},
      {"datacustoms_held_segments_total", "counter", "Out-of-order TCP segments held.", sum.held},
      {"datacustoms_tcp_resets_total", "counter", "TCP resets sent for blocked flows.",
       sum.resets_sent},
      {"datacustoms_flow_records_lost_total", "counter", "Flow records with no free event slot.",
       sum.events_lost},
      {"datacustoms_flows_created_total", "counter", "Flows created.", fs.created},
      {"datacustoms_flows_refused_total", "counter", "New flows refused: flow table full.",
       fs.full},
      {"datacustoms_flows_active", "gauge", "Flows in the flow tables.", fs.active},
  };
  for (const auto& m : plain) {
    head(m.name, m.type, m.help);
    line(m.name, "", m.v);
  }
  return out;
}

void telemetry_detach() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_plane = nullptr;
  g_config = nullptr;
  g_policy = nullptr;
}

}  // namespace dc::appliance
