#pragma once
// Hand-off of escrowed keys from the key intake thread to the workers: one DPDK ring per worker
// (single producer: the intake thread; single consumer: that worker), entries are KeyLine values
// stored in the ring itself (rte_ring_*_elem, no mempool). Every key goes to every worker: the
// intake cannot know which worker owns the flow of a client random (RSS hashes the 5-tuple), and a
// key taken from a shared multi-consumer ring by the wrong worker would be lost to the right one.
// Keys are ~100 bytes and arrive a few per TLS connection, so the copies cost little.
// Ring slots hold secrets: the consumer wipes each slot as it takes it (zero-copy dequeue), and
// the destructor wipes whatever was never taken.
#include <memory>
#include <vector>

#include "base/result.hpp"
#include "dataplane/key_line.hpp"

struct rte_ring;

namespace dc::dataplane {

class KeyHandoff {
 public:
  // `capacity` keys per worker. Needs EAL (rings live in its memory).
  static Result<std::unique_ptr<KeyHandoff>> create(unsigned workers, unsigned capacity);
  ~KeyHandoff();
  KeyHandoff(const KeyHandoff&) = delete;
  KeyHandoff& operator=(const KeyHandoff&) = delete;

  // Intake thread only. Copies `k` into every worker's ring; returns how many rings were full
  // (0: every worker will see the key). Never blocks, never allocates.
  unsigned publish(const KeyLine& k) noexcept;
  // Worker `w` only. Moves up to `n` keys into `out` and wipes their ring slots; the count moved.
  // The caller wipes `out` (wipe_key_line) once it has stored the keys.
  unsigned drain(unsigned w, KeyLine* out, unsigned n) noexcept;
  unsigned workers() const { return static_cast<unsigned>(rings_.size()); }
  unsigned pending(unsigned w) const noexcept;  // keys waiting for worker w

 private:
  KeyHandoff() = default;
  std::vector<rte_ring*> rings_;
};

}  // namespace dc::dataplane
