// Scan engine, match side: the Hyperscan callback, keyword marks and proximity, the pending
// candidate queue, held findings (forward keywords) and settle() bookkeeping. Worker thread;
// noexcept, allocation-free (docs/detectors.md "Streaming semantics").
#include <algorithm>
#include <cstring>

#include "inspect/detect/scan_engine.hpp"

namespace dc::inspect {
namespace {

uint64_t settled_key(uint16_t det, uint64_t start) noexcept { return start << 16 | det; }

}  // namespace

int ScanEngine::on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned,
                         void* ctx) noexcept {
  auto& e = *static_cast<ScanEngine*>(ctx);
  const PatternInfo& p = e.db.pattern(id);
  switch (p.role) {
    case Role::kKeyword:
    case Role::kNegativeKeyword:
      // settle()'s end-of-data probe: literals have no EOD matches, and the probe must not
      // change the stream's state.
      if (e.settling) return 0;
      e.add_mark(to - p.length, to, p.group, p.role == Role::kNegativeKeyword);
      return 0;
    case Role::kKeywordFinding: {
      if (e.s.n_settled_ && e.settled(p.detector, to - p.length)) return 0;
      Finding f{};
      f.detector = p.detector;
      f.offset = to - p.length;
      f.length = p.length;
      f.confidence = p.fixed_confidence;
      std::string_view t = e.db.text(p.text);
      const size_t n = std::min(t.size(), sizeof f.masked - 1);
      std::memcpy(f.masked, t.data(), n);
      f.masked[n] = '\0';
      f.value_len = static_cast<uint8_t>(std::min(t.size(), sizeof f.value));
      std::memcpy(f.value, t.data(), f.value_len);
      e.emit(f);
      return 0;
    }
    case Role::kCandidate: {
      uint64_t start = to;
      if (p.extractor == Extractor::kSom)
        start = from;
      else if (p.length != 0 && p.length <= to)
        start = to - p.length;
      e.candidate(Stream::Candidate{start, to, id});
      return 0;
    }
  }
  return 0;
}

void ScanEngine::add_mark(uint64_t start, uint64_t end, uint16_t group, bool negative) noexcept {
  // Keep the latest mark per (keyword group, sign): the nearest one is the one that matters.
  bool stored = false;
  for (uint8_t i = 0; i < s.n_marks_ && !stored; ++i) {
    Stream::Mark& m = s.marks_[i];
    if (m.group == group && m.negative == negative) {
      m.start = start;
      m.end = end;
      stored = true;
    }
  }
  if (!stored) {
    Stream::Mark m{start, end, group, negative};
    if (s.n_marks_ < kMaxKeywordMarks) {
      s.marks_[s.n_marks_++] = m;
    } else {
      s.marks_[s.next_mark_] = m;
      s.next_mark_ = static_cast<uint8_t>((s.next_mark_ + 1) % kMaxKeywordMarks);
    }
  }
  if (negative) return;
  // Forward proximity: a keyword shortly after held findings of its detectors.
  for (uint8_t i = 0; i < s.n_held_;) {
    Stream::Held& h = s.held_[i];
    const uint16_t det = h.finding.detector;
    if (db.in_group(group, det) && start >= h.end && start - h.end <= db.detector(det).proximity) {
      h.keyword = true;
      finalise(i);  // its confidence cannot rise further: emit now
    } else {
      ++i;
    }
  }
}

void ScanEngine::context(uint16_t det, uint64_t start, uint64_t end, bool* keyword,
                         bool* negative) const noexcept {
  const uint32_t prox = db.detector(det).proximity;
  bool pos = false;
  uint64_t pos_end = 0, neg_end = 0;
  bool neg = false;
  for (uint8_t i = 0; i < s.n_marks_; ++i) {
    const Stream::Mark& m = s.marks_[i];
    if (!db.in_group(m.group, det)) continue;
    if (!m.negative) {
      if (m.end <= start && start - m.end <= prox) {
        pos = true;
        pos_end = std::max(pos_end, m.end);
      } else if (m.start >= end && m.start - end <= prox) {
        pos = true;
      }
    } else if (m.end <= start && start - m.end <= kNegativeWindow) {
      neg = true;
      neg_end = std::max(neg_end, m.end);
    }
  }
  *keyword = pos;
  // A negative label counts unless a positive keyword sits between it and the value.
  *negative = neg && !(pos_end > neg_end);
}

