// Per-worker DPDK rings carrying escrowed keys from the intake thread (dataplane/key_handoff.hpp).
#include "dataplane/key_handoff.hpp"

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

#include <atomic>
#include <string>

namespace dc::dataplane {

Result<std::unique_ptr<KeyHandoff>> KeyHandoff::create(unsigned workers, unsigned capacity) {
  static std::atomic<unsigned> generation{0};  // ring names are process-wide
  unsigned gen = generation.fetch_add(1);
  std::unique_ptr<KeyHandoff> h(new KeyHandoff());
  for (unsigned w = 0; w < workers; ++w) {
    std::string name = "dc_keys_" + std::to_string(gen) + "_" + std::to_string(w);
    rte_ring* r = rte_ring_create_elem(name.c_str(), sizeof(KeyLine), capacity, SOCKET_ID_ANY,
                                       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
    if (r == nullptr)
      return make_error(
          ErrorCode::kUnavailable,
          "key hand-off ring for worker " + std::to_string(w) + ": " + rte_strerror(rte_errno));
    h->rings_.push_back(r);
  }
  return h;
}

KeyHandoff::~KeyHandoff() {
  KeyLine k;
  for (unsigned w = 0; w < rings_.size(); ++w) {
    while (drain(w, &k, 1) == 1) wipe_key_line(k);
    rte_ring_free(rings_[w]);
  }
}

unsigned KeyHandoff::publish(const KeyLine& k) noexcept {
  KeyLine copy = k;  // rte_ring_enqueue_elem takes a non-const pointer
  unsigned full = 0;
  for (rte_ring* r : rings_) full += rte_ring_enqueue_elem(r, &copy, sizeof copy) != 0 ? 1 : 0;
  wipe_key_line(copy);
  return full;
}

unsigned KeyHandoff::drain(unsigned w, KeyLine* out, unsigned n) noexcept {
  rte_ring_zc_data zcd{};
  unsigned got = rte_ring_dequeue_zc_burst_elem_start(rings_[w], sizeof(KeyLine), n, &zcd, nullptr);
  if (got == 0) return 0;
  auto* first = static_cast<KeyLine*>(zcd.ptr1);
  for (unsigned i = 0; i < zcd.n1; ++i) {
    out[i] = first[i];
    wipe_key_line(first[i]);
  }
  auto* second = static_cast<KeyLine*>(zcd.ptr2);
  for (unsigned i = zcd.n1; i < got; ++i) {
    out[i] = second[i - zcd.n1];
    wipe_key_line(second[i - zcd.n1]);
  }
  rte_ring_dequeue_zc_elem_finish(rings_[w], got);
  return got;
}

unsigned KeyHandoff::pending(unsigned w) const noexcept { return rte_ring_count(rings_[w]); }

}  // namespace dc::dataplane
