// Per-worker pool of TLS decryption contexts (dataplane/tls_flow.hpp).
#include "dataplane/tls_flow.hpp"

namespace dc::dataplane {

void TlsCtx::reset() noexcept {
  session.reset();  // wipes secrets and keys
  http.reset();
  h2.reset();
  h2_mode = layer_chosen = false;
  plain[0] = plain[1] = nullptr;
  for (auto& d : decoded)
    for (auto& l : d)
      for (auto*& s : l) s = nullptr;
  fed[0] = fed[1] = 0;
  lost[0] = lost[1] = false;
  held_head = held_n = 0;
  waiting = false;
  wait_dir = 0;
  wait_since_ns = 0;
  keys_present = 0;
  fin_pending[0] = fin_pending[1] = false;
  outcome = TlsOutcome::kNone;
  have_key_hash = false;
  key_hash = {};
}

TlsPool::TlsPool(inspect::tls::Crypto* crypto, uint32_t capacity, uint32_t hold_packets) {
  if (crypto == nullptr) return;
  slots_.reserve(capacity);
  for (uint32_t i = 0; i < capacity; ++i) {
    auto t = std::make_unique<TlsCtx>(*crypto);
    t->held = std::make_unique<TlsHeld[]>(hold_packets > 0 ? hold_packets : 1);
    t->held_cap = hold_packets > 0 ? hold_packets : 1;
    t->next_free = i + 1 < capacity ? i + 1 : kNoTlsCtx;
    slots_.push_back(std::move(t));
  }
  free_head_ = capacity > 0 ? 0 : kNoTlsCtx;
}

uint32_t TlsPool::acquire() noexcept {
  if (free_head_ == kNoTlsCtx) return kNoTlsCtx;
  const uint32_t idx = free_head_;
  free_head_ = slots_[idx]->next_free;
  ++in_use_;
  return idx;
}

void TlsPool::release(uint32_t idx) noexcept {
  if (idx >= slots_.size()) return;
  slots_[idx]->reset();
  slots_[idx]->next_free = free_head_;
  free_head_ = idx;
  --in_use_;
}

}  // namespace dc::dataplane
