// DPDK telemetry commands (/datacustoms/*), walked from dataplane/counters.def and the control
// plane's registry (appliance/telemetry_state.hpp).
#include "appliance/telemetry.hpp"

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include <cstdlib>
#include <cstring>

#include "appliance/declare_control.hpp"
#include "appliance/telemetry_state.hpp"
#include "policy/prefix_table.hpp"

namespace dc::appliance {
namespace telemetry_state {

Registry& registry() {
  static Registry r;
  return r;
}

DeviceStats device_stats(uint16_t port_id) {
  rte_eth_stats st{};
  DeviceStats d;
  if (rte_eth_stats_get(port_id, &st) != 0) return d;
  d.imissed = st.imissed;
  d.ierrors = st.ierrors;
  d.oerrors = st.oerrors;
  d.rx_nombuf = st.rx_nombuf;
  return d;
}

const KeyCounter kKeyCounters[7] = {
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

}  // namespace telemetry_state

namespace {

using telemetry_state::registry;

// A string array container (nullptr when out of memory); strings are cut at 127 bytes by DPDK.
rte_tel_data* string_array() {
  rte_tel_data* a = rte_tel_data_alloc();
  if (a != nullptr) rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
  return a;
}

int cmd_keys(const char*, const char*, rte_tel_data* d) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.keys == nullptr) return -1;
  auto st = r.keys->stats();
  rte_tel_data_start_dict(d);
  for (const auto& k : telemetry_state::kKeyCounters)
    rte_tel_data_add_dict_u64(d, k.key, st.*k.field);
  return 0;
}

void add_policy(rte_tel_data* d, const telemetry_state::Registry& r) {
  const policy::Snapshot* p = r.policy;
  rte_tel_data_add_dict_string(d, "policy_id", p ? p->policy_id().c_str() : "");
  rte_tel_data_add_dict_string(d, "policy_version", p ? p->policy_version().c_str() : "");
  rte_tel_data_add_dict_string(d, "policy_sha256", p ? p->sha256_hex().c_str() : "");
}

int cmd_info(const char*, const char*, rte_tel_data* d) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.plane == nullptr) return -1;
  rte_tel_data_start_dict(d);
  add_policy(d, r);
  rte_tel_data_add_dict_u64(d, "workers", r.plane->workers());
  rte_tel_data_add_dict_u64(d, "ports", r.plane->ports().size());
  return 0;
}

// Audit health and reload results, flat (a telemetry dict nests one level only).
void add_control(rte_tel_data* d, const ControlView& c) {
  auto now = std::chrono::system_clock::now();
  rte_tel_data_add_dict_u64(
      d, "uptime_s",
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::seconds>(now - c.started).count()));
  rte_tel_data_add_dict_u64(d, "audit_enabled", c.audit != nullptr);
  if (c.audit != nullptr) {
    rte_tel_data_add_dict_u64(d, "audit_writer_ok", c.audit->writer_ok.load());
    rte_tel_data_add_dict_u64(d, "audit_backlog", c.audit->backlog());
    rte_tel_data_add_dict_u64(d, "audit_events_lost", c.audit->lost_outcomes());
  }
  if (c.reloads != nullptr) {
    rte_tel_data_add_dict_u64(d, "reloads_ok", c.reloads->ok.load());
    rte_tel_data_add_dict_u64(d, "reloads_rejected", c.reloads->rejected.load());
    rte_tel_data_add_dict_u64(d, "last_reload_ok_unix",
                              static_cast<uint64_t>(c.reloads->last_ok_unix.load()));
    rte_tel_data_add_dict_u64(d, "last_reload_failed_unix",
                              static_cast<uint64_t>(c.reloads->last_failed_unix.load()));
  }
}

int cmd_status(const char*, const char*, rte_tel_data* d) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.plane == nullptr) return -1;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "version", r.version.c_str());
  rte_tel_data_add_dict_u64(d, "pid", static_cast<uint64_t>(getpid()));
  add_policy(d, r);
  rte_tel_data_add_dict_u64(d, "generation", r.generation);
  rte_tel_data_add_dict_u64(d, "workers", r.plane->workers());
  add_control(d, r.control);
  // ports: "name" -> "zone driver queues"
  rte_tel_data* ports = rte_tel_data_alloc();
  if (ports == nullptr) return -1;
  rte_tel_data_start_array(ports, RTE_TEL_STRING_VAL);
  for (size_t p = 0; p < r.plane->ports().size(); ++p) {
    const auto& pi = r.plane->ports()[p];
    std::string s = pi.name + " zone=" + r.config->ports[p].zone_name + " driver=" + pi.driver +
                    " queues=" + std::to_string(pi.queues) + (pi.rss ? " rss" : "");
    rte_tel_data_add_array_string(ports, s.c_str());
  }
  rte_tel_data_add_dict_container(d, "ports", ports, 0);
  return 0;
}

