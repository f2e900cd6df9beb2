// Interned verdicts (verdict_table.hpp): a chained hash table over a fixed entry array, with a
// free list; reference counts free an entry after its last flow lets go.
#include "dataplane/verdict_table.hpp"

#include <bit>
#include <new>

namespace dc::dataplane {

bool same_verdict(const policy::Verdict& a, const policy::Verdict& b) noexcept {
  if (a.action != b.action || a.monitored != b.monitored || a.truncated != b.truncated ||
      a.reason_count != b.reason_count)
    return false;
  for (std::size_t i = 0; i < a.reasons.size(); ++i) {
    const policy::Reason& x = a.reasons[i];
    const policy::Reason& y = b.reasons[i];
    if (x.kind != y.kind || x.action != y.action || x.category != y.category ||
        x.counterparty != y.counterparty || x.basis != y.basis || x.detector != y.detector ||
        x.count != y.count)
      return false;
  }
  return true;
}

uint32_t verdict_hash(const policy::Verdict& v) noexcept {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the fields, 8 bytes at a time
  auto mix = [&h](uint64_t x) { h = (h ^ x) * 0x100000001b3ull; };
  mix(uint64_t{static_cast<uint8_t>(v.action)} | uint64_t{v.monitored} << 8 |
      uint64_t{v.truncated} << 16 | uint64_t{v.reason_count} << 24);
  for (std::size_t i = 0; i < v.reason_count && i < v.reasons.size(); ++i) {
    const policy::Reason& r = v.reasons[i];
    mix(uint64_t{static_cast<uint8_t>(r.kind)} | uint64_t{static_cast<uint8_t>(r.action)} << 8 |
        uint64_t{r.category} << 16 | uint64_t{r.counterparty} << 24 | uint64_t{r.basis} << 40);
    mix(uint64_t{r.detector} | uint64_t{r.count} << 16);
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

Result<std::unique_ptr<VerdictTable>> VerdictTable::create(uint32_t capacity) {
  if (capacity == 0 || capacity > (1u << 26))
    return make_error(ErrorCode::kInvalid, "verdict table capacity must be 1 .. 2^26");
  std::unique_ptr<VerdictTable> t(new (std::nothrow) VerdictTable());
  if (!t) return make_error(ErrorCode::kUnavailable, "verdict table: out of memory");
  t->size_ = capacity + kReserved;
  const uint32_t buckets = std::bit_ceil(t->size_);
  t->mask_ = buckets - 1;
  t->entries_.reset(new (std::nothrow) Entry[t->size_]);
  t->buckets_.reset(new (std::nothrow) uint32_t[buckets]);
  if (!t->entries_ || !t->buckets_)
    return make_error(ErrorCode::kUnavailable,
                      "verdict table: cannot allocate " + std::to_string(capacity) + " entries");
  for (uint32_t i = 0; i < buckets; ++i) t->buckets_[i] = kNil;
  // Permanent entries: Verdict{} (findable, so equal values share it) and the fail-closed
  // verdict (never findable: a flow's own stream_unavailable block is an entry of its own).
  Entry& def = t->entries_[kDefault];
  def.refs = 1;
  def.hash = verdict_hash(def.v);
  def.next = kNil;
  *t->bucket_of(def.hash) = kDefault;
  Entry& full = t->entries_[kFull];
  full.v.action = policy::Action::kBlock;
  full.v.reason_count = 1;
  full.v.reasons[0].kind = policy::ReasonKind::kStreamUnavailable;
  full.v.reasons[0].action = policy::Action::kBlock;
  full.refs = 1;
  for (uint32_t i = t->size_; i-- > kReserved;) {
    t->entries_[i].next = t->free_;
    t->free_ = i;
  }
  return t;
}

uint32_t VerdictTable::intern(const policy::Verdict& v) noexcept {
  const uint32_t h = verdict_hash(v);
  uint32_t* head = bucket_of(h);
  for (uint32_t i = *head; i != kNil; i = entries_[i].next) {
    Entry& e = entries_[i];
    if (e.hash == h && same_verdict(e.v, v)) {
      if (i >= kReserved) ++e.refs;
      return i;
    }
  }
  if (free_ == kNil) {
    ++stats_.full;
    return kFull;
  }
  const uint32_t i = free_;
  Entry& e = entries_[i];
  free_ = e.next;
  e.v = v;
  e.refs = 1;
  e.hash = h;
  e.next = *head;
  *head = i;
  if (++stats_.in_use > stats_.peak) stats_.peak = stats_.in_use;
  return i;
}

void VerdictTable::retain(uint32_t idx) noexcept {
  if (idx >= kReserved && idx < size_ && entries_[idx].refs > 0) ++entries_[idx].refs;
}

void VerdictTable::unlink(uint32_t idx) noexcept {
  uint32_t* link = bucket_of(entries_[idx].hash);
  while (*link != kNil && *link != idx) link = &entries_[*link].next;
  if (*link == idx) *link = entries_[idx].next;
}

void VerdictTable::release(uint32_t idx) noexcept {
  if (idx < kReserved || idx >= size_) return;
  Entry& e = entries_[idx];
  if (e.refs == 0 || --e.refs > 0) return;
  unlink(idx);
  e.next = free_;
  free_ = idx;
  --stats_.in_use;
}

std::size_t VerdictTable::bytes_per_entry() noexcept {
  return sizeof(Entry) + 2 * sizeof(uint32_t);
}

}  // namespace dc::dataplane
