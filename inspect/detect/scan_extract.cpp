// Scan engine, token side: cuts a candidate's whole token out of the tail buffer + segment,
// checks its boundaries, and offers it to the detector table (the row's filter, then its judge).
// One function per extractor (how a match becomes a token), none per detector. Worker thread;
// noexcept, allocation-free.
#include "inspect/detect/scan_engine.hpp"

namespace dc::inspect {
namespace {

bool local_char(int b) noexcept {
  return is_alnum(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-';
}
bool domain_char(int b) noexcept { return is_alnum(b) || b == '.' || b == '-'; }

}  // namespace

void ScanEngine::finish(uint16_t det, const Judge& j, uint64_t start, uint64_t end) noexcept {
  uint8_t tok[320];
  size_t n = 0;
  if (!copy(start, end, tok, sizeof tok, &n)) {
    ++s.stats_.candidates_dropped;
    return;
  }
  confirm(det, j, start, end, Bytes(tok, n));
}

// Bytes before a shared token that belong to it. Returns the extended start.
uint64_t ScanEngine::lead_in(LeadIn kind, uint64_t start) const noexcept {
  if (kind != LeadIn::kCnCountryCode) return start;
  // "+86" / "0086", optionally followed by ' ' or '-' (E.164 country code 86).
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

// `tok` holds [start - pre, start + n - pre): the token and up to `pre` bytes before it, so a
// row's lead-in can be included without another copy. Most tokens (order numbers, timestamps)
// are turned away by the rows' filters without a validator call.
void ScanEngine::offer_shared(const PatternInfo& p, uint64_t start, uint64_t end,
                              const uint8_t* tok, size_t pre, size_t n, unsigned digits) noexcept {
  const Bytes token(tok + pre, n - pre);
  for (const SharedMember& m : db.shared_members(p)) {
    if (!m.filter.accepts(token, digits)) continue;
    uint64_t st = m.lead_in == LeadIn::kNone ? start : lead_in(m.lead_in, start);
    if (start - st > pre) st = start;  // lead-in bytes not in the copy
    const size_t extra = static_cast<size_t>(start - st);
    confirm(m.detector, *m.judge, st, end, Bytes(tok + pre - extra, n - pre + extra));
  }
}

// Shared digit triggers: the maximal digit run (+ 'X' after 17 digits), or digit groups of 1-6
// joined by single ' ' or '-'. The trigger's leading [^0-9] already proved the boundary before.
ScanEngine::Outcome ScanEngine::resolve_digits(const PatternInfo& p, uint64_t start,
                                               uint64_t end) noexcept {
  const bool run = p.extractor == Extractor::kDigitRun;
  uint64_t e = run ? end : start;
  unsigned digits = run ? static_cast<unsigned>(end - start) : 0;
  if (run) {
    for (;;) {
      const int b = at(e);
      if (b == kNeed) return Outcome::kNeedMore;
      if (!is_digit(b)) break;
      if (++digits > kMaxDigits) return Outcome::kDone;  // long run: no identifier
      ++e;
    }
    if (digits == 17) {  // GB 11643 check character X after 17 digits
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
  // Copy the token once, with room for a lead-in ("+86 ", "0086-") before it.
  uint8_t tok[32];
  const uint64_t pre = start >= 5 ? 5 : start;
  size_t n = 0;
  if (!copy(start - pre, e, tok, sizeof tok, &n)) {
    ++s.stats_.candidates_dropped;
    return Outcome::kDone;
  }
  offer_shared(p, start, e, tok, static_cast<size_t>(pre), n, digits);
  return Outcome::kDone;
}

// Shared letter triggers: letters + 6-10 digits + an optional HKID check character.
ScanEngine::Outcome ScanEngine::resolve_letters(const PatternInfo& p, uint64_t start,
                                                uint64_t end) noexcept {
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
  offer_shared(p, start, e, tok, 0, n, digits);
  return Outcome::kDone;
}

// `length` alphanumerics after a token start that are not all digits (USCC with a letter).
// The pattern matched [start, match_end); bytes up to start + length are read on.
ScanEngine::Outcome ScanEngine::resolve_mixed(const PatternInfo& p, uint64_t start,
                                              uint64_t match_end) noexcept {
  if (!before_ok(Boundary::kAlnum, start)) return Outcome::kDone;
  const uint64_t end = start + p.length;
  for (uint64_t o = match_end; o < end; ++o) {
    const int b = at(o);
    if (b == kNeed) return Outcome::kNeedMore;
    if (!(is_digit(b) || is_upper(b))) return Outcome::kDone;
  }
  bool all_digits = true;
  for (uint64_t o = start; o < end && all_digits; ++o) all_digits = is_digit(at(o));
  if (all_digits) return Outcome::kDone;  // the digit-run trigger offers those
  bool ok = false;
  if (after_ok(Boundary::kAlnum, end, &ok) == Outcome::kNeedMore) return Outcome::kNeedMore;
  if (ok) finish(p.detector, *p.judge, start, end);
  return Outcome::kDone;
}

// Fixed-length built-in patterns and custom (SOM) patterns: the match is the token.
ScanEngine::Outcome ScanEngine::resolve_fixed(const PatternInfo& p, uint64_t start,
                                              uint64_t end) noexcept {
  if (!before_ok(p.boundary, start)) return Outcome::kDone;
  bool ok = false;
  if (after_ok(p.boundary, end, &ok) == Outcome::kNeedMore) return Outcome::kNeedMore;
  if (ok) finish(p.detector, *p.judge, start, end);
  return Outcome::kDone;
}

// Trigger "x@y" = [end-3, end): local part backwards (RFC 5321: <= 64 octets), domain forwards
// (<= 253 octets).
ScanEngine::Outcome ScanEngine::resolve_email(const PatternInfo& p, uint64_t end) noexcept {
  const uint64_t at_pos = end - 2;
  uint64_t ls = at_pos;
  while (ls > 0 && at_pos - ls < 65 && local_char(before(ls, 1))) --ls;
  if (at_pos - ls > 64) return Outcome::kDone;
  uint64_t de = at_pos + 1;
  for (;;) {
    const int b = at(de);
    if (b == kNeed) return Outcome::kNeedMore;
    if (!domain_char(b) || de - at_pos > 253) break;
    ++de;
  }
  while (de > at_pos + 1 && (at(de - 1) == '.' || at(de - 1) == '-')) --de;  // "a@b.com."
  finish(p.detector, *p.judge, ls, de);
  return Outcome::kDone;
}

// Trigger "CCkk[ ]XXXX": read the country's fixed length (pattern length 9 = grouped by 4).
ScanEngine::Outcome ScanEngine::resolve_iban(const PatternInfo& p, uint64_t start) noexcept {
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
  if (ok) finish(p.detector, *p.judge, start, pos);
  return Outcome::kDone;
}

// The match ends 4 decimals into the second number: take the rest of its decimals, then walk
// back over "decimals '.' int ' '* ',' ' '* decimals '.' int".
ScanEngine::Outcome ScanEngine::resolve_coordinates(const PatternInfo& p, uint64_t end) noexcept {
  uint64_t e = end;
  for (;;) {
    const int b = at(e);
    if (b == kNeed) return Outcome::kNeedMore;
    if (!is_digit(b)) break;
    if (e - end > 6) return Outcome::kDone;
    ++e;
  }
  if (at(e) == '.') return Outcome::kDone;  // "1.2.3.4"-like
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
  finish(p.detector, *p.judge, i, e);
  return Outcome::kDone;
}

ScanEngine::Outcome ScanEngine::resolve(const Stream::Candidate& c) noexcept {
  const PatternInfo& p = db.pattern(c.pattern);
  switch (p.extractor) {
    case Extractor::kDigitRun:
    case Extractor::kDigitGroups:
      return resolve_digits(p, c.start, c.end);
    case Extractor::kLetterToken:
      return resolve_letters(p, c.start, c.end);
    case Extractor::kMixedToken:
      return resolve_mixed(p, c.start, c.end);
    case Extractor::kFixed:
    case Extractor::kSom:
      return resolve_fixed(p, c.start, c.end);
    case Extractor::kEmail:
      return resolve_email(p, c.end);
    case Extractor::kIban:
      return resolve_iban(p, c.start);
    case Extractor::kCoordinates:
      return resolve_coordinates(p, c.end);
  }
  return Outcome::kDone;
}

}  // namespace dc::inspect