// Diagnostics as string chunks of at most 120 bytes (DPDK cuts values at 127), with the number
// of chunks of each diagnostic in `diagnostic_parts`, so a client can join them back.
void add_diagnostics(rte_tel_data* d, const std::vector<std::string>& diags) {
  rte_tel_data* text = string_array();
  rte_tel_data* parts = rte_tel_data_alloc();
  if (text == nullptr || parts == nullptr) {
    rte_tel_data_free(text);
    rte_tel_data_free(parts);
    return;
  }
  rte_tel_data_start_array(parts, RTE_TEL_U64_VAL);
  size_t used = 0;
  for (const auto& line : diags) {
    uint64_t n = 0;
    for (size_t at = 0; at < line.size() || n == 0; at += 120, ++n) {
      if (used++ >= RTE_TEL_MAX_ARRAY_ENTRIES) break;
      rte_tel_data_add_array_string(text, line.substr(at, 120).c_str());
    }
    rte_tel_data_add_array_u64(parts, n);
  }
  rte_tel_data_add_dict_container(d, "diagnostics", text, 0);
  rte_tel_data_add_dict_container(d, "diagnostic_parts", parts, 0);
}

// Runs on the asking telemetry thread, which waits for the control thread to do the reload;
// the registry's lock is not held meanwhile (the control thread takes it to publish).
int cmd_reload(const char*, const char*, rte_tel_data* d) {
  std::shared_lock<std::shared_mutex> busy(registry().in_flight);
  std::function<ReloadResult()> reload;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.plane == nullptr || !r.control.reload) return -1;
    reload = r.control.reload;
  }
  ReloadResult res = reload();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "result", res.ok ? "ok" : "rejected");
  rte_tel_data_add_dict_string(d, "file", res.file.c_str());
  rte_tel_data_add_dict_string(d, "file_sha256", res.file_sha256.c_str());
  rte_tel_data_add_dict_u64(d, "generation", res.generation);
  rte_tel_data_add_dict_string(d, "policy_id", res.policy_id.c_str());
  rte_tel_data_add_dict_string(d, "policy_version", res.policy_version.c_str());
  rte_tel_data_add_dict_string(d, "policy_sha256", res.policy_sha256.c_str());
  rte_tel_data_add_dict_string(d, "previous_sha256", res.previous_sha256.c_str());
  add_diagnostics(d, res.diagnostics);
  rte_tel_data* err = string_array();
  if (err != nullptr) {
    for (size_t at = 0; at < res.error.size(); at += 120)
      rte_tel_data_add_array_string(err, res.error.substr(at, 120).c_str());
    rte_tel_data_add_dict_container(d, "error", err, 0);
  }
  return 0;
}

// `declare submit` / `declare revoke`: like cmd_reload, on the asking telemetry thread.
int cmd_declare(const char* cmd, const char* params, rte_tel_data* d) {
  std::shared_lock<std::shared_mutex> busy(registry().in_flight);
  std::function<ReloadResult()> reload;
  std::string policy_path;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.plane == nullptr || !r.control.reload || params == nullptr || *params == '\0') return -1;
    reload = r.control.reload;
    policy_path = r.control.policy_path;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const bool submit = std::strcmp(cmd, "/datacustoms/declare_submit") == 0;
  DeclareReply res = submit ? submit_declaration(policy_path, params, now, reload)
                            : revoke_declaration(policy_path, params, now, reload);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "result", res.accepted ? "accepted" : "rejected");
  rte_tel_data_add_dict_string(d, "id", res.id.substr(0, 120).c_str());
  rte_tel_data_add_dict_string(d, "file", res.file.substr(0, 120).c_str());
  rte_tel_data_add_dict_u64(d, "generation", res.reload.generation);
  rte_tel_data_add_dict_string(d, "policy_sha256", res.reload.policy_sha256.c_str());
  add_diagnostics(d, res.errors);
  return 0;
}

