#pragma once
// The registry behind appliance/telemetry.hpp: what the control thread attached, shared by the
// telemetry commands (telemetry.cpp) and the Prometheus text (prometheus.cpp). Control plane
// threads only (control, telemetry, metrics); never the workers.
#include <mutex>
#include <shared_mutex>
#include <string>

#include "appliance/labelled_metrics.hpp"
#include "appliance/telemetry.hpp"

namespace dc::appliance::telemetry_state {

struct Registry {
  std::mutex mu;
  // Held (shared) by commands that wait without `mu` (reload, flows); detaching takes it
  // exclusively, so nothing attached is used after the control plane let it go.
  std::shared_mutex in_flight;
  const dataplane::Dataplane* plane = nullptr;
  const dataplane::DataplaneConfig* config = nullptr;
  const policy::Snapshot* policy = nullptr;
  uint32_t generation = 0;
  const KeyIntake* keys = nullptr;
  ControlView control;
  std::string version = "unknown";
  LabelledTotals labelled;  // verdicts by counterparty, findings by category (by id)
};
Registry& registry();

// Device counters of a port (rte_eth_stats_get); zeros when the device does not answer.
struct DeviceStats {
  uint64_t imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
};
DeviceStats device_stats(uint16_t port_id);

// The key intake's counters: name, value, help (for /datacustoms/keys and /metrics).
struct KeyCounter {
  const char* key;
  uint64_t KeyIntakeStats::*field;
  const char* help;
};
extern const KeyCounter kKeyCounters[7];

}  // namespace dc::appliance::telemetry_state
