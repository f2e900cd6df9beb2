#pragma once
// The per-packet pipeline: one function over a burst of packets, shared by the live workers
// (mbufs from ports) and offline replay (mbufs built from capture records). Same code, same
// data structures, same decisions.
//
// Threads: one Pipeline per worker lcore (or one for replay); never shared.
// Cost budget: decode ~50 cycles, flow lookup ~100, policy checks per new flow only.
// Never allocates, locks, throws or does I/O.
#include <cstdint>

#include "dataplane/counters.hpp"
#include "dataplane/flow_table.hpp"

struct rte_mbuf;

namespace dc::dataplane {

inline constexpr uint16_t kNoZone = 0xffff;

struct PipelineSettings {
  bool forward_unknown_ethertype = false;
  bool allow_without_policy = false;  // no policy: forward (lab) instead of fail-closed drop
  uint32_t expiry_budget = 64;
  uint16_t port_zone[kMaxPorts + 1];  // ingress port -> zone id (kNoZone: unknown)
  PipelineSettings() {
    for (auto& z : port_zone) z = kNoZone;
  }
};

enum class PacketAction : uint8_t { kForward, kDrop };

class Pipeline {
 public:
  Pipeline(uint16_t worker_id, FlowTable& flows, const PipelineSettings& settings,
           WorkerCounters& counters) noexcept
      : worker_id_(worker_id), flows_(flows), settings_(settings), counters_(counters) {}

  // Decides every packet of a burst received on `in_port` (kReplayPort in replay) at time
  // `now_ns` (packet timestamp, ns since the Unix epoch). Writes one action per packet; the
  // caller transmits the forwarded ones and frees the dropped ones.
  void process(uint16_t in_port, rte_mbuf* const* pkts, uint16_t n, int64_t now_ns,
               PacketAction* actions) noexcept;

  // Incremental expiry; called once per burst (or per replayed packet batch).
  void expire(int64_t now_ns) noexcept;
  // Expires all flows (shutdown / end of replay).
  void expire_all() noexcept;

  FlowTable& flows() noexcept { return flows_; }

 private:
  PacketAction process_one(uint16_t in_port, rte_mbuf* m, int64_t now_ns) noexcept;
  PacketAction drop(inspect::DropReason r) noexcept {
    counters_.drop(r);
    return PacketAction::kDrop;
  }

  uint16_t worker_id_;
  FlowTable& flows_;
  const PipelineSettings& settings_;
  WorkerCounters& counters_;
  inspect::DecodeOptions decode_opts_{};
};

}  // namespace dc::dataplane
