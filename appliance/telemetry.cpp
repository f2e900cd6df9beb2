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
  for (size_t i = 1; i < inspect::kDropReasonCount; ++i)
    rte_tel_data_add_dict_u64(d, inspect::drop_reason_name(static_cast<inspect::DropReason>(i)),
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

void telemetry_detach() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_plane = nullptr;
  g_config = nullptr;
  g_policy = nullptr;
}

}  // namespace dc::appliance
