#pragma once
// The largest live flows of one worker, for `datacustoms ctl flows`, gathered without locking the
// fast path: the control side posts a request (a sequence number); the worker, which alone owns
// its flow table, sweeps a bounded number of slots per loop turn (kSlotsPerTurn), keeps the top
// flows by bytes in a fixed array, and publishes them with a release store of the sequence.
// Threads: request()/done()/result() on one control-side thread at a time (the caller
// serialises); step() on the owning worker. Nothing is allocated.
#include <array>
#include <atomic>
#include <cstdint>

#include "dataplane/flow.hpp"
#include "dataplane/flow_table.hpp"

namespace dc::dataplane {

struct FlowBrief {
  FlowTuple tuple;  // the initiator's 5-tuple
  uint64_t id = 0;
  uint64_t bytes = 0, packets = 0;        // both directions, as received
  uint64_t bytes_fwd = 0, bytes_rev = 0;  // initiator -> responder, and back
  int64_t first_seen_ns = 0, last_seen_ns = 0;
  uint16_t src_zone = 0xffff, dst_zone = 0xffff;
  FlowVerdict verdict = FlowVerdict::kPending;
  TcpState tcp = TcpState::kNone;
  DropReason block_reason = DropReason::kNone;
  uint16_t worker = 0;
};

const char* flow_verdict_name(FlowVerdict v) noexcept;

class FlowSnapshot {
 public:
  static constexpr uint32_t kMaxTop = 64;
  static constexpr uint32_t kSlotsPerTurn = 1024;  // ~1024 cache lines read per loop turn

  // Control side: asks for the `top` (<= kMaxTop) largest flows; returns the request's number.
  uint64_t request(uint32_t top) noexcept;
  bool done(uint64_t seq) const noexcept { return done_.load(std::memory_order_acquire) == seq; }
  // Valid once done(seq) for the latest request, until the next request().
  const FlowBrief* result() const noexcept { return published_.data(); }
  uint32_t result_count() const noexcept { return published_n_; }

  // The owning worker, once per loop turn: a load and a compare when nothing is asked.
  void step(FlowTable& table, uint16_t worker) noexcept {
    const uint64_t req = requested_.load(std::memory_order_acquire);
    if (req == done_local_) return;
    sweep(table, worker, req);
  }

 private:
  void sweep(FlowTable& table, uint16_t worker, uint64_t req) noexcept;
  void consider(const Flow& f, uint16_t worker) noexcept;

  std::atomic<uint64_t> requested_{0};
  std::atomic<uint32_t> top_{0};
  std::atomic<uint64_t> done_{0};
  uint64_t seq_ = 0;  // control side: the last request's number
  // Worker only while a request is open.
  uint64_t done_local_ = 0, working_ = 0;
  uint32_t cursor_ = 0, n_ = 0, want_ = 0;
  std::array<FlowBrief, kMaxTop> scratch_{};
  // Written by the worker before done_ is released; read by the control side after.
  std::array<FlowBrief, kMaxTop> published_{};
  uint32_t published_n_ = 0;
};

}  // namespace dc::dataplane
