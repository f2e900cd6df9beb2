// Top flows by bytes, swept by each worker in bounded steps (dataplane/flow_snapshot.hpp).
#include "dataplane/flow_snapshot.hpp"

#include <algorithm>

namespace dc::dataplane {

const char* flow_verdict_name(FlowVerdict v) noexcept {
  switch (v) {
    case FlowVerdict::kAllow:
      return "allow";
    case FlowVerdict::kAlert:
      return "alert";
    case FlowVerdict::kBlock:
      return "block";
    case FlowVerdict::kPending:
      break;
  }
  return "pending";
}

uint64_t FlowSnapshot::request(uint32_t top) noexcept {
  top_.store(std::min(top, kMaxTop), std::memory_order_relaxed);
  requested_.store(++seq_, std::memory_order_release);
  return seq_;
}

// The smallest kept flow is replaced by a larger one: O(top) per replacement, never more than
// kMaxTop entries.
void FlowSnapshot::consider(const Flow& f, uint16_t worker) noexcept {
  const uint64_t bytes = f.dir[0].bytes + f.dir[1].bytes;
  uint32_t at = n_;
  if (n_ == want_) {
    at = 0;
    for (uint32_t i = 1; i < n_; ++i)
      if (scratch_[i].bytes < scratch_[at].bytes) at = i;
    if (n_ == 0 || scratch_[at].bytes >= bytes) return;
  } else {
    ++n_;
  }
  FlowBrief& b = scratch_[at];
  b.tuple = f.initiator;
  b.id = f.cold().id;
  b.bytes = bytes;
  b.packets = f.dir[0].packets + f.dir[1].packets;
  b.bytes_fwd = f.dir[0].bytes;
  b.bytes_rev = f.dir[1].bytes;
  b.first_seen_ns = f.cold().first_seen_ns;
  b.last_seen_ns = f.last_seen_ns;
  b.src_zone = f.src_zone;
  b.dst_zone = f.dst_zone;
  b.verdict = f.verdict;
  b.tcp = f.tcp;
  b.block_reason = f.block_reason;
  b.worker = worker;
}

void FlowSnapshot::sweep(FlowTable& table, uint16_t worker, uint64_t req) noexcept {
  if (req != working_) {  // a new request (a newer one replaces an unfinished one)
    working_ = req;
    cursor_ = 0;
    n_ = 0;
    want_ = top_.load(std::memory_order_relaxed);
  }
  const uint32_t cap = table.capacity();
  const uint32_t end = std::min(cap, cursor_ + kSlotsPerTurn);
  for (; cursor_ < end; ++cursor_) {
    const Flow& f = table.slot(cursor_);
    if (f.in_use && want_ > 0) consider(f, worker);
  }
  if (cursor_ < cap) return;
  std::sort(scratch_.begin(), scratch_.begin() + n_,
            [](const FlowBrief& a, const FlowBrief& b) { return a.bytes > b.bytes; });
  std::copy(scratch_.begin(), scratch_.begin() + n_, published_.begin());
  published_n_ = n_;
  done_local_ = req;
  done_.store(req, std::memory_order_release);
}

}  // namespace dc::dataplane