// One flow as a flat dict container.
rte_tel_data* flow_dict(const dataplane::FlowBrief& f, const telemetry_state::Registry& r) {
  rte_tel_data* c = rte_tel_data_alloc();
  if (c == nullptr) return nullptr;
  rte_tel_data_start_dict(c);
  rte_tel_data_add_dict_string(c, "src", policy::address_to_string(f.tuple.src).c_str());
  rte_tel_data_add_dict_string(c, "dst", policy::address_to_string(f.tuple.dst).c_str());
  rte_tel_data_add_dict_u64(c, "sport", f.tuple.sport);
  rte_tel_data_add_dict_u64(c, "dport", f.tuple.dport);
  rte_tel_data_add_dict_u64(c, "proto", f.tuple.proto);
  rte_tel_data_add_dict_u64(c, "bytes", f.bytes);
  rte_tel_data_add_dict_u64(c, "bytes_fwd", f.bytes_fwd);
  rte_tel_data_add_dict_u64(c, "bytes_rev", f.bytes_rev);
  rte_tel_data_add_dict_u64(c, "packets", f.packets);
  rte_tel_data_add_dict_string(c, "verdict", dataplane::flow_verdict_name(f.verdict));
  rte_tel_data_add_dict_string(c, "reason",
                               f.block_reason == dataplane::DropReason::kNone
                                   ? ""
                                   : dataplane::drop_reason_name(f.block_reason));
  const policy::Snapshot* p = r.policy;
  auto zone = [p](uint16_t z) {
    return p != nullptr && z < p->zone_count() ? p->zone(static_cast<policy::ZoneId>(z)).id
                                               : std::string();
  };
  rte_tel_data_add_dict_string(c, "src_zone", zone(f.src_zone).c_str());
  rte_tel_data_add_dict_string(c, "dst_zone", zone(f.dst_zone).c_str());
  rte_tel_data_add_dict_string(c, "tcp", dataplane::tcp_state_name(f.tcp));
  rte_tel_data_add_dict_u64(c, "worker", f.worker);
  rte_tel_data_add_dict_u64(c, "age_ms",
                            static_cast<uint64_t>((f.last_seen_ns - f.first_seen_ns) / 1000000));
  return c;
}

// /datacustoms/flows,N: dict "1".."N" (largest first), each a flow.
int cmd_flows(const char*, const char* params, rte_tel_data* d) {
  uint32_t top = 10;
  if (params != nullptr && *params != '\0') {
    char* end = nullptr;
    unsigned long v = std::strtoul(params, &end, 10);
    if (*end != '\0' || v == 0) return -1;
    top = static_cast<uint32_t>(std::min<unsigned long>(v, kMaxTopFlows));
  }
  std::shared_lock<std::shared_mutex> busy(registry().in_flight);
  const dataplane::Dataplane* plane;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.plane == nullptr) return -1;
    plane = r.plane;
  }
  // The sweep takes a few loop turns per worker; the registry lock is not held meanwhile, but
  // `in_flight` is: the dataplane is detached (and then stopped) only after this returns.
  auto flows = const_cast<dataplane::Dataplane*>(plane)->top_flows(top, 2000);
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!flows || r.plane == nullptr) return -1;
  rte_tel_data_start_dict(d);
  for (size_t i = 0; i < flows->size(); ++i) {
    rte_tel_data* c = flow_dict((*flows)[i], r);
    if (c == nullptr) return -1;
    rte_tel_data_add_dict_container(d, std::to_string(i + 1).c_str(), c, 0);
  }
  return 0;
}

int cmd_ports(const char*, const char*, rte_tel_data* d) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.plane == nullptr) return -1;
  auto sum = r.plane->counters();
  rte_tel_data_start_dict(d);
  for (size_t p = 0; p < r.plane->ports().size(); ++p) {
    rte_tel_data* c = rte_tel_data_alloc();
    if (c == nullptr) return -1;
    rte_tel_data_start_dict(c);
    rte_tel_data_add_dict_string(c, "zone", r.config->ports[p].zone_name.c_str());
    for (const auto& pc : dataplane::kPortCounterInfo)
      rte_tel_data_add_dict_u64(c, pc.key, (sum.port[p].*pc.field).load());
    auto dev = telemetry_state::device_stats(r.plane->ports()[p].port_id);
    rte_tel_data_add_dict_u64(c, "rx_missed", dev.imissed);
    rte_tel_data_add_dict_u64(c, "rx_errors", dev.ierrors);
    rte_tel_data_add_dict_u64(c, "tx_errors", dev.oerrors);
    rte_tel_data_add_dict_u64(c, "rx_nombuf", dev.rx_nombuf);
    rte_tel_data_add_dict_container(d, r.plane->ports()[p].name.c_str(), c, 0);
  }
  return 0;
}

