#pragma once
// Record before release: the packets of a border flow that wait until the flow's admission record
// (`flow_open`) is fsynced by the audit writer. One FIFO per ingress port (released packets go out
// of that port's peer), fixed capacity, allocated at start-up; the per-packet path only pushes and
// pops. A hand-written ring, not rte_ring: single-threaded (one worker), and the release loop
// needs to look at the head before taking it, which rte_ring's API does not offer.
#include <cstdint>
#include <memory>

struct rte_mbuf;

namespace dc::dataplane {

struct HeldPacket {
  rte_mbuf* m = nullptr;
  uint64_t flow_id = 0;
  int64_t since_ns = 0;  // when it was held
  uint32_t slot = 0;     // the flow's slot in the worker's flow table
  uint8_t dir = 0;       // Direction
};

class HoldQueue {
 public:
  HoldQueue() = default;
  explicit HoldQueue(uint32_t capacity)
      : ring_(capacity > 0 ? std::make_unique<HeldPacket[]>(capacity) : nullptr), cap_(capacity) {}
  bool push(const HeldPacket& p) noexcept {
    if (n_ == cap_) return false;
    ring_[(head_ + n_) % cap_] = p;
    ++n_;
    return true;
  }
  bool empty() const noexcept { return n_ == 0; }
  uint32_t size() const noexcept { return n_; }
  const HeldPacket& front() const noexcept { return ring_[head_]; }
  void pop() noexcept {
    head_ = (head_ + 1) % cap_;
    --n_;
  }

 private:
  std::unique_ptr<HeldPacket[]> ring_;
  uint32_t cap_ = 0;
  uint32_t head_ = 0;
  uint32_t n_ = 0;
};

}  // namespace dc::dataplane
