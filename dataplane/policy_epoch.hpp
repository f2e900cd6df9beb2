#pragma once
// A published policy generation: the compiled snapshot plus what each worker needs to use it
// (its Hyperscan stream pool and scratch for the snapshot's detector database) and the ports'
// zone ids under it. Built entirely on the control thread — compiling and opening streams
// allocate — then published with one atomic store; workers switch at their next burst.
//
// Lifetime: a flow keeps scanning with the engine of the generation it was admitted under (a
// Hyperscan stream belongs to its database), and flow records point at their snapshot. The
// control plane (appliance/reloader) frees a superseded generation's engines once no worker can
// see it and no flow is bound to it, and its snapshot once no queued flow record names it
// (docs/architecture.md "Policy reload").
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/zone_sources.hpp"
#include "inspect/detect/scanner.hpp"
#include "policy/snapshot.hpp"

namespace dc::dataplane {

// One worker's scanning resources for one detector database.
struct InspectEngine {
  std::unique_ptr<inspect::StreamPool> streams;  // null: the policy has no detectors
  std::unique_ptr<inspect::Scratch> scratch;
  // Live flows bound to this engine. Written only by its worker (a plain load and a release
  // store: single writer, no lock prefix); read by the control thread (acquire). A flow is bound
  // from admission until its record was emitted (Pipeline::bind_engine).
  std::atomic<uint64_t> flows{0};
  void flow_bound() noexcept {
    flows.store(flows.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  void flow_unbound() noexcept {
    flows.store(flows.load(std::memory_order_relaxed) - 1, std::memory_order_release);
  }
  // Pre-opens 2 x inspect_flows streams (one per direction). Control plane only.
  static Result<std::unique_ptr<InspectEngine>> create(const policy::Snapshot& snapshot,
                                                       uint32_t inspect_flows);
};

struct PolicyEpoch {
  uint32_t generation = 0;
  std::shared_ptr<const policy::Snapshot> snapshot;
  uint16_t port_zone[kMaxPorts + 1];       // ingress port -> zone id under this snapshot
  uint16_t port_peer_zone[kMaxPorts + 1];  // ingress port -> zone of its paired port
  ZoneSources sources;                     // each zone's IPv4 sources (anti-spoofing)
  std::vector<std::unique_ptr<InspectEngine>> engines;  // one per worker

  // Flows of every worker still bound to this generation's engines. Control thread.
  uint64_t bound_flows() const noexcept;
  // Frees the engines (the big part: Hyperscan stream pools and scratch). Only once no worker can
  // reach them: superseded, a grace period over and bound_flows() == 0.
  void free_engines() noexcept { engines.clear(); }

  PolicyEpoch() {
    for (auto& z : port_zone) z = 0xffff;
    for (auto& z : port_peer_zone) z = 0xffff;
  }
  // `zones[p]` is port p's zone id in `snapshot`, `peers[p]` its paired port.
  static Result<std::unique_ptr<PolicyEpoch>> build(
      uint32_t generation, std::shared_ptr<const policy::Snapshot> snapshot,
      const std::vector<uint16_t>& zones, const std::vector<uint16_t>& peers, unsigned workers,
      uint32_t inspect_flows);
};

}  // namespace dc::dataplane
