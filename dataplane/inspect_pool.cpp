// Per-worker pool of inspection contexts (reorder queues, scan streams, TLS/HTTP parsers).
#include "dataplane/inspect_pool.hpp"

namespace dc::dataplane {

void InspectCtx::reset() noexcept {
  uint32_t keep = next_free;
  order[0] = inspect::DirState{};
  order[1] = inspect::DirState{};
  stream[0] = stream[1] = nullptr;
  http_decode.reset();  // codec memory was returned at the flow's end (release() is idempotent)
  for (auto& d : decoded)
    for (auto*& s : d) s = nullptr;
  for (auto& d : decoded_path)
    for (auto& p : d) p = inspect::decoding::Path{};
  decode_off = false;
  name_wait_n = 0;  // freed by the flow's end (Pipeline::end_flow) before the slot returns
  http_anomaly = uninspected = nullptr;
  seen.clear();
  tls.reset();
  http.reset();
  meta_done = false;
  opaque = false;
  tls_ctx = 0xffffffff;
  tls_tried = false;
  samples_n = 0;
  findings = 0;
  tally = policy::CategoryTally{};
  ++tally_gen;
  decided = Decided{};
  owner = 0xffffffff;
  next_free = keep;
}

InspectPool::InspectPool(uint32_t capacity) : slots_(capacity) {
  for (uint32_t i = 0; i < capacity; ++i) slots_[i].next_free = (i + 1 < capacity) ? i + 1 : kNone;
  free_head_ = capacity > 0 ? 0 : kNone;
}

uint32_t InspectPool::acquire() noexcept {
  if (free_head_ == kNone) {
    ++exhausted_;
    return kNone;
  }
  uint32_t idx = free_head_;
  free_head_ = slots_[idx].next_free;
  slots_[idx].reset();
  ++in_use_;
  return idx;
}

void InspectPool::release(uint32_t idx) noexcept {
  if (idx >= slots_.size()) return;
  slots_[idx].owner = kNone;
  slots_[idx].next_free = free_head_;
  free_head_ = idx;
  --in_use_;
}

}  // namespace dc::dataplane