int cmd_drops(const char*, const char*, rte_tel_data* d) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.plane == nullptr) return -1;
  auto sum = r.plane->counters();
  rte_tel_data_start_dict(d);
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i)
    rte_tel_data_add_dict_u64(d, dataplane::drop_reason_name(static_cast<dataplane::DropReason>(i)),
                              sum.drops[i].load());
  return 0;
}

int cmd_verdicts(const char*, const char*, rte_tel_data* d) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.plane == nullptr) return -1;
  auto sum = r.plane->counters();
  auto fs = r.plane->flow_stats();
  rte_tel_data_start_dict(d);
  // The verdicts and totals sections of the final table, then the flow table's statistics.
  for (const auto& c : dataplane::kCounterInfo)
    if (c.section == dataplane::CounterSection::kVerdicts ||
        c.section == dataplane::CounterSection::kTotals)
      rte_tel_data_add_dict_u64(d, c.key, (sum.*c.field).load());
  rte_tel_data_add_dict_u64(d, "flows_created", fs.created.load());
  rte_tel_data_add_dict_u64(d, "flows_expired", fs.expired.load());
  rte_tel_data_add_dict_u64(d, "flows_active", fs.active.load());
  rte_tel_data_add_dict_u64(d, "flows_refused_table_full", fs.full.load());
  return 0;
}

void register_commands() {
  struct {
    const char* cmd;
    telemetry_cb fn;
    const char* help;
  } const cmds[] = {
      {"/datacustoms/info", cmd_info, "Live policy (id, version, SHA-256), workers, ports"},
      {"/datacustoms/status", cmd_status,
       "Policy, generation, uptime, ports, workers, audit health, reloads"},
      {"/datacustoms/reload", cmd_reload,
       "Reload the policy file now; the result and every diagnostic"},
      {"/datacustoms/flows", cmd_flows, "Largest live flows by bytes. Parameter: N (<= 32)"},
      {"/datacustoms/ports", cmd_ports, "Per port: zone, RX/TX packets and bytes, device errors"},
      {"/datacustoms/drops", cmd_drops, "Every named drop reason and its counter"},
      {"/datacustoms/verdicts", cmd_verdicts, "Verdicts, findings, held segments, resets, flows"},
      {"/datacustoms/keys", cmd_keys, "Key intake: keys received, rejected, dropped"},
      {"/datacustoms/declare_submit", cmd_declare,
       "Check, store and load a declaration. Parameter: its absolute path on this host"},
      {"/datacustoms/declare_revoke", cmd_declare,
       "Revoke a declaration (revoked.list) and reload. Parameter: its id"},
  };
  for (const auto& c : cmds) rte_telemetry_register_cmd(c.cmd, c.fn, c.help);
}

}  // namespace

void telemetry_attach(const dataplane::Dataplane* plane, const dataplane::DataplaneConfig* config,
                      const policy::Snapshot* policy, uint32_t generation) {
  static std::once_flag registered;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    if (plane != r.plane || policy != r.policy)
      r.labelled.rebase(
          plane, policy,
          plane != nullptr ? plane->counters().labelled : dataplane::LabelledCounters{});
    r.plane = plane;
    r.config = config;
    r.policy = policy;
    r.generation = generation;
  }
  std::call_once(registered, register_commands);
}

void telemetry_attach_keys(const KeyIntake* intake) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.keys = intake;
}

void telemetry_attach_control(ControlView view) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.control = std::move(view);
}

void telemetry_set_version(const std::string& version) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.version = version;
}

void telemetry_detach() {
  auto& r = registry();
  std::unique_lock<std::shared_mutex> quiet(r.in_flight);  // waits for reload/flows replies
  std::lock_guard<std::mutex> lock(r.mu);
  r.keys = nullptr;
  r.plane = nullptr;
  r.config = nullptr;
  r.policy = nullptr;
  r.control = ControlView{};
}

}  // namespace dc::appliance
