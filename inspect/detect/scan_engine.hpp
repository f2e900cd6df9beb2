#pragma once
// The scan engine: the per-call state of scan()/settle()/close() on one stream (internal to
// inspect/detect). scan_findings.cpp turns Hyperscan matches into keyword marks, candidates and
// findings; scan_extract.cpp cuts candidate tokens out of the tail buffer + segment and offers
// them to the detector table. Worker thread; every function is noexcept and allocation-free.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "inspect/detect/scanner.hpp"

namespace dc::inspect {

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

  static constexpr int kNeed = -2;            // byte not seen yet
  static constexpr int kEvicted = -3;         // byte no longer in the tail buffer
  static constexpr unsigned kMaxDigits = 19;  // ISO/IEC 7812 PAN maximum

  enum class Outcome { kDone, kNeedMore };

  // The byte at stream offset `o`: from the segment, the tail buffer, or kNeed / kNoByte /
  // kEvicted.
  [[gnu::always_inline]] int at(uint64_t o) const noexcept {
    const uint64_t i = o - base;  // wraps for bytes before the buffer
    if (i < len) [[likely]]
      return buf[i];
    if (o >= base + len) return final ? kNoByte : kNeed;
    if (base - o <= kHistory) return s.history_[o & (kHistory - 1)];
    return kEvicted;
  }
  // The byte k positions before `start`; kNoByte before the stream or the tail buffer.
  int before(uint64_t start, unsigned k) const noexcept {
    if (start < k) return kNoByte;
    int b = at(start - k);
    return b == kEvicted ? kNoByte : b;
  }

  // ---- Small helpers inlined into the hot loops ----------------------------------------
  // Keeps the last kHistory bytes of a segment in the tail buffer, indexed by stream offset.
  // Two memcpy (the ring wraps at most once): the byte loop was 1.5 % of the scanner pass.
  void remember(const uint8_t* data, size_t n) noexcept {
    const size_t k = std::min(n, kHistory);
    const uint8_t* src = data + (n - k);
    const size_t at0 = static_cast<size_t>((s.offset_ + (n - k)) & (kHistory - 1));
    const size_t first = std::min(k, kHistory - at0);
    std::memcpy(s.history_ + at0, src, first);
    std::memcpy(s.history_, src + first, k - first);
  }

  // Boundary before a token that starts at `start`.
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
    if (buf != nullptr && start >= base && end <= base + len) {  // in the segment: usual
      std::memcpy(out, buf + (start - base), static_cast<size_t>(end - start));
      *n = static_cast<size_t>(end - start);
      return true;
    }
    for (uint64_t o = start; o < end; ++o) {
      int b = at(o);
      if (b < 0) return false;
      out[o - start] = static_cast<uint8_t>(b);
    }
    *n = static_cast<size_t>(end - start);
    return true;
  }

  // ---- scan_findings.cpp: Hyperscan callback, keyword marks, findings, candidate queue ----
  static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned,
                      void* ctx) noexcept;
  void add_mark(uint64_t start, uint64_t end, uint16_t group, bool negative) noexcept;
  void context(uint16_t det, uint64_t start, uint64_t end, bool* keyword,
               bool* negative) const noexcept;
  // True when settle() already reported this detector's token starting at `start`.
  bool settled(uint16_t det, uint64_t start) const noexcept;
  void emit(const Finding& f) noexcept;
  void finalise(uint8_t i) noexcept;
  void finalise_due(bool all) noexcept;
  // Judges `token` ([start, end) in the stream) for detector `det` and reports or holds it.
  void confirm(uint16_t det, const Judge& j, uint64_t start, uint64_t end, Bytes token) noexcept;
  void candidate(const Stream::Candidate& c) noexcept;
  void retry_pending() noexcept;

  // ---- scan_extract.cpp: token extraction -----------------------------------------------
  // kDone when the candidate is settled (reported or rejected), kNeedMore when it waits for
  // bytes that have not arrived.
  Outcome resolve(const Stream::Candidate& c) noexcept;
  Outcome resolve_digits(const PatternInfo& p, uint64_t start, uint64_t end) noexcept;
  Outcome resolve_letters(const PatternInfo& p, uint64_t start, uint64_t end) noexcept;
  Outcome resolve_mixed(const PatternInfo& p, uint64_t start, uint64_t match_end) noexcept;
  Outcome resolve_fixed(const PatternInfo& p, uint64_t start, uint64_t end) noexcept;
  Outcome resolve_email(const PatternInfo& p, uint64_t end) noexcept;
  Outcome resolve_iban(const PatternInfo& p, uint64_t start) noexcept;
  Outcome resolve_coordinates(const PatternInfo& p, uint64_t end) noexcept;
  // Offers a shared-trigger token to every row of the trigger's group that accepts it.
  void offer_shared(const PatternInfo& p, uint64_t start, uint64_t end, const uint8_t* tok,
                    size_t pre, size_t n, unsigned digits) noexcept;
  void finish(uint16_t det, const Judge& j, uint64_t start, uint64_t end) noexcept;
  uint64_t lead_in(LeadIn kind, uint64_t start) const noexcept;
};

}  // namespace dc::inspect
