#pragma once
// DPDK telemetry commands for operators (`dpdk-telemetry.py`, or any client of the telemetry
// socket /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2):
//   /datacustoms/info      policy id, version and SHA-256, workers, ports
//   /datacustoms/ports     per port: zone, RX/TX packets and bytes
//   /datacustoms/drops     every named drop reason and its counter
//   /datacustoms/verdicts  flows allowed/alerted/blocked, findings, held segments, resets, flows
//   /datacustoms/keys      key intake ([tls] key_socket): keys received, rejected, dropped
// Callbacks run on DPDK's telemetry thread and read the workers' counters (relaxed atomic
// loads, dataplane/counters.hpp); the control thread attaches the running dataplane and detaches
// it before destroying it.
// (Telemetry needs EAL's shared runtime directory: give the process a --file-prefix instead of
// --no-shconf.)
#include <string>

#include "appliance/key_intake.hpp"
#include "dataplane/runtime.hpp"
#include "policy/snapshot.hpp"

namespace dc::appliance {

void telemetry_attach(const dataplane::Dataplane* plane, const dataplane::DataplaneConfig* config,
                      const policy::Snapshot* policy);
void telemetry_detach();
// The key intake whose counters /datacustoms/keys and /metrics report (nullptr: none).
void telemetry_attach_keys(const KeyIntake* intake);

// The same counters in the Prometheus text exposition format (version 0.0.4); empty when no
// dataplane is attached. Any thread (it takes the registry's lock).
std::string prometheus_metrics();

}  // namespace dc::appliance
