#pragma once
// DPDK telemetry commands for operators (`datacustoms ctl`, or any client of the telemetry
// socket <runtime dir>/dpdk/<file-prefix>/dpdk_telemetry.v2):
//   /datacustoms/info      policy id, version and SHA-256, workers, ports
//   /datacustoms/status    the same plus generation, uptime, ports and drivers, audit health,
//                          reload results
//   /datacustoms/reload    reloads the policy now (on the control thread) and answers with the
//                          result and every diagnostic
//   /datacustoms/flows,N   the N (<= 32) largest live flows by bytes and their verdicts
//   /datacustoms/ports     per port: zone, RX/TX packets and bytes, device missed/error counts
//   /datacustoms/drops     every named drop reason and its counter
//   /datacustoms/verdicts  flows allowed/alerted/blocked, findings, held segments, resets, flows
//   /datacustoms/keys      key intake ([tls] key_socket): keys received, rejected, dropped
//   /datacustoms/declare_submit,PATH  checks and stores a declaration file, then reloads
//   /datacustoms/declare_revoke,ID    revokes a declaration (revoked.list), then reloads
// Callbacks run on DPDK's telemetry threads and read the workers' counters (relaxed atomic
// loads, dataplane/counters.hpp); the control thread attaches the running dataplane and detaches
// it before destroying it. Prometheus text (appliance/prometheus.cpp) reads the same registry.
// (Telemetry needs EAL's shared runtime directory: give the process a --file-prefix instead of
// --no-shconf.)
#include <chrono>
#include <functional>
#include <string>

#include "appliance/key_intake.hpp"
#include "appliance/reloader.hpp"
#include "dataplane/audit_channel.hpp"
#include "dataplane/runtime.hpp"
#include "policy/snapshot.hpp"

namespace dc::appliance {

inline constexpr uint32_t kMaxTopFlows = 32;  // a telemetry reply holds at most 16 KiB

// The live policy and its generation (called again after every published reload).
void telemetry_attach(const dataplane::Dataplane* plane, const dataplane::DataplaneConfig* config,
                      const policy::Snapshot* policy, uint32_t generation = 0);
void telemetry_detach();
// The key intake whose counters /datacustoms/keys and /metrics report (nullptr: none).
void telemetry_attach_keys(const KeyIntake* intake);

// What the control plane adds to the counters: reloads, the audit channel, start time, and how
// to ask the control thread for a reload (it blocks the asking telemetry thread until done).
struct ControlView {
  const ReloadCounters* reloads = nullptr;
  const dataplane::AuditChannel* audit = nullptr;  // null: no audit trail
  std::chrono::system_clock::time_point started{};
  std::function<ReloadResult()> reload;
  std::string policy_path;  // `declare submit|revoke` check against it and use its directory
};
void telemetry_attach_control(ControlView view);
// The build's version string (datacustoms_build_info, /datacustoms/status).
void telemetry_set_version(const std::string& version);

// The same counters in the Prometheus text exposition format (version 0.0.4); empty when no
// dataplane is attached. Any thread (it takes the registry's lock).
std::string prometheus_metrics();

}  // namespace dc::appliance
