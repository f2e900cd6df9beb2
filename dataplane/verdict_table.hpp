#pragma once
// Interned verdicts: one worker's table of the distinct policy::Verdict values its flows hold
// (admission verdict and latest verdict), reference-counted, so a flow keeps two 4-byte indices
// instead of two 132-byte copies (issue 13, "Memory per flow"). Nearly every flow shares one of a
// few values (whitelisted, domestic_link, ...); flows with findings carry their counts and get
// entries of their own while they live.
//
// Fixed capacity allocated at start-up (control plane); intern/release never allocate, lock or
// throw. Entry kDefault holds Verdict{} and entry kFull the fail-closed verdict of a flow whose
// verdict found no room (stream_unavailable, block); both are permanent. Values, not pointers:
// an entry stays valid across policy reloads (a verdict's ids are read with its flow's snapshot).
// Owned by one worker; not thread-safe.
#include <cstdint>
#include <memory>

#include "base/result.hpp"
#include "policy/snapshot.hpp"

namespace dc::dataplane {

struct VerdictTableStats {
  uint64_t full = 0;  // verdicts that found no room (their flows failed closed)
  uint32_t in_use = 0, peak = 0;
};

class VerdictTable {
 public:
  static constexpr uint32_t kDefault = 0;  // Verdict{}: allow, no reasons
  static constexpr uint32_t kFull = 1;     // block, stream_unavailable: the table was full
  static constexpr uint32_t kReserved = 2;

  // `capacity` entries besides the two permanent ones. Control plane.
  static Result<std::unique_ptr<VerdictTable>> create(uint32_t capacity);

  // The index of an entry equal to `v`, with one more reference; kFull (counted) when `v` is new
  // and no entry is free. Never allocates.
  uint32_t intern(const policy::Verdict& v) noexcept;
  void retain(uint32_t idx) noexcept;
  // Drops one reference; the entry is free again after its last. kDefault and kFull are
  // permanent (releasing them is a no-op).
  void release(uint32_t idx) noexcept;
  const policy::Verdict& get(uint32_t idx) const noexcept {
    return entries_[idx < size_ ? idx : kDefault].v;
  }
  uint32_t refs(uint32_t idx) const noexcept { return idx < size_ ? entries_[idx].refs : 0; }
  uint32_t capacity() const noexcept { return size_ - kReserved; }
  const VerdictTableStats& stats() const noexcept { return stats_; }
  static std::size_t bytes_per_entry() noexcept;  // entry + its share of the buckets

 private:
  VerdictTable() = default;
  static constexpr uint32_t kNil = 0xffffffffu;
  struct Entry {
    policy::Verdict v{};
    uint32_t refs = 0;
    uint32_t next = kNil;  // bucket chain while in use, free list while free
    uint32_t hash = 0;
  };
  uint32_t* bucket_of(uint32_t hash) noexcept { return &buckets_[hash & mask_]; }
  void unlink(uint32_t idx) noexcept;

  std::unique_ptr<Entry[]> entries_;
  std::unique_ptr<uint32_t[]> buckets_;
  uint32_t size_ = 0, mask_ = 0;
  uint32_t free_ = kNil;
  VerdictTableStats stats_;
};

// Field-wise verdict equality and hash (padding never read).
bool same_verdict(const policy::Verdict& a, const policy::Verdict& b) noexcept;
uint32_t verdict_hash(const policy::Verdict& v) noexcept;

}  // namespace dc::dataplane
