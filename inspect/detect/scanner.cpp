// Streaming scanner entry points: Scratch and StreamPool set-up (control plane), and
// scan()/settle()/close() per segment (worker; noexcept, allocation-free), scan_buffer().
#include "inspect/detect/scanner.hpp"

#include <algorithm>
#include <cstring>

#include "inspect/detect/scan_engine.hpp"

namespace dc::inspect {

// ---- Scratch / pool (control plane) ----------------------------------------------------------

Result<Scratch> Scratch::create(std::shared_ptr<const DetectorDb> db) {
  if (!db || !db->hs()) return make_error("scratch: no database");
  hs_scratch_t* raw = nullptr;
  if (hs_alloc_scratch(db->hs(), &raw) != HS_SUCCESS) return make_error("hs_alloc_scratch failed");
  Scratch s;
  s.scratch_.reset(raw);
  // settle() needs a spare stream only when a pattern can have end-of-data matches: custom
  // patterns with "$" or a trailing "\b" (DetectorDb::eod_matches()). Built-in triggers,
  // keywords, literal words and most custom regexes have none: their settle() skips the copy.
  if (db->eod_matches()) {
    hs_stream_t* probe = nullptr;
    if (hs_open_stream(db->hs(), 0, &probe) != HS_SUCCESS)
      return make_error("hs_open_stream failed");
    s.probe_.reset(probe);
  }
  s.db_ = std::move(db);
  return s;
}

void Stream::reset() noexcept {
  offset_ = 0;
  open_ = true;
  n_cand_ = n_marks_ = next_mark_ = n_held_ = n_settled_ = 0;
  stats_ = StreamStats{};
}

Result<std::unique_ptr<StreamPool>> StreamPool::create(std::shared_ptr<const DetectorDb> db,
                                                       size_t capacity, StreamOptions options) {
  if (!db || !db->hs()) return make_error("stream pool: no database");
  if (capacity == 0) return make_error("stream pool: capacity must be > 0");
  std::unique_ptr<StreamPool> pool(new StreamPool());
  pool->db_ = std::move(db);
  pool->window_ = options.forward_window < 0 ? pool->db_->max_proximity()
                                             : static_cast<uint64_t>(options.forward_window);
  pool->streams_ = std::vector<Stream>(capacity);
  pool->free_.reserve(capacity);
  // hs_open_stream allocates: do it all here, at start-up, never on the fast path.
  for (size_t i = capacity; i-- > 0;) {
    Stream& s = pool->streams_[i];
    hs_stream_t* raw = nullptr;
    if (hs_open_stream(pool->db_->hs(), 0, &raw) != HS_SUCCESS)
      return make_error("hs_open_stream failed after " + std::to_string(capacity - 1 - i) +
                        " streams");
    s.hs_.reset(raw);
    s.db_ = pool->db_.get();
    s.window_ = pool->window_;
    pool->free_.push_back(&s);
  }
  return pool;
}

Stream* StreamPool::acquire() noexcept {
  if (free_.empty()) {
    ++exhausted_;
    return nullptr;
  }
  Stream* s = free_.back();
  free_.pop_back();
  s->reset();
  return s;
}

void StreamPool::release(Stream* s) noexcept {
  if (!s) return;
  // A stream released without close() still has Hyperscan state: reset it, discard matches.
  if (s->open_) hs_reset_stream(s->hs_.get(), 0, nullptr, nullptr, nullptr);
  s->reset();
  free_.push_back(s);
}

// ---- Per-call entry points (fast path; the engine is in scan_findings.cpp, scan_extract.cpp) --

ScanStatus scan(Stream& s, Scratch& scratch, std::span<const uint8_t> bytes,
                FindingSink& sink) noexcept {
  if (!s.open_) return ScanStatus::kClosed;
  if (scratch.db() != s.db_) return ScanStatus::kScratchMismatch;
  ScanEngine e{s, *s.db_, sink, scratch.today()};
  ScanStatus status = ScanStatus::kOk;
  // Hyperscan takes unsigned lengths; feed very large spans in pieces.
  size_t done = 0;
  while (done < bytes.size()) {
    const size_t n = std::min<size_t>(bytes.size() - done, 1u << 30);
    e.buf = bytes.data() + done;
    e.len = n;
    e.base = s.offset_;
    if (s.n_cand_) e.retry_pending();  // candidates that waited for these bytes
    if (hs_scan_stream(s.hs_.get(), reinterpret_cast<const char*>(e.buf), static_cast<unsigned>(n),
                       0, scratch.get(), &ScanEngine::on_match, &e) != HS_SUCCESS)
      status = ScanStatus::kScanError;
    e.remember(e.buf, n);
    s.offset_ += n;
    s.stats_.bytes += n;
    done += n;
    // A candidate whose bytes are leaving the tail buffer can never be completed.
    e.buf = nullptr;
    e.len = 0;
    e.base = s.offset_;
    for (uint8_t i = 0; i < s.n_cand_;) {
      if (s.offset_ - s.cand_[i].start >= kHistory) {
        ++s.stats_.candidates_dropped;
        std::memmove(s.cand_ + i, s.cand_ + i + 1, sizeof(Stream::Candidate) * (s.n_cand_ - i - 1));
        --s.n_cand_;
      } else {
        ++i;
      }
    }
    // settle()d tokens whose start has left the tail buffer cannot be cut out again.
    for (uint8_t i = 0; i < s.n_settled_;) {
      if (s.offset_ - (s.settled_[i] >> 16) > kHistory) {
        std::memmove(s.settled_ + i, s.settled_ + i + 1, sizeof(uint64_t) * (s.n_settled_ - i - 1));
        --s.n_settled_;
      } else {
        ++i;
      }
    }
    e.finalise_due(false);
    if (status != ScanStatus::kOk) break;
  }
  return status;
}

ScanStatus settle(Stream& s, Scratch& scratch, FindingSink& sink) noexcept {
  if (!s.open_) return ScanStatus::kClosed;
  if (scratch.db() != s.db_) return ScanStatus::kScratchMismatch;
  if (s.n_cand_ == 0 && s.n_held_ == 0 && !scratch.probe_) return ScanStatus::kOk;  // idle
  ScanEngine e{s, *s.db_, sink, scratch.today()};
  e.base = s.offset_;
  e.final = true;  // "the bytes seen so far" end here
  e.settling = true;
  // Resolve each pending candidate as close() would, but leave the queue untouched: the real
  // following bytes resolve it again later, and emit()'s settled_ record suppresses a repeat.
  // Under `final` resolve() never asks for more bytes, so nothing is queued here.
  const uint64_t dropped = s.stats_.candidates_dropped;  // counted when really resolved
  for (uint8_t i = 0; i < s.n_cand_; ++i) e.resolve(s.cand_[i]);
  ScanStatus status = ScanStatus::kOk;
  if (scratch.probe_) {
    // End-of-data matches, on a copy: the flow's own Hyperscan stream keeps going.
    if (hs_reset_and_copy_stream(scratch.probe_.get(), s.hs_.get(), nullptr, nullptr, nullptr) !=
            HS_SUCCESS ||
        hs_reset_stream(scratch.probe_.get(), 0, scratch.get(), &ScanEngine::on_match, &e) !=
            HS_SUCCESS)
      status = ScanStatus::kScanError;
  }
  s.stats_.candidates_dropped = dropped;
  // Held findings: emit what close() would emit; keyword-required ones without a keyword would
  // be dropped by close() but may still get a forward keyword: they stay held.
  for (uint8_t i = 0; i < s.n_held_;) {
    if (s.held_[i].keyword_required && !s.held_[i].keyword)
      ++i;
    else
      e.finalise(i);
  }
  return status;
}

ScanStatus close(Stream& s, Scratch& scratch, FindingSink& sink) noexcept {
  if (!s.open_) return ScanStatus::kClosed;
  if (scratch.db() != s.db_) return ScanStatus::kScratchMismatch;
  ScanEngine e{s, *s.db_, sink, scratch.today()};
  e.base = s.offset_;
  e.final = true;
  // End-of-data matches ($-anchored custom patterns) are reported by the reset.
  ScanStatus status = ScanStatus::kOk;
  if (hs_reset_stream(s.hs_.get(), 0, scratch.get(), &ScanEngine::on_match, &e) != HS_SUCCESS)
    status = ScanStatus::kScanError;
  e.retry_pending();
  s.n_cand_ = 0;
  e.finalise_due(true);
  s.open_ = false;
  return status;
}

Result<size_t> scan_buffer(std::shared_ptr<const DetectorDb> db, std::span<const uint8_t> bytes,
                           FindingSink& sink, CivilDate today) {
  auto scratch = Scratch::create(db);
  if (!scratch) return scratch.error();
  scratch->set_today(today);
  auto pool = StreamPool::create(db, 1);
  if (!pool) return pool.error();
  Stream* s = (*pool)->acquire();
  ScanStatus st = scan(*s, *scratch, bytes, sink);
  ScanStatus st2 = close(*s, *scratch, sink);
  const size_t n = s->stats().findings;
  (*pool)->release(s);
  if (st != ScanStatus::kOk || st2 != ScanStatus::kOk) return make_error("hyperscan scan error");
  return n;
}

}  // namespace dc::inspect
