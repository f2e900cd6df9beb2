// DPDK telemetry commands and Prometheus text, both walked from dataplane/counters.def.
#include "appliance/telemetry.hpp"

#include <rte_telemetry.h>

#include <cstring>
#include <mutex>

namespace dc::appliance {
namespace {

// Control plane only: the telemetry thread and the control thread. Never touched by workers.
std::mutex g_mu;
const dataplane::Dataplane* g_plane = nullptr;
const dataplane::DataplaneConfig* g_config = nullptr;
const policy::Snapshot* g_policy = nullptr;
const KeyIntake* g_keys = nullptr;
bool g_registered = false;

// The key intake's counters: name, value, help (for /datacustoms/keys and /metrics).
struct KeyCounter {
  const char* key;
  uint64_t KeyIntakeStats::*field;
  const char* help;
};
constexpr KeyCounter kKeyCounters[] = {
    {"keys_received", &KeyIntakeStats::keys_received, "Key log lines accepted by the key intake."},
    {"keys_rejected", &KeyIntakeStats::keys_rejected,
     "Key log lines rejected by the key intake's syntax check (incl. over-long)."},
    {"keys_overlong", &KeyIntakeStats::keys_overlong, "Key log lines rejected as over-long."},
    {"keys_ignored", &KeyIntakeStats::keys_ignored,
     "Comments and key log labels not used for decryption."},
    {"keys_dropped_full", &KeyIntakeStats::keys_dropped_full,
     "Accepted keys that at least one worker's hand-off queue had no room for."},
    {"key_connections", &KeyIntakeStats::connections, "Connections to the key socket served."},
    {"key_connections_refused", &KeyIntakeStats::connections_refused,
     "Connections to the key socket refused (uid not allowed, too many clients)."},
};

// datacustoms_<key>_total counters (Prometheus text).
void append_key_metrics(std::string& out, const KeyIntakeStats& st) {
  for (const auto& k : kKeyCounters) {
    std::string name = std::string("datacustoms_") + k.key + "_total";
    out += "# HELP " + name + " " + k.help + "\n# TYPE " + name + " counter\n";
    out += name + " " + std::to_string(st.*k.field) + "\n";
  }
}

int cmd_keys(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_keys == nullptr) return -1;
  auto st = g_keys->stats();
  rte_tel_data_start_dict(d);
  for (const auto& k : kKeyCounters) rte_tel_data_add_dict_u64(d, k.key, st.*k.field);
  return 0;
}

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
    for (const auto& pc : dataplane::kPortCounterInfo)
      rte_tel_data_add_dict_u64(c, pc.key, (sum.port[p].*pc.field).load());
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
                              sum.drops[i].load());
  return 0;
}

int cmd_verdicts(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_plane == nullptr) return -1;
  auto sum = g_plane->counters();
  auto fs = g_plane->flow_stats();
  rte_tel_data_start_dict(d);
  // The verdicts and totals sections of the final table, then the flow table's statistics.
  for (const auto& c : dataplane::kCounterInfo)
    if (c.section == dataplane::CounterSection::kVerdicts ||
        c.section == dataplane::CounterSection::kTotals)
      rte_tel_data_add_dict_u64(d, c.key, (sum.*c.field).load());
  rte_tel_data_add_dict_u64(d, "flows_created", fs.created.load());
  rte_tel_data_add_dict_u64(d, "flows_active", fs.active.load());
  rte_tel_data_add_dict_u64(d, "flows_refused_table_full", fs.full.load());
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
  rte_telemetry_register_cmd("/datacustoms/keys", cmd_keys,
                             "Key intake: keys received, rejected, dropped. No parameters");
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
  for (const auto& pm : dataplane::kPortCounterInfo) {
    head(pm.metric, "counter", pm.help);
    for (size_t p = 0; p < g_plane->ports().size(); ++p)
      line(pm.metric,
           "port=\"" + esc(g_plane->ports()[p].name) + "\",zone=\"" +
               esc(g_config->ports[p].zone_name) + "\"",
           (sum.port[p].*pm.field).load());
  }
  head("datacustoms_drops_total", "counter", "Packets dropped, by named reason.");
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i)
    line("datacustoms_drops_total",
         std::string("reason=\"") +
             dataplane::drop_reason_name(static_cast<dataplane::DropReason>(i)) + "\"",
         sum.drops[i].load());
  // One family per metric name; rows sharing a name differ by their labels.
  const char* family = "";
  for (const auto& c : dataplane::kCounterInfo) {
    if (*c.metric == '\0') continue;
    if (std::strcmp(c.metric, family) != 0) head(c.metric, "counter", c.help);
    family = c.metric;
    line(c.metric, c.metric_labels, (sum.*c.field).load());
  }
  struct Plain {
    const char* name;
    const char* type;
    const char* help;
    uint64_t v;
  } flows[] = {
      {"datacustoms_flows_created_total", "counter", "Flows created.", fs.created.load()},
      {"datacustoms_flows_refused_total", "counter", "New flows refused: flow table full.",
       fs.full.load()},
      {"datacustoms_flows_active", "gauge", "Flows in the flow tables.", fs.active.load()},
  };
  for (const auto& m : flows) {
    head(m.name, m.type, m.help);
    line(m.name, "", m.v);
  }
  if (g_keys != nullptr) append_key_metrics(out, g_keys->stats());
  return out;
}

void telemetry_attach_keys(const KeyIntake* intake) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_keys = intake;
}

void telemetry_detach() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_keys = nullptr;
  g_plane = nullptr;
  g_config = nullptr;
  g_policy = nullptr;
}

}  // namespace dc::appliance