bool ScanEngine::settled(uint16_t det, uint64_t start) const noexcept {
  const uint64_t k = settled_key(det, start);
  for (uint8_t i = 0; i < s.n_settled_; ++i)
    if (s.settled_[i] == k) return true;
  return false;
}

void ScanEngine::emit(const Finding& f) noexcept {
  ++s.stats_.findings;
  if (settling) {
    ++s.stats_.settled;
    if (!settled(f.detector, f.offset)) {
      // Full: forget the oldest (at worst it is reported once more later - fail closed).
      if (s.n_settled_ == kMaxSettled) {
        std::memmove(s.settled_, s.settled_ + 1, sizeof(uint64_t) * (kMaxSettled - 1));
        --s.n_settled_;
      }
      s.settled_[s.n_settled_++] = settled_key(f.detector, f.offset);
    }
  }
  sink.on_finding(f);
}

void ScanEngine::finalise(uint8_t i) noexcept {
  Stream::Held& h = s.held_[i];
  if (!(h.keyword_required && !h.keyword)) {
    Finding f = h.finding;
    if (h.keyword) f.confidence = h.with_keyword;
    if (h.negative) f.confidence = shift(f.confidence, -2);
    emit(f);
  }
  for (uint8_t k = i + 1; k < s.n_held_; ++k) s.held_[k - 1] = s.held_[k];
  --s.n_held_;
}

void ScanEngine::finalise_due(bool all) noexcept {
  for (uint8_t i = 0; i < s.n_held_;) {
    if (all || s.offset_ >= s.held_[i].end + s.window_)
      finalise(i);
    else
      ++i;
  }
}

void ScanEngine::confirm(uint16_t det, const Judge& j, uint64_t start, uint64_t end,
                         Bytes token) noexcept {
  if (s.n_settled_ && settled(det, start)) return;  // reported by settle() already
  Evaluation ev;
  evaluate(j, token, today, &ev);
  if (!ev.accept) return;
  bool kw = false, neg = false;
  context(det, start, end, &kw, &neg);
  Stream::Held h;
  Finding& f = h.finding;
  f.detector = det;
  f.offset = start;
  f.length = static_cast<uint16_t>(std::min<uint64_t>(end - start, 0xFFFF));
  f.confidence = ev.base;
  std::memcpy(f.masked, ev.masked, sizeof f.masked);
  f.value_len = ev.value_len;
  std::memcpy(f.value, ev.value, sizeof f.value);
  h.end = end;
  h.with_keyword = ev.with_keyword;
  h.keyword_required = ev.keyword_required;
  h.keyword = kw;
  h.negative = neg;
  if (ev.base == ev.with_keyword && !ev.keyword_required) kw = true;  // nothing to wait for
  if (kw || s.window_ == 0 || settling) {
    // Emit directly (same rules as finalise, without queueing).
    if (!(h.keyword_required && !h.keyword)) {
      if (h.keyword) f.confidence = h.with_keyword;
      if (h.negative) f.confidence = shift(f.confidence, -2);
      emit(f);
    }
    return;
  }
  if (s.n_held_ == kMaxHeld) {
    ++s.stats_.held_early;
    finalise(0);
  }
  s.held_[s.n_held_++] = h;
}

void ScanEngine::candidate(const Stream::Candidate& c) noexcept {
  if (resolve(c) == Outcome::kDone) return;
  if (s.n_cand_ == kMaxPendingCandidates) {
    // Queue full: resolve the oldest with what we have (as if the stream ended there).
    ++s.stats_.candidates_dropped;
    const bool f = final;
    final = true;
    resolve(s.cand_[0]);
    final = f;
    std::memmove(s.cand_, s.cand_ + 1, sizeof(Stream::Candidate) * (kMaxPendingCandidates - 1));
    --s.n_cand_;
  }
  s.cand_[s.n_cand_++] = c;
}

void ScanEngine::retry_pending() noexcept {
  uint8_t keep = 0;
  const uint8_t n = s.n_cand_;
  Stream::Candidate tmp[kMaxPendingCandidates];
  std::memcpy(tmp, s.cand_, sizeof(Stream::Candidate) * n);
  s.n_cand_ = 0;
  for (uint8_t i = 0; i < n; ++i)
    if (resolve(tmp[i]) == Outcome::kNeedMore) tmp[keep++] = tmp[i];
  // New candidates may have been queued meanwhile (none are: resolve() does not queue).
  std::memcpy(s.cand_, tmp, sizeof(Stream::Candidate) * keep);
  s.n_cand_ = keep;
}

}  // namespace dc::inspect
