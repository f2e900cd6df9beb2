// The fragment ledger: overlap judgement of a new fragment against the bytes already held.
#include "dataplane/fragment_ledger.hpp"

#include <algorithm>
#include <cstring>

namespace dc::dataplane {

bool FragmentLedger::differs(const Held& h, uint32_t offset,
                             std::span<const uint8_t> bytes) const noexcept {
  const uint32_t end = offset + static_cast<uint32_t>(bytes.size());
  const uint32_t lo = std::max(h.begin, offset), hi = std::min(h.end(), end);
  if (lo >= hi) return false;
  return std::memcmp(h.bytes.data() + (lo - h.begin), bytes.data() + (lo - offset), hi - lo) != 0;
}

// [begin, end) minus every held range, in ascending order. Held ranges never overlap each other
// in what they added, but a held fragment may overlap another (identical bytes): the walk takes
// the furthest end among ranges starting at or before the cursor.
void FragmentLedger::uncovered(uint32_t begin, uint32_t end, Pieces& out) const noexcept {
  out.n = 0;
  uint32_t cur = begin;
  while (cur < end) {
    uint32_t covered_to = cur;  // furthest end of a held range covering cur
    uint32_t next_start = end;  // nearest held start after cur
    for (uint32_t i = 0; i < held_; ++i) {
      const Held& h = held_frag_[i];
      if (h.begin <= cur && h.end() > cur) covered_to = std::max(covered_to, h.end());
      if (h.begin > cur) next_start = std::min(next_start, h.begin);
    }
    if (covered_to > cur) {
      cur = covered_to;
      continue;
    }
    if (out.n == kMaxPieces) {  // more gaps than pieces: reported as too many by the caller
      out.n = kMaxPieces + 1;
      return;
    }
    out.range[out.n++] = FragmentRange{cur, std::min(next_start, end)};
    cur = std::min(next_start, end);
  }
}

FragmentLedger::Verdict FragmentLedger::check(uint32_t offset, std::span<const uint8_t> bytes,
                                              bool last, Pieces& out) const noexcept {
  const uint32_t end = offset + static_cast<uint32_t>(bytes.size());
  // The datagram's end: one last fragment decides it; anything held or arriving beyond it, or a
  // second "last" fragment ending elsewhere, means two receivers could rebuild different data.
  // A fragment with MF set says bytes follow its end, so it must end before the last fragment
  // does (this also leaves the last fragment a piece of its own to carry MF clear).
  if (total_ != 0 && (last ? end != total_ : end >= total_)) return Verdict::kConflict;
  if (last && total_ == 0) {
    for (uint32_t i = 0; i < held_; ++i)
      if (held_frag_[i].end() >= end) return Verdict::kConflict;
  }
  for (uint32_t i = 0; i < held_; ++i)
    if (differs(held_frag_[i], offset, bytes)) return Verdict::kConflict;
  uncovered(offset, end, out);
  if (out.n == 0) return Verdict::kDuplicate;
  if (pieces_ + out.n > kMaxPieces) return Verdict::kTooMany;
  uint32_t middle = 0;
  for (uint32_t i = 0; i < out.n; ++i)
    if (out.range[i].begin != 0 && !(last && out.range[i].end == end)) ++middle;
  if (middle_pieces_ + middle > kMaxMiddlePieces) return Verdict::kTooMany;
  if (held_ == kMaxPieces) return Verdict::kTooMany;
  return Verdict::kAccept;
}

void FragmentLedger::add(uint32_t offset, std::span<const uint8_t> bytes, bool last,
                         const Pieces& pieces) noexcept {
  const uint32_t end = offset + static_cast<uint32_t>(bytes.size());
  held_frag_[held_++] = Held{offset, bytes};
  pieces_ += pieces.n;
  for (uint32_t i = 0; i < pieces.n; ++i)
    if (pieces.range[i].begin != 0 && !(last && pieces.range[i].end == end)) ++middle_pieces_;
  if (last) total_ = end;
}

bool FragmentLedger::complete() const noexcept {
  if (total_ == 0) return false;
  Pieces gaps;
  uncovered(0, total_, gaps);
  return gaps.n == 0;
}

}  // namespace dc::dataplane
