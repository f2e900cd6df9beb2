#include "inspect/detect/scanner.hpp"

#include <algorithm>
#include <cstring>

namespace dc::inspect {

// ---- Scratch / pool (control plane) ----------------------------------------------------------

Result<Scratch> Scratch::create(std::shared_ptr<const DetectorDb> db) {
  if (!db || !db->hs()) return make_error("scratch: no database");
  hs_scratch_t* raw = nullptr;
  if (hs_alloc_scratch(db->hs(), &raw) != HS_SUCCESS) return make_error("hs_alloc_scratch failed");
  Scratch s;
  s.scratch_.reset(raw);
  // settle() needs a spare stream only when a pattern can have end-of-data matches: custom
  // patterns ("$", "\b"). Built-in triggers and literal keywords have none.
  bool som = false;
  for (size_t i = 0; i < db->pattern_count() && !som; ++i)
    som = db->pattern(static_cast<unsigned>(i)).extractor == Extractor::kSom;
  if (som) {
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

// ---- The scan engine (fast path) -------------------------------------------------------------

struct ScanEngine {
  Stream& s;
  const DetectorDb& db;
  FindingSink& sink;
  CivilDate today;
  const uint8_t* buf = nullptr;
  size_t len = 0;
  uint64_t base = 0;      // stream offset of buf[0]; history_ holds [base - kHistory, base)
  bool final = false;     // no more bytes will come (close), or treated so (settle)
  bool settling = false;  // inside settle(): report now, remember what was reported

  static constexpr int kNeed = -2;     // byte not seen yet
  static constexpr int kEvicted = -3;  // byte no longer in the tail buffer

  enum class Outcome { kDone, kNeedMore };

  [[gnu::always_inline]] int at(uint64_t o) const noexcept {
    const uint64_t i = o - base;  // wraps for bytes before the buffer
    if (i < len) [[likely]]
      return buf[i];
    if (o >= base + len) return final ? kNoByte : kNeed;
    if (base - o <= kHistory) return s.history_[o & (kHistory - 1)];
    return kEvicted;
  }
  int before(uint64_t start, unsigned k) const noexcept {
    if (start < k) return kNoByte;
    int b = at(start - k);
    return b == kEvicted ? kNoByte : b;
  }
  static bool gbk_lead(int b) noexcept { return b >= 0x81 && b <= 0xFE; }

  // -- keyword marks --
  void add_mark(uint64_t start, uint64_t end, uint16_t group, bool negative) noexcept {
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
      if (db.in_group(group, det) && start >= h.end &&
          start - h.end <= db.detector(det).proximity) {
        h.keyword = true;
        finalise(i);  // its confidence cannot rise further: emit now
      } else {
        ++i;
      }
    }
  }

  void context(uint16_t det, uint64_t start, uint64_t end, bool* keyword,
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

  // -- findings --
  static uint64_t settled_key(uint16_t det, uint64_t start) noexcept { return start << 16 | det; }
  // True when settle() already reported this detector's token starting at `start`.
  bool settled(uint16_t det, uint64_t start) const noexcept {
    const uint64_t k = settled_key(det, start);
    for (uint8_t i = 0; i < s.n_settled_; ++i)
      if (s.settled_[i] == k) return true;
    return false;
  }

  void emit(const Finding& f) noexcept {
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

  void finalise(uint8_t i) noexcept {
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

  void finalise_due(bool all) noexcept {
    for (uint8_t i = 0; i < s.n_held_;) {
      if (all || s.offset_ >= s.held_[i].end + s.window_)
        finalise(i);
      else
        ++i;
    }
  }

  void confirm(uint16_t det, Validator v, uint64_t start, uint64_t end, Bytes token) noexcept {
    if (s.n_settled_ && settled(det, start)) return;  // reported by settle() already
    Evaluation ev;
    evaluate(v, token, today, &ev);
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

  // -- token extraction --

  // Boundary before a token that starts at `start` with byte `first`.
  bool before_ok(Boundary b, uint64_t start) const noexcept {
    const int p1 = before(start, 1);
    switch (b) {
      case Boundary::kNone:
        return true;
      case Boundary::kDigits:
        return !is_digit(p1);
      case Boundary::kAlnum:
        return alnum_boundary_ok(before(start, 2), p1, kNoByte);
      case Boundary::kToken: {
        const int first = at(start);
        if (!is_alnum(first)) return true;
        return alnum_boundary_ok(before(start, 2), p1, kNoByte);
      }
    }
    return true;
  }

  // Returns kNeedMore, or kDone with *ok telling whether the byte(s) after `end` end the token.
  Outcome after_ok(Boundary b, uint64_t end, bool* ok) const noexcept {
    const int a = at(end);
    if (a == kNeed) return Outcome::kNeedMore;
    switch (b) {
      case Boundary::kNone:
        *ok = true;
        break;
      case Boundary::kDigits:
        *ok = !is_digit(a);
        break;
      case Boundary::kAlnum:
        *ok = !is_alnum(a);
        break;
      case Boundary::kToken:
        *ok = !(is_alnum(at(end - 1)) && is_alnum(a));
        break;
    }
    return Outcome::kDone;
  }

  // Copies [start, end) out of history + buffer. False if a byte is unavailable.
  bool copy(uint64_t start, uint64_t end, uint8_t* out, size_t cap, size_t* n) const noexcept {
    if (end - start > cap) return false;
    for (uint64_t o = start; o < end; ++o) {
      int b = at(o);
      if (b < 0) return false;
      out[o - start] = static_cast<uint8_t>(b);
    }
    *n = static_cast<size_t>(end - start);
    return true;
  }

  void finish(uint16_t det, Validator v, uint64_t start, uint64_t end) noexcept {
    uint8_t tok[320];
    size_t n = 0;
    if (!copy(start, end, tok, sizeof tok, &n)) {
      ++s.stats_.candidates_dropped;
      return;
    }
    confirm(det, v, start, end, Bytes(tok, n));
  }

  static constexpr unsigned kMaxDigits = 19;  // ISO/IEC 7812 PAN maximum

  // "+86" / "0086", optionally followed by ' ' or '-', belong to a mobile number (E.164 country
  // code 86). Returns the extended start.
  uint64_t mobile_prefix(uint64_t start) const noexcept {
    auto is = [&](unsigned back, const char* lit) {
      for (unsigned k = 0; lit[k]; ++k)
        if (before(start, back - k) != static_cast<uint8_t>(lit[k])) return false;
      return true;
    };
    const int p1 = before(start, 1);
    const unsigned sep = (p1 == ' ' || p1 == '-') ? 1 : 0;
    if (is(3 + sep, "+86")) return start - (3 + sep);
    if (is(4 + sep, "0086")) return start - (4 + sep);
    // "+8613800138000" arrives as one 13-digit run: the '+' makes it international.
    if (p1 == '+' && at(start) == '8' && at(start + 1) == '6') return start - 1;
    return start;
  }

  static bool local_char(int b) noexcept {
    return is_alnum(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-';
  }
  static bool domain_char(int b) noexcept { return is_alnum(b) || b == '.' || b == '-'; }

  Outcome resolve(const Stream::Candidate& c) noexcept {
    const PatternInfo& p = db.pattern(c.pattern);
    uint64_t start = c.start, end = c.end;
    switch (p.extractor) {
      case Extractor::kDigitRun:
      case Extractor::kDigitGroups: {
        // The trigger's leading [^0-9] already proved the boundary before `start`.
        uint64_t e = p.extractor == Extractor::kDigitRun ? end : start;
        unsigned digits = 0;
        if (p.extractor == Extractor::kDigitRun) {
          digits = static_cast<unsigned>(end - start);
          for (;;) {
            const int b = at(e);
            if (b == kNeed) return Outcome::kNeedMore;
            if (!is_digit(b)) break;
            if (++digits > kMaxDigits) return Outcome::kDone;  // long run: no identifier
            ++e;
          }
          // GB 11643 check character X after 17 digits.
          if (digits == 17) {
            const int b = at(e);
            if (b == 'X' || b == 'x') {
              const int b2 = at(e + 1);
              if (b2 == kNeed) return Outcome::kNeedMore;
              if (is_digit(b2)) return Outcome::kDone;  // "…002X7": not a token
              ++e;
            }
          }
        } else {
          // Fires at every group start; only the first group of a token counts.
          const int p1 = before(start, 1);
          if ((p1 == ' ' || p1 == '-') && is_digit(before(start, 2))) return Outcome::kDone;
          // Groups of 1-6 digits joined by single ' ' or '-'.
          unsigned group = 0;
          for (;;) {
            const int b = at(e);
            if (b == kNeed) return Outcome::kNeedMore;
            if (is_digit(b)) {
              if (++group > 6 || ++digits > kMaxDigits) return Outcome::kDone;
              ++e;
              continue;
            }
            if ((b == ' ' || b == '-') && group > 0) {
              const int b2 = at(e + 1);
              if (b2 == kNeed) return Outcome::kNeedMore;
              if (is_digit(b2)) {
                group = 0;
                e += 1;
                continue;
              }
            }
            break;
          }
        }
        // Copy the token once (with room for a +86/0086 prefix), then offer it to each digit
        // detector whose length/prefix rules it can meet; most runs (order numbers,
        // timestamps) are turned away here without a validator call.
        uint8_t tok[32];
        const uint64_t pre = start >= 5 ? 5 : start;
        size_t n = 0;
        if (!copy(start - pre, e, tok, sizeof tok, &n)) {
          ++s.stats_.candidates_dropped;
          return Outcome::kDone;
        }
        const Bytes token(tok + pre, n - pre);
        const uint8_t d0 = token[0], d1 = token.size() > 1 ? token[1] : 0;
        for (uint16_t det : db.group(p.group)) {
          const Validator v = db.detector(det).digits;
          bool plausible = false;
          switch (v) {
            case Validator::kResidentId:
              plausible = token.size() == 18 && digits >= 17;
              break;
            case Validator::kUscc:
              plausible = token.size() == 18 && digits == 18;
              break;
            case Validator::kUnionPay:
              plausible = digits >= 16 && d0 == '6' && d1 == '2';
              break;
            case Validator::kPaymentCard:
              plausible = digits >= 13 && d0 >= '2' && d0 <= '6';
              break;
            case Validator::kMobile:
              plausible = digits == 11 || digits == 13 || digits == 15;
              break;
            case Validator::kSsn:
              plausible = digits == 9 && token.size() == 11;
              break;
            default:
              plausible = true;
          }
          if (!plausible) continue;
          if (v == Validator::kMobile) {
            const uint64_t st = mobile_prefix(start);
            confirm(det, v, st, e, Bytes(tok + pre - (start - st), n - pre + (start - st)));
          } else {
            confirm(det, v, start, e, token);
          }
        }
        return Outcome::kDone;
      }
      case Extractor::kLetterToken: {
        if (!before_ok(Boundary::kAlnum, start)) return Outcome::kDone;
        unsigned digits = 6;
        uint64_t e = end;
        for (;;) {
          const int b = at(e);
          if (b == kNeed) return Outcome::kNeedMore;
          if (!is_digit(b)) break;
          if (++digits > 10) return Outcome::kDone;
          ++e;
        }
        // HKID check character: "(3)", "(A)", or a bare 'A' after exactly 6 digits.
        const int b = at(e);
        if (b == '(') {
          const int c = at(e + 1), close = at(e + 2);
          if (c == kNeed || close == kNeed) return Outcome::kNeedMore;
          if ((is_digit(c) || c == 'A') && close == ')') e += 3;
        } else if (b == 'A' && digits == 6) {
          ++e;
        }
        bool ok = false;
        if (after_ok(Boundary::kAlnum, e, &ok) == Outcome::kNeedMore) return Outcome::kNeedMore;
        if (!ok) return Outcome::kDone;
        uint8_t tok[24];
        size_t n = 0;
        if (!copy(start, e, tok, sizeof tok, &n)) return Outcome::kDone;
        for (uint16_t det : db.group(p.group)) {
          const Validator v = db.detector(det).letters;
          bool plausible = true;
          switch (v) {
            case Validator::kPassport:
            case Validator::kTwPermit:
              plausible = n == 9;
              break;
            case Validator::kHkmoPermit:
              plausible = n == 9 || n == 11;
              break;
            case Validator::kTwId:
              plausible = n == 10;
              break;
            case Validator::kHkid:
              plausible = n >= 8 && n <= 11;
              break;
            default:
              break;
          }
          if (plausible) confirm(det, v, start, e, Bytes(tok, n));
        }
        return Outcome::kDone;
      }
      case Extractor::kUsccToken: {
        if (!before_ok(Boundary::kAlnum, start)) return Outcome::kDone;
        bool all_digits = true;
        for (uint64_t o = end; o < start + 18; ++o) {
          const int b = at(o);
          if (b == kNeed) return Outcome::kNeedMore;
          if (!(is_digit(b) || is_upper(b))) return Outcome::kDone;
        }
        for (uint64_t o = start; o < start + 18 && all_digits; ++o) all_digits = is_digit(at(o));
        if (all_digits) return Outcome::kDone;  // the digit-run trigger offers those
        bool ok = false;
        if (after_ok(Boundary::kAlnum, start + 18, &ok) == Outcome::kNeedMore)
          return Outcome::kNeedMore;
        if (ok) finish(p.detector, p.validator, start, start + 18);
        return Outcome::kDone;
      }
      case Extractor::kFixed:
      case Extractor::kSom: {
        if (!before_ok(p.boundary, start)) return Outcome::kDone;
        bool ok = false;
        if (after_ok(p.boundary, end, &ok) == Outcome::kNeedMore) return Outcome::kNeedMore;
        if (ok) finish(p.detector, p.validator, start, end);
        return Outcome::kDone;
      }
      case Extractor::kEmail: {
        // Trigger "x@y" = [end-3, end). Local part backwards (RFC 5321: <= 64 octets).
        const uint64_t at_pos = end - 2;
        uint64_t ls = at_pos;
        while (ls > 0 && at_pos - ls < 65 && local_char(before(ls, 1))) --ls;
        if (at_pos - ls > 64) return Outcome::kDone;
        // Domain forwards (<= 253 octets).
        uint64_t de = at_pos + 1;
        for (;;) {
          const int b = at(de);
          if (b == kNeed) return Outcome::kNeedMore;
          if (!domain_char(b) || de - at_pos > 253) break;
          ++de;
        }
        while (de > at_pos + 1 && (at(de - 1) == '.' || at(de - 1) == '-')) --de;  // "a@b.com."
        finish(p.detector, p.validator, ls, de);
        return Outcome::kDone;
      }
      case Extractor::kIban: {
        if (!before_ok(p.boundary, start)) return Outcome::kDone;
        const int c0 = at(start), c1 = at(start + 1);
        if (c0 < 0 || c1 < 0) return Outcome::kDone;
        const unsigned want = iban_length(static_cast<uint8_t>(c0), static_cast<uint8_t>(c1));
        if (want == 0) return Outcome::kDone;
        const bool grouped = p.length == 9;
        uint64_t pos = start;
        for (unsigned count = 0; count < want;) {
          if (grouped && count > 0 && count % 4 == 0) {
            const int sp = at(pos);
            if (sp == kNeed) return Outcome::kNeedMore;
            if (sp != ' ') return Outcome::kDone;
            ++pos;
          }
          const int b = at(pos);
          if (b == kNeed) return Outcome::kNeedMore;
          if (!(is_upper(b) || is_digit(b))) return Outcome::kDone;
          ++count;
          ++pos;
        }
        bool ok = false;
        if (after_ok(Boundary::kAlnum, pos, &ok) == Outcome::kNeedMore) return Outcome::kNeedMore;
        if (ok) finish(p.detector, p.validator, start, pos);
        return Outcome::kDone;
      }
      case Extractor::kCoordinates: {
        // The match ends 4 decimals into the second number: take the rest of its decimals.
        uint64_t e = end;
        for (;;) {
          const int b = at(e);
          if (b == kNeed) return Outcome::kNeedMore;
          if (!is_digit(b)) break;
          if (e - end > 6) return Outcome::kDone;
          ++e;
        }
        if (at(e) == '.') return Outcome::kDone;  // "1.2.3.4"-like
        // Walk back: decimals '.' int ' '* ',' ' '* decimals '.' int.
        uint64_t i = end;
        auto back_digits = [&](unsigned min, unsigned max) {
          unsigned k = 0;
          while (k <= max && is_digit(before(i, 1))) --i, ++k;
          return k >= min && k <= max;
        };
        auto back_char = [&](int ch) {
          if (before(i, 1) != ch) return false;
          --i;
          return true;
        };
        auto back_spaces = [&] {
          for (int k = 0; k < 2 && before(i, 1) == ' '; ++k) --i;
        };
        if (!back_digits(4, 4) || !back_char('.') || !back_digits(1, 3)) return Outcome::kDone;
        back_spaces();
        if (!back_char(',')) return Outcome::kDone;
        back_spaces();
        if (!back_digits(4, 10) || !back_char('.') || !back_digits(1, 3)) return Outcome::kDone;
        const int pb = before(i, 1);
        if (is_digit(pb) || pb == '.' || pb == '-') return Outcome::kDone;
        finish(p.detector, p.validator, i, e);
        return Outcome::kDone;
      }
    }
    return Outcome::kDone;
  }

  void candidate(const Stream::Candidate& c) noexcept {
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

  void retry_pending() noexcept {
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

  static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned,
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

  void remember(const uint8_t* data, size_t n) noexcept {
    // Keep the last kHistory bytes, indexed by stream offset.
    const size_t k = std::min(n, kHistory);
    const uint8_t* src = data + (n - k);
    uint64_t o = s.offset_ + (n - k);
    for (size_t i = 0; i < k; ++i, ++o) s.history_[o & (kHistory - 1)] = src[i];
  }
};

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
