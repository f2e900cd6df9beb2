#pragma once
// Per-worker counters. Single writer (the worker lcore); the control thread sums them.
#include <cstdint>

#include "dataplane/drop_reason.hpp"

namespace dc::dataplane {

inline constexpr uint16_t kMaxPorts = 16;
inline constexpr uint16_t kReplayPort = kMaxPorts;  // "no physical port" (offline replay)

struct PortCounters {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;
};

struct alignas(64) WorkerCounters {
  PortCounters port[kMaxPorts + 1]{};
  uint64_t drops[kDropReasonCount]{};
  uint64_t bursts = 0;
  uint64_t forwarded = 0;
  uint64_t dropped = 0;
  uint64_t flows_created = 0;
  uint64_t flows_expired = 0;
  uint64_t unknown_ethertype_forwarded = 0;
  uint64_t fragments = 0;
  uint64_t verdict_allow = 0;  // flows whose verdict became allow / alert / block
  uint64_t verdict_alert = 0;
  uint64_t verdict_block = 0;
  uint64_t findings = 0;     // confirmed detector findings
  uint64_t held = 0;         // out-of-order segments held until their gap filled
  uint64_t events_lost = 0;  // flow records that found no free event slot
  uint64_t resets_sent = 0;  // TCP RSTs sent for blocked flows

  void drop(DropReason r) noexcept {
    ++drops[static_cast<unsigned>(r)];
    ++dropped;
  }
  void add(const WorkerCounters& o) noexcept;
};

}  // namespace dc::dataplane
